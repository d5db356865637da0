"""Training start-up: the corpus read once (:func:`read_once`) vs counted then encoded.

1. In process, best of ``--repeat``: ``count_words`` + ``Vocabulary.build`` +
   ``encode_corpus`` (two tokenising passes) vs ``read_once`` + ``Vocabulary.build`` +
   ``encode`` (one), on the same file, alternating.
2. Whole process, best of ``--runs`` alternating: ``crossent train FILE --model cbow --loss
   ns --threads 2`` with the source tree ``--before`` (e.g. the base commit's ``src``,
   exported with ``git archive``) vs this tree.

Usage: ``python benchmarks/bench_read_once.py CORPUS --before /tmp/base/src``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crossent.word2vec.formats.corpus import count_words, encode_corpus
from crossent.word2vec.formats.counted import read_once
from crossent.word2vec.training.vocab import Vocabulary


def cpu() -> str:
    """The CPU model as /proc/cpuinfo names it."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def two_passes(corpus: Path) -> int:
    counts, _ = count_words(corpus)
    vocab = Vocabulary.build(counts, min_count=5)
    return len(encode_corpus(corpus, vocab.index, warn=False).words)


def one_pass(corpus: Path) -> int:
    with read_once(corpus) as once:
        vocab = Vocabulary.build(once.counts, min_count=5)
        return len(once.encode(vocab.index).words)


def in_process(corpus: Path, repeat: int) -> None:
    best = {"count + encode": float("inf"), "read_once": float("inf")}
    words = set()
    for _ in range(repeat):
        for name, fn in (("count + encode", two_passes), ("read_once", one_pass)):
            start = time.perf_counter()
            words.add(fn(corpus))
            best[name] = min(best[name], time.perf_counter() - start)
    assert len(words) == 1, words  # the same encoded corpus
    ratio = best["read_once"] / best["count + encode"]
    print(f"reading (best of {repeat}): count + encode {best['count + encode']:.3f} s, "
          f"read_once {best['read_once']:.3f} s, ratio {ratio:.2f}")  # fmt: skip


def whole_process(corpus: Path, before: Path, runs: int) -> None:
    trees = {"before": before, "after": Path(__file__).resolve().parents[1] / "src"}
    best = dict.fromkeys(trees, float("inf"))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "crossent", "train", str(corpus), "--out", f"{tmp}/x.bin",
               "--model", "cbow", "--loss", "ns", "--threads", "2"]  # fmt: skip
        for run in range(runs + 1):  # run 0 warms numba's caches of both trees
            for name, src in trees.items():
                env = os.environ | {"PYTHONPATH": str(src)}
                start = time.perf_counter()
                subprocess.run(cmd, env=env, check=True, capture_output=True)
                if run:
                    best[name] = min(best[name], time.perf_counter() - start)
    ratio = best["after"] / best["before"]
    print(f"crossent train cbow ns 2 threads (best of {runs}): before {best['before']:.2f} s, "
          f"after {best['after']:.2f} s, ratio {ratio:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--before", type=Path, required=True, help="src/ of the base tree")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"CPU {cpu()} ({os.cpu_count()} cores); load "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))  # fmt: skip
    in_process(args.corpus, args.repeat)
    whole_process(args.corpus, args.before, args.runs)


if __name__ == "__main__":
    main()
