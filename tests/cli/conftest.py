"""Inputs shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 lines of 12 words drawn from 60 (``w0`` … ``w59``)."""
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(60)]
    path = tmp_path_factory.mktemp("cli") / "c.txt"
    path.write_text("\n".join(" ".join(rng.choice(words, 12)) for _ in range(400)))
    return path
