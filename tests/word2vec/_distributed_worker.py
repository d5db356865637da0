"""Worker processes of ``test_distributed.py`` (a module of its own so that spawn can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch.distributed as dist
from tests.fused.parallel_worker import _init  # a gloo group that times out after a minute

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.training.dataparallel import Sync
from crossent.word2vec.training.distributed import Ranks

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

DATA_PARALLEL: dict[str, Any] = {
    "dim": 12,
    "epochs": 3,
    "min_count": 1,
    "threads": 1,
    "job_words": 150,
    "sync_every": 300,
    "seed": 3,
    "sample": 0.0,
}
"""A data-parallel run: ~1,200 words per rank and epoch, 4 rounds of 2 jobs."""


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


def data_parallel_worker(
    rank: int, world: int, init_file: str, corpus: str, out: str, cases: list[dict[str, Any]]
) -> None:
    """Each case trained twice across the ranks; every rank saves every model."""
    _init(rank, world, init_file)
    try:
        for i, case in enumerate(cases):
            for run in (0, 1):
                model = train([corpus], TrainConfig(**(DATA_PARALLEL | case)), distributed=True)
                arrays = {"syn0": model.syn0, "syn1": model.syn1}
                if model.syn1neg is not None:
                    arrays["syn1neg"] = model.syn1neg
                np.savez(
                    Path(out) / f"case{i}-run{run}-rank{rank}.npz",
                    losses=np.array(model.position.epoch_losses),
                    words_done=model.position.words_done,
                    ranks=model.corpus["ranks"] if model.corpus else 0,
                    **arrays,
                )
        sync_by_hand(rank, corpus, out)
    finally:
        dist.destroy_process_group()


def sync_by_hand(rank: int, corpus: str, out: str) -> None:
    """One sync by hand: rank r adds r + 1 to row 2 of syn0 and to every row of syn1; the
    round names word 2 only (syn1's other rows wait for the full exchange)."""
    config = TrainConfig(**(DATA_PARALLEL | {"epochs": 1, "negative": 1}))
    model = train([corpus], config, distributed=True)
    sync = Sync(model, Ranks.current())
    sync.hot = np.zeros(0, np.int64)
    before0, before1 = model.syn0.copy(), model.syn1.copy()
    model.syn0[2] += rank + 1
    model.syn1 += rank + 1
    stop, bad = sync.round(np.array([2], dtype=np.int32), interrupted=rank == 1, failed=False)
    after_round = model.syn1.copy()
    sync.full()
    synced = model.syn1.copy()
    # a round that names all words but word 0 (past WHOLE_FRACTION): syn1 goes whole, so
    # row 0 is summed too
    model.syn1 += 10 * (rank + 1)
    sync.round(np.arange(1, len(model.vocab), dtype=np.int32), interrupted=False, failed=False)
    np.savez(
        Path(out) / f"sync{rank}.npz",
        before0=before0,
        before1=before1,
        syn0=model.syn0,
        after_round=after_round,
        syn1=synced,
        whole=model.syn1,
        flags=np.array([stop, bad]),
    )


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
    ns = {"loss": "ns", "sync_every": 200}
    try:
        cases = {
            "window": _error(corpus=corpus, window=5 if rank == 0 else 3),
            "corpus": _error(corpus=corpus if rank == 0 else other),
            "missing": _error(corpus=corpus if rank == 0 else corpus + ".missing"),
            "cbow": _error(corpus=corpus, model="cbow"),
            "threads": _error(corpus=corpus, threads=2),
            "ns_window": _error(corpus=corpus, window=5 if rank == 0 else 3, **ns),
            "ns_corpus": _error(corpus=corpus if rank == 0 else other, **ns),
            "ns_sync": _error(corpus=corpus, **(ns | {"sync_every": 200 + rank})),
            "ns_min_count": _error(corpus=corpus, **(ns | {"min_count": 10**6})),
        }
        (Path(out) / f"errors{rank}.txt").write_text(
            "\n".join(f"{k}\t{v}" for k, v in cases.items()) + "\n"
        )
    finally:
        dist.destroy_process_group()
