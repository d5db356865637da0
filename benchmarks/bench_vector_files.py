"""word2vec-format vector files: write and read, ours against gensim 4 in the same run.

``python benchmarks/bench_vector_files.py [--words 50000] [--dim 100]``: random float32
vectors, written and read back in text and binary form by each library (best of 2 wall
times; ours writes atomically with an fsync, gensim does not). Prints the CPU model and
NumPy's SIMD level with every figure, and the ratio gensim / ours (above 1: ours faster).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from _timing import best_time
from crossent.word2vec import KeyedVectors


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def simd_level() -> str:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    for name in ("AVX512_SKX", "AVX512F", "AVX2", "AVX", "SSE42", "ASIMD"):
        if features.get(name):
            return name
    return "baseline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args()
    from gensim.models import KeyedVectors as GensimKeyedVectors

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(args.words)]
    vectors = rng.normal(size=(args.words, args.dim)).astype(np.float32)
    ours = KeyedVectors(words, vectors)
    theirs = GensimKeyedVectors(args.dim)
    theirs.add_vectors(words, vectors)
    where = f"{cpu_model()}, NumPy SIMD {simd_level()}"
    print(f"{args.words} x {args.dim} float32 vectors; {where}")
    with tempfile.TemporaryDirectory() as tmp:
        for binary in (True, False):
            _compare(ours, theirs, str(Path(tmp) / "v"), binary, where)


def _compare(ours: KeyedVectors, theirs: Any, path: str, binary: bool, where: str) -> None:
    """Write, then read, ``path`` with each library; one line per operation."""
    gensim_class = type(theirs)
    kind = "binary" if binary else "text"
    rows = {
        "write": (
            lambda: ours.save_word2vec_format(path, binary=binary),
            lambda: theirs.save_word2vec_format(path, binary=binary),
        ),
        "read": (
            lambda: KeyedVectors.load_word2vec_format(path, binary=binary),
            lambda: gensim_class.load_word2vec_format(path, binary=binary),
        ),
    }
    for what, (mine, gensims) in rows.items():
        ours_s = best_time(mine, repeat=2, warmup=0)
        gensim_s = best_time(gensims, repeat=2, warmup=0)
        print(
            f"{kind:6} {what:5}  ours {ours_s:6.2f} s  gensim {gensim_s:6.2f} s  "
            f"gensim/ours {gensim_s / ours_s:4.2f}  ({where})"
        )


if __name__ == "__main__":
    main()
