"""The Triton path (CUDA; here under TRITON_INTERPRET=1) against the float64 oracle."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from crossent.fused import linear_cross_entropy, linear_cross_entropy_reference

pytest.importorskip("triton")
from tests.fused.conftest import make_inputs

from crossent.fused.triton.runner import vocab_slices

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
N, D, V = 37, 24, 203  # odd: V spans several BLOCK_V-free sizes, rows not a chunk multiple


def _inputs(dtype: torch.dtype, prob: bool, seed: int = 0) -> dict[str, torch.Tensor]:
    return make_inputs(
        N,
        D,
        V,
        dtype=dtype,
        prob=prob,
        seed=seed,
        weight_scale=2 / D**0.5,
        bias_scale=0.5,
        target_sharpness=2.0,
        zero_classes=7,
        device=DEVICE,
    )


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
        kw["class_weight"] = x["class_weight"]
    up = x["upstream"] if reduction == "none" else torch.tensor(1.7)
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


HALF = [torch.float16, torch.bfloat16]


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
    # Triton's interpreter rounds float32 -> bfloat16 towards zero (its cast_impl ignores the
    # rounding mode), a GPU to nearest: interpreted, every bf16 store may err twice as much.
    truncating = dtype == torch.bfloat16 and not torch.cuda.is_available()
    factor = 2.0 if truncating else 1.0
    for o, n, t in zip(ours, naive, truth, strict=True):
        assert o.dtype == dtype
        err_ours = (o.double() - t).abs().max()
        err_naive = (n.double() - t).abs().max()
        assert err_ours <= factor * err_naive + 2e-3 * t.abs().max()


def test_triton_requested_where_unusable_is_a_clear_error() -> None:
    h = torch.randn(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="impl: 'triton' needs CUDA tensors"):
        linear_cross_entropy(
            h, torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 1, 2]), impl="triton"
        )


@settings(max_examples=200, deadline=None)
@given(
    vocab=st.integers(1, 5000),
    n=st.integers(1, 3000),
    d=st.integers(1, 600),
    max_width=st.integers(1, 6000),
)
def test_vocab_slices_cover_the_vocabulary_and_never_overlap_written_rows(
    vocab: int, n: int, d: int, max_width: int
) -> None:
    expected_start = 0
    for start, stop, offset in vocab_slices(vocab, n, d, max_width):
        assert start == expected_start < stop <= vocab
        assert stop - start <= max_width
        if offset >= 0:  # inside grad_W's storage, after the rows written so far
            assert offset % 64 == 0
            assert offset >= stop * d
            assert offset + n * (stop - start) <= vocab * d
        else:  # the separate tail buffer
            assert stop - start <= min(64, max_width)
        expected_start = stop
    assert expected_start == vocab


def test_odd_shape_tests_exercise_both_kinds_of_slice() -> None:
    # test_float32_matches_oracle's shape and chunk: slices inside grad_W and in the tail
    plan = list(vocab_slices(V, N, D, 16 * V // N))
    assert any(off >= 0 for *_, off in plan) and any(off < 0 for *_, off in plan)


def _allocated_bytes(fn: Any) -> list[int]:
    """Sizes of the tensors allocated (on the CPU) while ``fn`` runs."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    names = ("aten::empty", "aten::empty_strided")
    return [e.cpu_memory_usage for e in prof.events() if e.name in names and e.cpu_memory_usage > 0]


@pytest.mark.skipif(DEVICE == "cuda", reason="counts CPU allocations (the interpreter)")
@pytest.mark.parametrize("with_bias", [True])
def test_no_workspace_beyond_the_gradients(with_bias: bool) -> None:
    n, d, vocab = 150, 80, 1000
    g = torch.Generator().manual_seed(6)
    h = torch.randn(n, d, generator=g, requires_grad=True)
    w = torch.randn(vocab, d, generator=g, requires_grad=True)
    b = torch.randn(vocab, generator=g, requires_grad=True) if with_bias else None
    y = torch.randint(0, vocab, (n,), generator=g)

    def step() -> None:
        linear_cross_entropy(h, w, y, b, impl="triton", chunk_size=64).backward()

    sizes = _allocated_bytes(step)
    grads = 4 * (n * d + vocab * d + (vocab if with_bias else 0))
    tail = 4 * n * 64  # the last few vocabulary columns' logits
    small = 4 * 16 * (n + vocab)  # per-row results, scales, bias-gradient sums
    assert max(sizes) == 4 * vocab * d  # the largest allocation is grad_W itself
    assert sum(sizes) <= grads + tail + small, sorted(sizes)[-6:]
    # the fused result is right, too
    torch.testing.assert_close(
        w.grad, _naive_weight_grad(h.detach(), w.detach(), y, b), rtol=1e-4, atol=1e-5
    )


