"""Training across 2 gloo processes: the vectors of one process, and clear errors on every
rank (never a hang) when the ranks disagree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp
from tests.word2vec._distributed_worker import CONFIG, error_worker, train_worker

from crossent.word2vec import TrainConfig, train

from .corpora import random_text

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")


def _corpus(path: Path, seed: int) -> Path:
    return random_text(path, 31, 150, 13, seed)  # V = 31: the two slices are 15 and 16 rows


def test_two_ranks_give_the_vectors_of_one_process(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.txt", 0)
    mp.spawn(
        train_worker,
        args=(2, str(tmp_path / "store"), str(corpus), str(tmp_path)),
        nprocs=2,
        join=True,
    )
    one = train([corpus], TrainConfig(**CONFIG))
    assert len(one.vocab) == 31
    for rank in (0, 1):
        got = np.load(tmp_path / f"rank{rank}.npz")
        np.testing.assert_allclose(got["syn0"], one.syn0, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got["syn1"], one.syn1, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got["losses"], one.position.epoch_losses, rtol=1e-6)
    assert (np.abs(one.syn1).sum(axis=1) > 0).all()  # rows of both slices were trained


def test_disagreeing_ranks_fail_everywhere(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.txt", 0)
    other = _corpus(tmp_path / "d.txt", 1)
    mp.spawn(
        error_worker,
        args=(2, str(tmp_path / "store"), str(corpus), str(other), str(tmp_path)),
        nprocs=2,
        join=True,
    )
    errors = [
        dict(line.split("\t", 1) for line in (tmp_path / f"errors{r}.txt").read_text().splitlines())
        for r in (0, 1)
    ]
    for rank in (0, 1):
        e = errors[rank]
        assert e["window"] == (
            "ValueError: distributed: ranks disagree on settings: window=5 on rank 0, 3 on rank 1"
        )
        assert e["corpus"].startswith("ValueError: distributed: ranks disagree on the vocabulary")
        assert e["loss"].startswith("ValueError: loss: training across ranks (torchrun) splits")
        assert e["threads"].startswith("ValueError: threads: training across ranks runs one job")
    assert errors[1]["missing"].startswith("CorpusError: ")
    assert errors[0]["missing"].startswith("RankFailed: distributed: rank 1 failed (CorpusError: ")
