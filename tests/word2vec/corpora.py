"""Small random text corpora for the word2vec tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def random_text(path: Path, vocab: int, lines: int, longest: int, seed: int) -> Path:
    """``lines`` lines of 2..``longest`` words drawn uniformly from ``w0 .. w{vocab-1}``."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    text = [" ".join(rng.choice(words, size=rng.integers(2, longest + 1))) for _ in range(lines)]
    path.write_text("\n".join(text) + "\n")
    return path
