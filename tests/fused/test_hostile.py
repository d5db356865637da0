"""Inputs a hostile tester found wrong (layouts, -inf logits, 16-bit counts, empty shapes,
odd dtypes), each against ``torch.nn.functional`` or the torch loop."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from tests.fused.conftest import make_inputs

from crossent.fused import linear_cross_entropy, linear_log_probs
from crossent.fused import vocab_parallel_linear_log_probs as parallel_log_probs
from crossent.nn import LinearCrossEntropyLoss

N, D, V = 23, 6, 41


@pytest.fixture
def x() -> dict[str, torch.Tensor]:
    return make_inputs(2 * N, D, V, dtype=torch.float32, seed=11)


def _needs(impl: str) -> None:
    if impl == "triton":
        pytest.importorskip("triton")


@pytest.mark.parametrize("impl", ["torch", "triton"])
def test_strided_and_expanded_targets_and_class_weights(impl: str, x: dict[str, Any]) -> None:
    _needs(impl)
    h, w = x["hidden"][:N], x["weight"]
    y = x["targets"][::2]  # every other label: stride 2
    cw = torch.stack([x["class_weight"], x["class_weight"]], 1)[:, 0]  # stride 2
    ours = linear_cross_entropy(h, w, y, class_weight=cw, impl=impl)
    ref = F.cross_entropy(h @ w.T, y, weight=cw.contiguous())
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    same = torch.tensor([3]).expand(N)  # stride 0
    ours = linear_cross_entropy(h, w, same, impl=impl)
    torch.testing.assert_close(ours, F.cross_entropy(h @ w.T, same), rtol=1e-5, atol=1e-5)
    p = torch.softmax(torch.randn(V, N), 0).T  # transposed probability targets
    ours = linear_cross_entropy(h, w, p, impl=impl)
    torch.testing.assert_close(ours, F.cross_entropy(h @ w.T, p), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("impl", ["torch", "naive", "triton"])
def test_a_minus_inf_logit_masks_a_class(impl: str, x: dict[str, Any]) -> None:
    _needs(impl)
    h, w, y = x["hidden"][:N], x["weight"], x["targets"][:N].clamp(min=1)
    bias = torch.zeros(V)
    bias[0] = -torch.inf  # a padded vocabulary entry
    out = linear_cross_entropy(h, w, y, bias, impl=impl, return_stats=True)
    loss, ent = out.loss, out.entropy
    logits = h @ w.T + bias
    torch.testing.assert_close(loss, F.cross_entropy(logits, y), rtol=1e-5, atol=1e-5)
    p = torch.softmax(logits, -1)
    truth = -(p * torch.log_softmax(logits, -1)).nan_to_num(0.0).sum(-1)
    torch.testing.assert_close(ent, truth, rtol=1e-5, atol=1e-5)
    targets = torch.softmax(torch.randn(N, V), -1)
    targets[:, 0] = 0.0  # no mass on the masked class: a finite loss
    soft = linear_cross_entropy(h, w, targets, bias, impl=impl)
    assert torch.isfinite(soft)
    if impl != "naive":
        hh = h.clone().requires_grad_()
        lp, en = linear_log_probs(hh, w, y, bias, return_entropy=True, impl=impl)
        (grad,) = torch.autograd.grad(lp.sum() + en.sum(), hh)
        assert torch.isfinite(grad).all()


def test_num_items_in_batch_with_16_bit_inputs_divides_in_float32(x: dict[str, Any]) -> None:
    h, w, y = x["hidden"].half(), x["weight"].half(), x["targets"]
    ours = linear_cross_entropy(h, w, y, num_items_in_batch=70_000)
    ref = F.cross_entropy(h.float() @ w.float().T, y, reduction="sum") / 70_000
    assert ours.dtype == torch.float16
    torch.testing.assert_close(ours.float(), ref, rtol=2e-3, atol=0)


def test_class_weight_that_requires_grad_is_a_clear_error(x: dict[str, Any]) -> None:
    cw = x["class_weight"].clone().requires_grad_()
    with pytest.raises(ValueError, match="class_weight: no gradient flows to the class weights"):
        linear_cross_entropy(x["hidden"], x["weight"], x["targets"], class_weight=cw)


@pytest.mark.parametrize("impl", ["torch", "triton"])
def test_no_rows_with_every_gradient_wanted(impl: str, x: dict[str, Any]) -> None:
    _needs(impl)
    h = x["hidden"][:0].clone().requires_grad_()
    w, b = x["weight"].clone().requires_grad_(), torch.zeros(V, requires_grad=True)
    loss = linear_cross_entropy(h, w, x["targets"][:0], b, impl=impl)
    grads = torch.autograd.grad(loss, (h, w, b))
    assert float(loss.detach()) == 0.0 and all(bool((g == 0).all()) for g in grads)


def test_zero_features_and_empty_vocabulary(x: dict[str, Any]) -> None:
    h, b = torch.zeros(4, 0), torch.randn(V)
    y = x["targets"][:4].clamp(min=0)
    ours = linear_cross_entropy(h, torch.zeros(V, 0), y, b)
    torch.testing.assert_close(ours, F.cross_entropy(F.linear(h, torch.zeros(V, 0), b), y))
    with pytest.raises(ValueError, match=r"weight: expected at least one class \(V >= 1\)"):
        linear_cross_entropy(x["hidden"], x["weight"][:0], torch.zeros(2 * N).long() - 100)


def test_target_dtypes(x: dict[str, Any]) -> None:
    h, w = x["hidden"][:N].reshape(1, N, D), x["weight"]
    with pytest.raises(TypeError, match="targets: expected integer class indices .*complex64"):
        linear_cross_entropy(h, w, torch.zeros(1, N, dtype=torch.complex64))
    y = x["targets"][:N].clamp(min=0).reshape(1, N)
    small = linear_cross_entropy(h, w, y.to(torch.uint8), shift=1)  # V < 256
    torch.testing.assert_close(small, linear_cross_entropy(h, w, y, shift=1))


def test_naive_loss_under_autocast_is_float32(x: dict[str, Any]) -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(x["hidden"], x["weight"], x["targets"], impl="naive")
    assert loss.dtype == torch.float32


def test_options_are_checked_where_they_are_given(x: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="temperature: expected a finite number > 0"):
        LinearCrossEntropyLoss(temperature=-1.0)
    with pytest.raises(TypeError, match="label_smoothing"):
        parallel_log_probs(x["hidden"], x["weight"], x["targets"], label_smoothing=0.1)  # type: ignore[call-arg]
