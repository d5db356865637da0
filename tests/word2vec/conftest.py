"""Inputs shared by the word2vec tests: a small corpus and a checkpoint trained on it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

if not torch.cuda.is_available():  # Triton interpreted (test_device), set before crossent.fused
    os.environ.setdefault("TRITON_INTERPRET", "1")  # imports triton

from crossent.word2vec import SkipGram, TrainConfig, train


def write_corpus(path: Path, *, seed: int = 1, lines: int = 200, vocab: int = 30) -> Path:
    """``lines`` lines of 10 words drawn from ``w0`` … ``w{vocab-1}``."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    path.write_text("\n".join(" ".join(rng.choice(words, 10)) for _ in range(lines)) + "\n")
    return path


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("w2v") / "small.txt")


@pytest.fixture(scope="module", params=["ns", "hs"])
def trained(request: pytest.FixtureRequest, small_corpus: Path) -> tuple[Path, SkipGram]:
    """A checkpoint after one of two epochs (so a resume has work to do), and its model."""
    config = TrainConfig(dim=6, epochs=1, min_count=1, sample=0, threads=1, loss=request.param)
    model = train(small_corpus, config)
    path = small_corpus.parent / f"trained-{request.param}.npz"
    model.save(path)
    return path, model