def _naive_weight_grad(
    h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor | None
) -> torch.Tensor:
    w = w.clone().requires_grad_()
    z = h @ w.T if b is None else h @ w.T + b.detach()
    torch.nn.functional.cross_entropy(z, y).backward()
    assert w.grad is not None
    return w.grad


@pytest.mark.gpu
@pytest.mark.skipif(DEVICE != "cuda", reason="needs CUDA")
def test_cuda_peak_memory_is_the_gradients() -> None:
    n, d, vocab = 4096, 1024, 32000
    g = torch.Generator(device="cuda").manual_seed(7)
    h = torch.randn(n, d, device="cuda", generator=g).bfloat16().requires_grad_()
    w = torch.randn(vocab, d, device="cuda", generator=g).bfloat16().requires_grad_()
    y = torch.randint(0, vocab, (n,), device="cuda", generator=g)
    linear_cross_entropy(h, w, y).backward()  # warm-up: compilation, cuBLAS workspace
    h.grad = w.grad = None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    linear_cross_entropy(h, w, y).backward()
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - base - 2 * (n * d + vocab * d)
    assert extra <= 2 * n * 64 + 64 * (n + vocab), extra


PROBLEM = ("hidden", "weight", "targets", "bias")


@pytest.mark.parametrize("trainable", ["hidden", "weight", "bias"])
def test_only_some_inputs_need_gradients(trainable: str) -> None:
    x = _inputs(torch.float32, prob=False, seed=8)
    kw = {"label_smoothing": 0.05, "z_loss": 1e-3}
    grads = {}
    for impl, dtype in (("triton", torch.float32), ("naive", torch.float64)):
        args = {k: x[k].to(dtype) if x[k].is_floating_point() else x[k] for k in PROBLEM}
        args[trainable] = args[trainable].clone().requires_grad_()
        loss = linear_cross_entropy(**args, impl=impl, chunk_size=16, **kw)
        (grads[impl],) = torch.autograd.grad(loss, args[trainable])
    torch.testing.assert_close(grads["triton"].double(), grads["naive"], rtol=2e-5, atol=2e-5)


def test_kernels_compile_for_cuda(tmp_path: Any) -> None:
    """Every kernel variant goes through the real compiler (to sm_90), GPU or not."""
    pytest.importorskip("triton.backends.nvidia")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.update(TRITON_CACHE_DIR=str(tmp_path), TRITON_DEFAULT_FP_FUSION="1")
    script = Path(__file__).with_name("compile_kernels.py")
    done = subprocess.run(
        [sys.executable, str(script), "bf16", "fp32"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compiled 48 kernel variants" in done.stdout


def test_non_contiguous_inputs_and_batch_shape() -> None:
    g = torch.Generator().manual_seed(9)
    h = torch.randn(D, 3, 13, generator=g).permute(1, 2, 0)  # [3, 13, D], strided
    w = torch.randn(D, V, generator=g).T / D**0.5  # [V, D], column-major
    y = torch.randint(0, V, (13, 3), generator=g).T  # [3, 13], strided
    grads = {}
    for impl, dtype in (("triton", torch.float32), ("naive", torch.float64)):
        hh = h.to(dtype).requires_grad_()
        ww = w.to(dtype).requires_grad_()
        loss = linear_cross_entropy(hh, ww, y, impl=impl, chunk_size=8, reduction="sum")
        grads[impl] = [loss, *torch.autograd.grad(loss, (hh, ww))]
    for a, b in zip(grads["triton"], grads["naive"], strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a.double(), b, rtol=2e-5, atol=2e-5)
