"""Worker processes of ``test_distributed.py`` (a module of its own so that spawn can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch.distributed as dist
from tests.fused.parallel_worker import _init  # a gloo group that times out after a minute

from crossent.word2vec import TrainConfig, train

CONFIG: dict[str, Any] = {
    "dim": 10,
    "epochs": 2,
    "min_count": 1,
    "threads": 1,
    "loss": "softmax",
    "batch_pairs": 50,
    "job_words": 300,
    "seed": 5,
}


def train_worker(rank: int, world: int, init_file: str, corpus: str, out: str) -> None:
    """Train across the ranks; each saves the model it ends with."""
    _init(rank, world, init_file)
    try:
        model = train([corpus], TrainConfig(**CONFIG), distributed=True)
        np.savez(
            Path(out) / f"rank{rank}.npz",
            syn0=model.syn0,
            syn1=model.syn1,
            losses=np.array(model.position.epoch_losses),
        )
    finally:
        dist.destroy_process_group()


def _error(**kw: Any) -> str:
    corpus = kw.pop("corpus")
    try:
        train([corpus], TrainConfig(**(CONFIG | kw)), distributed=True)
    except Exception as exc:  # the message each rank gets
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def error_worker(rank: int, world: int, init_file: str, corpus: str, other: str, out: str) -> None:
    """Runs that must fail on every rank, one after the other in the same group."""
    _init(rank, world, init_file)
    try:
        cases = {
            "window": _error(corpus=corpus, window=5 if rank == 0 else 3),
            "corpus": _error(corpus=corpus if rank == 0 else other),
            "missing": _error(corpus=corpus if rank == 0 else corpus + ".missing"),
            "loss": _error(corpus=corpus, loss="ns"),
            "threads": _error(corpus=corpus, threads=2),
        }
        (Path(out) / f"errors{rank}.txt").write_text(
            "\n".join(f"{k}\t{v}" for k, v in cases.items()) + "\n"
        )
    finally:
        dist.destroy_process_group()
