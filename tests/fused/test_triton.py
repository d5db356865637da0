"""The Triton path (CUDA; here under TRITON_INTERPRET=1) against the float64 oracle."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch

from crossent.fused import linear_cross_entropy, linear_cross_entropy_reference

pytest.importorskip("triton")
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
N, D, V = 37, 24, 203  # odd: V spans several BLOCK_V-free sizes, rows not a chunk multiple


def _inputs(dtype: torch.dtype, prob: bool, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = {
        "hidden": torch.randn(N, D, generator=g),
        "weight": torch.randn(V, D, generator=g) / D**0.5 * 2,
        "bias": torch.randn(V, generator=g) * 0.5,
    }
    if prob:
        y = torch.softmax(torch.randn(N, V, generator=g) * 2, -1)
        y[:, :7] = 0.0
    else:
        y = torch.randint(0, V, (N,), generator=g)
        y[torch.rand(N, generator=g) < 0.2] = -100
    x = {k: v.to(dtype) for k, v in x.items()}
    x["targets"] = y
    return {k: v.to(DEVICE) for k, v in x.items()}


def _run(
    fn: Any, x: dict[str, torch.Tensor], kw: dict[str, Any], upstream: torch.Tensor
) -> list[torch.Tensor]:
    h = x["hidden"].clone().requires_grad_()
    w = x["weight"].clone().requires_grad_()
    b = x["bias"].clone().requires_grad_()
    out = fn(h, w, x["targets"], b, **kw)
    loss = out.loss if hasattr(out, "loss") else out
    grads = torch.autograd.grad(loss, (h, w, b), upstream.to(loss.dtype))
    return [loss.detach(), *grads]


OPTIONS = [
    {},
    {"label_smoothing": 0.1, "class_weight": True},
    {"z_loss": 1e-2, "softcap": 4.0},
]


@pytest.mark.parametrize(
    ("opts", "reduction", "prob"),
    list(itertools.product(OPTIONS, ["mean", "none"], [False, True])),
)
def test_float32_matches_oracle(opts: dict[str, Any], reduction: str, prob: bool) -> None:
    x = _inputs(torch.float32, prob)
    kw: dict[str, Any] = dict(opts, reduction=reduction)
    if kw.get("class_weight"):
        kw["class_weight"] = torch.rand(V, generator=torch.Generator().manual_seed(2)).to(DEVICE)
    up = torch.randn(N) if reduction == "none" else torch.tensor(1.7)
    ours = _run(
        lambda *a, **k: linear_cross_entropy(*a, impl="triton", chunk_size=16, **k),
        x,
        kw,
        up.to(DEVICE),
    )
    x64 = {k: v.double() if v.is_floating_point() else v for k, v in x.items()}
    kw64 = {k: v.double() if isinstance(v, torch.Tensor) else v for k, v in kw.items()}
    ref = _run(linear_cross_entropy_reference, x64, kw64, up.double().to(DEVICE))
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=2e-5, atol=2e-5)


def test_statistics_match_torch_path() -> None:
    x = _inputs(torch.float32, prob=False, seed=3)
    args = (x["hidden"], x["weight"], x["targets"], x["bias"])
    ours = linear_cross_entropy(*args, impl="triton", return_stats=True, softcap=5.0)
    ref = linear_cross_entropy(*args, impl="torch", return_stats=True, softcap=5.0)
    for a, b in zip(ours, ref, strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        else:
            assert torch.equal(a, b)


# Triton's interpreter has no bfloat16 matrix product (NumPy has no such type): bfloat16
# runs on CUDA only; float16 exercises the same code everywhere.
HALF = [torch.float16, torch.bfloat16] if DEVICE == "cuda" else [torch.float16]


@pytest.mark.parametrize("dtype", HALF)
def test_half_precision_error_no_worse_than_naive(dtype: torch.dtype) -> None:
    x = _inputs(dtype, prob=False, seed=4)
    up = torch.tensor(1.0, device=DEVICE)
    ours = _run(
        lambda *a, **k: linear_cross_entropy(*a, impl="triton", chunk_size=16, **k), x, {}, up
    )
    naive = _run(linear_cross_entropy_reference, x, {}, up)
    x64 = {k: v.double() if v.is_floating_point() else v for k, v in x.items()}
    truth = _run(linear_cross_entropy_reference, x64, {}, up.double())
    for o, n, t in zip(ours, naive, truth, strict=True):
        assert o.dtype == dtype
        err_ours = (o.double() - t).abs().max()
        err_naive = (n.double() - t).abs().max()
        assert err_ours <= err_naive + 2e-3 * t.abs().max()


def test_triton_requested_where_unusable_is_a_clear_error() -> None:
    h = torch.randn(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="impl: 'triton' needs CUDA tensors"):
        linear_cross_entropy(
            h, torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 1, 2]), impl="triton"
        )


@pytest.mark.parametrize("dtype", HALF)
def test_weight_gradient_accumulates_in_float32(dtype: torch.dtype) -> None:
    from crossent.fused import _triton_kernels
    from crossent.fused._triton import _accumulate_weight_grad

    g = torch.Generator().manual_seed(5)
    grad = torch.randn(37, 203, generator=g).to(dtype).to(DEVICE)
    h = torch.randn(37, 24, generator=g).to(dtype).to(DEVICE)
    acc = torch.full((203, 24), 0.5, device=DEVICE)
    for _ in range(3):
        _accumulate_weight_grad(_triton_kernels, acc, grad, h)
    expected = 0.5 + 3 * (grad.double().T @ h.double())
    torch.testing.assert_close(acc.double(), expected, rtol=1e-5, atol=1e-4)


def test_triton_gemm_itself_accumulates_in_float32() -> None:
    """The Triton GEMM fallback (used where cuBLAS cannot write float32 from 16-bit)."""
    from crossent.fused import _triton, _triton_kernels

    saved = _triton._CUBLAS_FP32_OUT[0]
    _triton._CUBLAS_FP32_OUT[0] = False
    try:
        test_weight_gradient_accumulates_in_float32(torch.float16)
    finally:
        _triton._CUBLAS_FP32_OUT[0] = saved
    assert _triton_kernels.accumulate_at_b is not None
