"""linear_cross_entropy against PyTorch's own ``F.linear_cross_entropy`` (torch >= 2.13), one
more oracle: its chunked path (``options=LinearCrossEntropyOptions``, small chunks) where
it applies, its reference path (``options=None``) for label smoothing, which the chunked
path does not support; random and edge inputs, odd shapes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from tests.fused.conftest import make_inputs

from crossent.fused import linear_cross_entropy

native = getattr(F, "linear_cross_entropy", None)
pytestmark = pytest.mark.skipif(native is None, reason="torch has no F.linear_cross_entropy")

N, D, V = 253, 37, 509  # odd: no multiple of anyone's chunk


def _case(dtype: torch.dtype, seed: int = 0, n: int = N, scale: float = 3.0) -> dict[str, Any]:
    return make_inputs(n, D, V, dtype=dtype, seed=seed, weight_scale=scale / D**0.5)


def _native(x: dict[str, Any], use_bias: bool, use_cw: bool, **kw: Any) -> torch.Tensor:
    chunked = kw.get("label_smoothing", 0.0) == 0.0
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=64) if chunked else None
    return native(  # type: ignore[misc]
        x["hidden"],
        x["weight"],
        x["targets"],
        linear_bias=x["bias"] if use_bias else None,
        weight=x["class_weight"] if use_cw else None,
        options=options,
        **kw,
    )


def _ours(x: dict[str, Any], use_bias: bool, use_cw: bool, **kw: Any) -> torch.Tensor:
    return linear_cross_entropy(  # type: ignore[return-value]
        x["hidden"],
        x["weight"],
        x["targets"],
        x["bias"] if use_bias else None,
        class_weight=x["class_weight"] if use_cw else None,
        chunk_size=50,
        **kw,
    )


def _loss_and_grads(
    fn: Any, x: dict[str, Any], use_bias: bool, use_cw: bool, **kw: Any
) -> list[torch.Tensor]:
    """Loss and the gradients of hidden, weight (and bias) for a non-uniform upstream."""
    leaves = {k: x[k].clone().requires_grad_() for k in ("hidden", "weight", "bias")}
    loss = fn({**x, **leaves}, use_bias, use_cw, **kw)
    upstream = torch.linspace(-1, 2, loss.numel(), dtype=loss.dtype).reshape(loss.shape)
    wrt = [leaves["hidden"], leaves["weight"], *([leaves["bias"]] if use_bias else [])]
    return [loss.detach(), *torch.autograd.grad(loss, wrt, upstream)]


def _assert_close(ours: list[torch.Tensor], theirs: list[torch.Tensor], rtol: float) -> None:
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.allclose(a, b, rtol=rtol, atol=rtol * b.abs().max().item()), (
            (a - b).abs().max().item()
        )


@pytest.mark.parametrize(
    ("reduction", "use_bias", "use_cw", "smoothing"),
    list(itertools.product(["mean", "sum", "none"], [False, True], [False, True], [0.0, 0.1])),
)
def test_matches_torch_native_float64(
    reduction: str, use_bias: bool, use_cw: bool, smoothing: float
) -> None:
    x = _case(torch.float64)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    ours = _loss_and_grads(_ours, x, use_bias, use_cw, **kw)
    theirs = _loss_and_grads(_native, x, use_bias, use_cw, **kw)
    _assert_close(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch_native_float32_large_logits(reduction: str) -> None:
    """Logits of standard deviation ~1e3: both stable, both agree to float32 precision."""
    x = _case(torch.float32, seed=1, scale=1e3)
    ours = _loss_and_grads(_ours, x, True, True, reduction=reduction)
    theirs = _loss_and_grads(_native, x, True, True, reduction=reduction)
    assert all(torch.isfinite(t).all() for t in ours)
    _assert_close(ours, theirs, rtol=2e-5)


@pytest.mark.parametrize("ignore_index", [-100, 7])
def test_ignore_index_and_edge_rows(ignore_index: int) -> None:
    """A single row, a custom ignore_index that is a valid class, every row ignored."""
    x = _case(torch.float64, seed=2, n=1)
    for targets in (torch.tensor([3]), torch.tensor([7])):
        y = {**x, "targets": targets}
        kw = {"ignore_index": ignore_index, "reduction": "sum"}
        ours = _loss_and_grads(_ours, y, True, False, **kw)
        theirs = _loss_and_grads(_native, y, True, False, **kw)
        _assert_close(ours, theirs, rtol=1e-12)
    x = _case(torch.float64, seed=3)
    x["targets"][:] = ignore_index
    for reduction in ("sum", "none"):  # ("mean" over zero rows: ours 0, PyTorch NaN)
        kw = {"ignore_index": ignore_index, "reduction": reduction}
        ours = _loss_and_grads(_ours, x, True, True, **kw)
        theirs = _loss_and_grads(_native, x, True, True, **kw)
        _assert_close(ours, theirs, rtol=0.0)
        assert all(torch.count_nonzero(t) == 0 for t in ours)
    mean = _ours(x, True, False, ignore_index=ignore_index)
    assert mean.item() == 0.0 and torch.isnan(_native(x, True, False, ignore_index=ignore_index))
