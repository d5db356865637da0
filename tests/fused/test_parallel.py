"""Vocabulary-parallel loss on 3 gloo processes against the single-process float64 loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from tests.fused.parallel_worker import (
    N,
    compiled_worker,
    log_probs_worker,
    mismatch_worker,
    worker,
)

from crossent.fused import vocab_parallel_linear_cross_entropy

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")

UNEVEN = [20, 50, 67]  # slice ends: 20, 30 and 17 classes
CASES: list[dict[str, Any]] = [
    {"split": UNEVEN, "kw": {"chunk_size": 8}},
    {
        "split": UNEVEN,
        "kw": {"label_smoothing": 0.1, "class_weight": True, "z_loss": 1e-2, "softcap": 3.0},
        "bias": True,
        "seed": 1,
    },
    {"split": UNEVEN, "kw": {"reduction": "sum", "label_smoothing": 0.3}, "bias": True},
    {"split": UNEVEN, "kw": {"reduction": "none", "label_smoothing": 0.05, "z_loss": 1e-3}},
    {"split": [30, 67, 67], "kw": {"class_weight": True}, "explicit": True, "batch": (1, N)},
    {"split": UNEVEN, "kw": {}, "ignored": 1.0},  # every row ignored: 0 and zero gradients
    {"split": UNEVEN, "kw": {"z_loss": 1e-3}, "dtype": torch.float32, "tol": 2e-5},
    {"split": UNEVEN, "kw": {"chunk_size": 8}, "prob": True},
    {
        "split": [30, 67, 67],
        "kw": {"label_smoothing": 0.1, "class_weight": True, "reduction": "none"},
        "prob": True,
        "bias": True,
        "batch": (1, N),
    },
    {"split": UNEVEN, "kw": {"temperature": 0.7, "shift": 2, "softcap": 4.0}, "batch": (1, N)},
    {"split": UNEVEN, "kw": {"num_items_in_batch": 17, "shift": True}, "batch": (1, N)},
]


def test_matches_single_process_loss(tmp_path: Path) -> None:
    mp.spawn(worker, args=(3, str(tmp_path / "store"), CASES), nprocs=3, join=True)


# dynamo peeks at .grad of non-leaf tensors when it resumes after the graph break
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_inside_torch_compile(tmp_path: Path) -> None:
    """Also the one-collective (online log-sum-exp) path without statistics."""
    mp.spawn(compiled_worker, args=(2, str(tmp_path / "store")), nprocs=2, join=True)


def test_log_probs_and_entropy_match_single_process(tmp_path: Path) -> None:
    mp.spawn(log_probs_worker, args=(3, str(tmp_path / "store")), nprocs=3, join=True)


def test_ranks_with_different_rows_get_an_error_not_a_hang(tmp_path: Path) -> None:
    mp.spawn(mismatch_worker, args=(2, str(tmp_path / "store")), nprocs=2, join=True)


def test_needs_an_initialised_group() -> None:
    with pytest.raises(RuntimeError, match="torch.distributed is not initialised"):
        vocab_parallel_linear_cross_entropy(
            torch.randn(4, 3), torch.randn(5, 3), torch.tensor([0, 1, 2, 3])
        )
