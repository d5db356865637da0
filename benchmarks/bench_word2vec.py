"""crossent word2vec vs gensim Word2Vec on the same corpus and settings, in one run.

Both train skip-gram (word2vec.c defaults: dim 100, window 5, min-count 5, sample 1e-3,
5 epochs, alpha 0.025) on the bundled WikiText-2 text. Measured:

- whole-process wall time, from process start to vectors on disk, for ``ns`` and ``hs``
  with 2 threads, and the 1→2 thread scaling of each (our numba kernels are compiled and
  cached by a warm-up run first, as gensim's Cython is compiled at install time);
- WordSim-353 Spearman and analogy accuracy of both vector files, scored by the same code.

(gensim has no full-softmax objective; ``--loss softmax`` is measured by
``bench_softmax.py``, and against ``ns``/``hs`` by ``bench_objectives.py``.)

Needs gensim (``pip install -e .[bench]``). Run: .venv/bin/python benchmarks/bench_word2vec.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crossent.word2vec import KeyedVectors
from crossent.word2vec.data import data_file

CORPUS = [data_file("wikitext2-valid.txt"), data_file("wikitext2-test.txt")]
GENSIM = """
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
class Corpus:
    def __iter__(self):
        for path in sys.argv[4:]:
            yield from LineSentence(path)
hs = sys.argv[1] == "hs"
model = Word2Vec(Corpus(), vector_size=100, window=5, min_count=5, sample=1e-3, sg=1,
                 hs=int(hs), negative=0 if hs else 5, workers=int(sys.argv[2]), epochs=5,
                 alpha=0.025, seed=1)
model.wv.save_word2vec_format(sys.argv[3], binary=True)
"""


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def ours(loss: str, threads: int, out: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "crossent",
        "train",
        *map(str, CORPUS),
        "--out",
        str(out),
        "--loss",
        loss,
        "--threads",
        str(threads),
        "--json",
    ]
    elapsed = _timed(cmd)
    assert out.stat().st_size > 0, "no vectors written"
    return elapsed


def gensim(loss: str, threads: int, out: Path) -> float:
    return _timed([sys.executable, "-c", GENSIM, loss, str(threads), str(out), *map(str, CORPUS)])


def scores(path: Path) -> tuple[float, float]:
    kv = KeyedVectors.load(path)
    sim = kv.evaluate_word_pairs(data_file("wordsim353.tsv"))["spearman"]
    ana = kv.evaluate_word_analogies(data_file("questions-words.txt"))["accuracy"]
    return sim, ana


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    ours("ns", 1, tmp / "warm.bin")  # compile and cache the numba kernels
    ours("hs", 1, tmp / "warm.bin")
    print(f"{'objective':10s} {'threads':>7s} {'ours s':>8s} {'gensim s':>8s} {'ratio':>6s}")
    results = {}
    for loss in ("ns", "hs"):
        for threads in (1, 2):
            t_ours = ours(loss, threads, tmp / f"ours-{loss}-{threads}.bin")
            t_gensim = gensim(loss, threads, tmp / f"gensim-{loss}-{threads}.bin")
            results[(loss, threads)] = (t_ours, t_gensim)
            print(
                f"{loss:10s} {threads:7d} {t_ours:8.2f} {t_gensim:8.2f} {t_ours / t_gensim:6.2f}",
                flush=True,
            )
        o1, g1 = results[(loss, 1)]
        o2, g2 = results[(loss, 2)]
        print(f"{loss:10s} scaling 1→2 threads: ours {o1 / o2:.2f}x, gensim {g1 / g2:.2f}x")
    print(f"\n{'vectors (2 threads)':22s} {'WS353 Spearman':>15s} {'analogy acc':>12s}")
    for loss in ("ns", "hs"):
        for who in ("ours", "gensim"):
            sim, ana = scores(tmp / f"{who}-{loss}-2.bin")
            print(f"{who + ' ' + loss:22s} {sim:15.4f} {ana:12.2%}")
    print(json.dumps({f"{k[0]}-{k[1]}": v for k, v in results.items()}))


if __name__ == "__main__":
    main()
