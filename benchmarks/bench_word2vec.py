"""crossent word2vec vs gensim Word2Vec on the same corpus and settings, in one run.

Both train skip-gram, then CBOW (word2vec.c defaults: dim 100, window 5, min-count 5,
sample 1e-3, 5 epochs, alpha 0.025) on the bundled WikiText-2 text. Measured:

- whole-process wall time, from process start to vectors on disk, for ``ns`` and ``hs``
  with 2 threads, and the 1→2 thread scaling of each (our numba kernels are compiled and
  cached by a warm-up run first, as gensim's Cython is compiled at install time);
- WordSim-353 Spearman and analogy accuracy of both vector files, scored by the same code;
- CBOW (``--model cbow``, gensim ``sg=0``), ns and hs, 2 threads, on the bundled text
  repeated to over a million words: whole-process time and the same two scores
  (``--cbow-only`` runs just these rows);

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
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.vectors.intrinsic import analogy_report, word_pairs_report

CORPUS = [data_file("wikitext2-valid.txt"), data_file("wikitext2-test.txt")]
GENSIM = """
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
class Corpus:
    def __iter__(self):
        for path in sys.argv[4:]:
            yield from LineSentence(path)
hs = sys.argv[1].endswith("hs")
sg = int(not sys.argv[1].startswith("cbow"))
model = Word2Vec(Corpus(), vector_size=100, window=5, min_count=5, sample=1e-3, sg=sg,
                 hs=int(hs), negative=0 if hs else 5, workers=int(sys.argv[2]), epochs=5,
                 alpha=0.025, seed=1)
model.wv.save_word2vec_format(sys.argv[3], binary=True)
"""


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def ours(loss: str, threads: int, out: Path, corpus: list[Path] = CORPUS) -> float:
    """``loss`` is ns or hs (skip-gram), cbow-ns or cbow-hs."""
    model, _, loss = loss.rpartition("-")
    cmd = [
        sys.executable,
        "-m",
        "crossent",
        "train",
        *map(str, corpus),
        "--model",
        "cbow" if model else "skipgram",
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


def gensim(loss: str, threads: int, out: Path, corpus: list[Path] = CORPUS) -> float:
    return _timed([sys.executable, "-c", GENSIM, loss, str(threads), str(out), *map(str, corpus)])


def big_corpus(folder: Path, words: int = 1_000_000) -> list[Path]:
    """The bundled WikiText-2 text repeated to at least ``words`` words, in one file."""
    text = "".join(p.read_text(encoding="utf-8") for p in CORPUS)
    copies = -(-words // len(text.split()))
    path = folder / "wikitext2-repeated.txt"
    path.write_text(text * copies, encoding="utf-8")
    return [path]


def cbow_rows(tmp: Path) -> None:
    """CBOW (word2vec.c's default model) vs gensim sg=0, 2 threads, on ≥1M words."""
    corpus = big_corpus(tmp)
    n_words = len(corpus[0].read_text(encoding="utf-8").split())
    ours("cbow-ns", 1, tmp / "warm.bin", corpus)  # compile and cache the CBOW kernel
    print(f"\nCBOW on {n_words:,} words (WikiText-2 repeated), 2 threads, whole process:")
    print(f"{'objective':10s} {'ours s':>8s} {'gensim s':>8s} {'ratio':>6s} "
          f"{'WS353 ours':>10s} {'gensim':>7s} {'analogy ours':>12s} {'gensim':>7s}")  # fmt: skip
    for loss in ("cbow-ns", "cbow-hs"):
        t_ours = ours(loss, 2, tmp / f"ours-{loss}.bin", corpus)
        t_gensim = gensim(loss, 2, tmp / f"gensim-{loss}.bin", corpus)
        so, ao = scores(tmp / f"ours-{loss}.bin")
        sg, ag = scores(tmp / f"gensim-{loss}.bin")
        print(f"{loss:10s} {t_ours:8.2f} {t_gensim:8.2f} {t_ours / t_gensim:6.2f} "
              f"{so:10.4f} {sg:7.4f} {ao:12.2%} {ag:7.2%}", flush=True)  # fmt: skip


def scores(path: Path) -> tuple[float, float]:
    kv = KeyedVectors.load(path)
    sim = word_pairs_report(kv, data_file("wordsim353.tsv")).spearman
    ana = analogy_report(kv, data_file("questions-words.txt")).accuracy
    return sim, ana


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    if "--cbow-only" in sys.argv:
        cbow_rows(tmp)
        return
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
    cbow_rows(tmp)


if __name__ == "__main__":
    main()
