"""Chunked linear_cross_entropy against the float64 naive oracle, on odd shapes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from tests.fused.conftest import make_inputs

import crossent
from crossent.fused import linear_cross_entropy, linear_cross_entropy_reference

N, D, V = 252, 123, 507  # none a multiple of the chunk


def _inputs(
    dtype: torch.dtype = torch.float64, prob: bool = False, seed: int = 0, ignored: float = 0.2
) -> dict[str, Any]:
    return make_inputs(
        N,
        D,
        V,
        dtype=dtype,
        prob=prob,
        seed=seed,
        ignored=ignored,
        weight_scale=3 / D**0.5,
        target_sharpness=3.0,
        zero_classes=10,  # exact zeros in the target distribution
    )


def _grads(
    fn: Any, x: dict[str, Any], kw: dict[str, Any], use_bias: bool, upstream: torch.Tensor | None
) -> tuple[torch.Tensor, ...]:
    leaves = [x["hidden"].clone().requires_grad_(), x["weight"].clone().requires_grad_()]
    bias = x["bias"].clone().requires_grad_() if use_bias else None
    out = fn(leaves[0], leaves[1], x["targets"], bias, **kw)
    loss = out.loss if hasattr(out, "loss") else out
    g = torch.ones_like(loss) if upstream is None else upstream
    inputs = [*leaves, bias] if bias is not None else leaves
    return (loss.detach(), *torch.autograd.grad(loss, inputs, g))


OPTIONS = [
    {},
    {"label_smoothing": 0.1},
    {"label_smoothing": 0.2, "class_weight": "rand"},
    {"z_loss": 1e-2},
    {"softcap": 5.0},
    {"label_smoothing": 0.05, "class_weight": "rand", "z_loss": 1e-3, "softcap": 3.0},
]


@pytest.mark.parametrize(
    ("opts", "reduction", "prob", "use_bias"),
    list(itertools.product(OPTIONS, ["mean", "sum", "none"], [False, True], [False, True])),
)
def test_matches_float64_oracle(
    opts: dict[str, Any], reduction: str, prob: bool, use_bias: bool
) -> None:
    x = _inputs(prob=prob, seed=len(str(opts)))
    kw = dict(opts, reduction=reduction)
    if kw.get("class_weight") == "rand":
        kw["class_weight"] = x["class_weight"]
    upstream = x["upstream"] if reduction == "none" else torch.tensor(2.5, dtype=torch.float64)
    ours = _grads(
        lambda *a, **k: linear_cross_entropy(*a, chunk_size=64, **k), x, kw, use_bias, upstream
    )
    ref = _grads(linear_cross_entropy_reference, x, kw, use_bias, upstream)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_oracle_itself_matches_torch() -> None:
    x = _inputs()
    w = x["class_weight"]
    ref = linear_cross_entropy_reference(
        x["hidden"], x["weight"], x["targets"], x["bias"], class_weight=w, label_smoothing=0.1
    ).loss
    logits = x["hidden"] @ x["weight"].T + x["bias"]
    torch.testing.assert_close(
        ref, F.cross_entropy(logits, x["targets"], weight=w, label_smoothing=0.1)
    )


def test_all_rows_ignored_gives_zero_loss_and_zero_grads() -> None:
    x = _inputs(ignored=1.0)
    loss, gh, gw, gb = _grads(linear_cross_entropy, x, {"z_loss": 0.1}, True, None)
    assert loss.item() == 0.0
    for g in (gh, gw, gb):
        assert torch.count_nonzero(g) == 0


@pytest.mark.parametrize("prob", [False, True])
def test_statistics_match_oracle(prob: bool) -> None:
    x = _inputs(prob=prob)
    args = (x["hidden"], x["weight"], x["targets"], x["bias"])
    ours = linear_cross_entropy(*args, return_stats=True, chunk_size=100, softcap=4.0)
    ref = linear_cross_entropy_reference(*args, softcap=4.0)
    for name in ("loss", "lse", "entropy", "target_logprob"):
        torch.testing.assert_close(getattr(ours, name), getattr(ref, name).detach(), msg=name)
    assert torch.equal(ours.correct, ref.correct)
    loss, lse = linear_cross_entropy(*args, return_lse=True)
    torch.testing.assert_close(lse, torch.logsumexp(x["hidden"] @ x["weight"].T + x["bias"], -1))


def test_batch_shapes_and_non_contiguous_inputs() -> None:
    g = torch.Generator().manual_seed(3)
    hidden = torch.randn(D, 4, 9, generator=g, dtype=torch.float64).permute(1, 2, 0)  # [4, 9, D]
    weight = torch.randn(D, V, generator=g, dtype=torch.float64).T  # [V, D], transposed view
    targets = torch.randint(0, V, (9, 4), generator=g).T  # [4, 9]
    assert not hidden.is_contiguous()
    assert not weight.is_contiguous()
    out = linear_cross_entropy(hidden, weight, targets, reduction="none", chunk_size=7)
    assert out.shape == (4, 9)
    ref = F.cross_entropy((hidden @ weight.T).reshape(-1, V), targets.reshape(-1), reduction="none")
    torch.testing.assert_close(out, ref.reshape(4, 9))


def test_gradcheck_tiny() -> None:
    g = torch.Generator().manual_seed(4)
    h = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(7, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.tensor([0, 6, -100, 3, 3])
    for reduction in ("mean", "none"):
        assert torch.autograd.gradcheck(
            lambda h_, w_, b_, r=reduction: linear_cross_entropy(
                h_,
                w_,
                y,
                b_,
                chunk_size=2,
                reduction=r,
                label_smoothing=0.1,
                z_loss=0.01,
                softcap=2.0,
            ),
            (h, w, b),
        )


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_error_no_worse_than_naive(dtype: torch.dtype) -> None:
    x = _inputs(dtype=torch.float32)
    truth = _grads(linear_cross_entropy_reference, _double(x), {}, True, None)
    low = {k: v.to(dtype) if v.is_floating_point() else v for k, v in x.items()}
    ours = _grads(linear_cross_entropy, low, {}, True, None)
    naive = _grads(linear_cross_entropy_reference, low, {}, True, None)
    for o, n, t in zip(ours, naive, truth, strict=True):
        assert o.dtype == dtype
        err_ours = (o.double() - t).abs().max()
        err_naive = (n.double() - t).abs().max()
        assert err_ours <= err_naive + 1e-3 * t.abs().max()


def test_only_some_inputs_require_grad() -> None:
    x = _inputs(dtype=torch.float32)
    w = x["weight"].clone().requires_grad_()
    loss = linear_cross_entropy(x["hidden"], w, x["targets"])
    (gw,) = torch.autograd.grad(loss, [w])
    w2 = x["weight"].clone().requires_grad_()
    (ref,) = torch.autograd.grad(F.cross_entropy(x["hidden"] @ w2.T, x["targets"]), [w2])
    torch.testing.assert_close(gw, ref)
    with torch.no_grad():
        assert linear_cross_entropy(x["hidden"], w, x["targets"]).grad_fn is None


def test_combined_with_other_losses() -> None:
    x = _inputs(dtype=torch.float64)
    h = x["hidden"].clone().requires_grad_()
    total = 0.3 * linear_cross_entropy(h, x["weight"], x["targets"]) + (h**2).sum()
    (g,) = torch.autograd.grad(total, [h])
    h2 = x["hidden"].clone().requires_grad_()
    ref = 0.3 * F.cross_entropy(h2 @ x["weight"].T, x["targets"]) + (h2**2).sum()
    torch.testing.assert_close(g, torch.autograd.grad(ref, [h2])[0])


def test_double_backward_is_a_clear_error() -> None:
    x = _inputs()
    h = x["hidden"].clone().requires_grad_()
    loss = linear_cross_entropy(h, x["weight"], x["targets"])
    with pytest.raises(RuntimeError, match="double backward .* is not supported"):
        torch.autograd.grad(loss, [h], create_graph=True)


def _double(x: dict[str, Any]) -> dict[str, Any]:
    return {k: v.double() if v.is_floating_point() else v for k, v in x.items()}


def test_large_logits_stay_as_accurate_as_naive() -> None:
    """Logits of std ~90: probabilities underflow and are flushed; accuracy is kept."""
    x = _inputs(dtype=torch.float32)
    x["weight"] = x["weight"] * 30
    truth = _grads(linear_cross_entropy_reference, _double(x), {}, False, None)
    ours = _grads(linear_cross_entropy, x, {}, False, None)
    naive = _grads(linear_cross_entropy_reference, x, {}, False, None)
    for o, n, t in zip(ours, naive, truth, strict=True):
        err_ours, err_naive = (o.double() - t).abs().max(), (n.double() - t).abs().max()
        assert err_ours <= 2 * err_naive + 1e-6 * t.abs().max()


def test_module_wraps_function() -> None:
    x = _inputs()
    module = crossent.nn.LinearCrossEntropyLoss(label_smoothing=0.1, reduction="sum")
    torch.testing.assert_close(
        module(x["hidden"], x["weight"], x["targets"], x["bias"]),
        linear_cross_entropy(
            x["hidden"], x["weight"], x["targets"], x["bias"], label_smoothing=0.1, reduction="sum"
        ),
    )
    assert "label_smoothing=0.1" in repr(module)


def _call(**kw: Any) -> None:
    x = _inputs(dtype=torch.float32)
    args = {"hidden": x["hidden"], "weight": x["weight"], "targets": x["targets"]} | kw
    linear_cross_entropy(args.pop("hidden"), args.pop("weight"), args.pop("targets"), **args)


@pytest.mark.parametrize(
    ("kw", "exc", "pattern"),
    [
        (
            {"targets": torch.full((N,), V)},
            IndexError,
            f"targets: class index {V} at index \\(0,\\) is out of range \\[0, {V - 1}\\]",
        ),
        ({"targets": torch.full((N,), -5)}, IndexError, "class index -5"),
        ({"weight": torch.randn(V, D + 1)}, ValueError, f"weight: expected shape \\[V, {D}\\]"),
        (
            {"targets": torch.zeros(N - 1, dtype=torch.long)},
            ValueError,
            f"targets: expected class indices of shape \\[{N}\\]",
        ),
        (
            {"weight": torch.randn(V, D, dtype=torch.float64)},
            TypeError,
            "weight: expected dtype torch.float32",
        ),
        ({"bias": torch.randn(V + 1)}, ValueError, f"bias: expected shape \\[{V}\\]"),
        (
            {"targets": torch.full((N, V), 1.0 / V), "ignore_index": 0},
            ValueError,
            "ignore_index: only class-index targets",
        ),
        (
            {"targets": torch.full((N, V - 1), 1.0)},
            ValueError,
            "targets: expected probabilities of shape",
        ),
        ({"reduction": "mean_tokens"}, ValueError, "reduction: expected one of"),
        ({"label_smoothing": -0.1}, ValueError, "label_smoothing"),
        ({"z_loss": -1.0}, ValueError, "z_loss: expected a finite number >= 0, got -1.0"),
        ({"softcap": 0.0}, ValueError, "softcap: expected None or a finite number > 0"),
        ({"chunk_size": 0}, ValueError, "chunk_size: expected None or an int >= 1, got 0"),
        ({"impl": "cuda"}, ValueError, "impl: expected one of"),
        ({"hidden": torch.zeros(N, D, dtype=torch.long)}, TypeError, "hidden: expected a floating"),
        ({"class_weight": torch.ones(3)}, ValueError, f"class_weight: expected shape \\[{V}\\]"),
        ({"targets": [1, 2]}, TypeError, "targets: expected a torch.Tensor, got list"),
    ],
)
def test_bad_input(kw: dict[str, Any], exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        _call(**kw)


def test_naive_impl_agrees() -> None:
    x = _inputs()
    a = linear_cross_entropy(x["hidden"], x["weight"], x["targets"], impl="naive")
    b = linear_cross_entropy(x["hidden"], x["weight"], x["targets"], impl="torch")
    torch.testing.assert_close(a, b)


def test_empty_batch() -> None:
    h = torch.zeros(0, D, requires_grad=True)
    loss = linear_cross_entropy(h, torch.randn(V, D), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0.0
    loss.backward()
    assert h.grad is not None
    assert h.grad.shape == (0, D)


def test_repeated_backward_with_retain_graph() -> None:
    x = _inputs()
    h = x["hidden"].clone().requires_grad_()
    loss = linear_cross_entropy(h, x["weight"], x["targets"], label_smoothing=0.1)
    (first,) = torch.autograd.grad(loss, [h], retain_graph=True)
    (second,) = torch.autograd.grad(loss * 1, [h], torch.tensor(3.0, dtype=torch.float64))
    torch.testing.assert_close(second, 3 * first)


def test_int32_targets() -> None:
    x = _inputs()
    ref = linear_cross_entropy(x["hidden"], x["weight"], x["targets"])
    torch.testing.assert_close(
        linear_cross_entropy(x["hidden"], x["weight"], x["targets"].int()), ref
    )


def test_bad_probability_targets() -> None:
    x = _inputs(dtype=torch.float32)
    y = torch.full((N, V), 1.0 / V)
    y[3, 5] = float("nan")
    with pytest.raises(ValueError, match=r"targets: contains NaN at \(3, 5\)"):
        linear_cross_entropy(x["hidden"], x["weight"], y)
    y[3, 5] = -0.5
    with pytest.raises(
        ValueError, match=r"targets: probabilities must be >= 0, got -0.5 at index \(3, 5\)"
    ):
        linear_cross_entropy(x["hidden"], x["weight"], y)


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (float("nan"), r"class_weight: contains NaN at \(2,\)"),
        (float("inf"), r"class_weight: expected finite values, got inf at index \(2,\)"),
        (-0.5, r"class_weight: class weights must be >= 0, got -0.5 at index \(2,\)"),
    ],
)
@pytest.mark.parametrize("prob", [False, True])
def test_bad_class_weights_are_refused_as_softmax_cross_entropy_does(
    bad: float, pattern: str, prob: bool
) -> None:
    """A NaN, infinite or negative class weight: the same refusal as the math layer's (it
    would make every mean NaN, or divide by a sum that can be 0), in every form."""
    x = _inputs(prob=prob)
    w = x["class_weight"].clone()
    w[2] = bad
    args = (x["hidden"], x["weight"], x["targets"])
    with pytest.raises(ValueError, match=pattern):
        linear_cross_entropy(*args, class_weight=w)
    with pytest.raises(ValueError, match=pattern):
        crossent.nn.LinearCrossEntropyLoss(class_weight=w)(*args)
    logits = x["hidden"] @ x["weight"].T
    with pytest.raises(ValueError, match=pattern.replace("class_weight", "weight")):
        crossent.softmax_cross_entropy(logits, x["targets"], weight=w)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_module_returns_lse_like_the_function(reduction: str) -> None:
    x = _inputs()
    args = (x["hidden"], x["weight"], x["targets"], x["bias"])
    module = crossent.nn.LinearCrossEntropyLoss(reduction=reduction, return_lse=True)
    loss, lse = module(*args)
    ref_loss, ref_lse = linear_cross_entropy(*args, reduction=reduction, return_lse=True)
    torch.testing.assert_close(loss, ref_loss, rtol=0, atol=0)
    torch.testing.assert_close(lse, ref_lse, rtol=0, atol=0)
    torch.testing.assert_close(lse, torch.logsumexp(x["hidden"] @ x["weight"].T + x["bias"], -1))
    assert "return_lse=True" in repr(module)
    with pytest.raises(TypeError, match="return_lse: expected a bool, got 1"):
        crossent.nn.LinearCrossEntropyLoss(return_lse=1)  # type: ignore[arg-type]
