"""softmax_cross_entropy and binary_cross_entropy_with_logits against torch.nn.functional."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tests.tolerance import assert_close_to_inputs

import crossent

REDUCTIONS = ["mean", "sum", "none"]


def _case(layout: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    g = torch.Generator().manual_seed(seed)
    shape, tshape, axis = {
        "NC": ((13, 7), (13,), -1),
        "NCd": ((4, 7, 3, 5), (4, 3, 5), 1),
    }[layout]
    logits = (torch.randn(shape, generator=g, dtype=torch.float64) * 3).requires_grad_()
    targets = torch.randint(0, 7, tshape, generator=g)
    targets[torch.rand(tshape, generator=g) < 0.2] = -100
    probs = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim=axis)
    return logits, targets, probs, axis


@pytest.mark.parametrize(
    ("layout", "reduction", "smoothing", "weighted"),
    list(itertools.product(["NC", "NCd"], REDUCTIONS, [0.0, 0.15], [False, True])),
)
def test_class_targets_match_torch(
    layout: str,
    reduction: str,
    smoothing: float,
    weighted: bool,
    same_value_and_grad: Callable[..., None],
) -> None:
    logits, targets, _, axis = _case(layout)
    weight = torch.rand(7, dtype=torch.float64) + 0.1 if weighted else None
    kw = {"weight": weight, "label_smoothing": smoothing, "reduction": reduction}
    ours = crossent.softmax_cross_entropy(logits, targets, axis=axis, **kw)
    same_value_and_grad(ours, F.cross_entropy(logits, targets, **kw), logits)


@pytest.mark.parametrize(
    ("layout", "reduction", "smoothing", "weighted"),
    list(itertools.product(["NC", "NCd"], REDUCTIONS, [0.0, 0.3], [False, True])),
)
def test_probability_targets_match_torch(
    layout: str,
    reduction: str,
    smoothing: float,
    weighted: bool,
    same_value_and_grad: Callable[..., None],
) -> None:
    logits, _, probs, axis = _case(layout, seed=1)
    weight = torch.rand(7, dtype=torch.float64) if weighted else None
    kw = {"weight": weight, "label_smoothing": smoothing, "reduction": reduction}
    ours = crossent.softmax_cross_entropy(logits, probs, axis=axis, **kw)
    same_value_and_grad(ours, F.cross_entropy(logits, probs, **kw), logits)


def test_numpy_matches_torch_and_float64_oracle() -> None:
    logits, targets, _probs, _ = _case("NC", seed=2)
    z, t = logits.detach().numpy(), targets.numpy()
    got = crossent.softmax_cross_entropy(z, t, label_smoothing=0.1)
    assert isinstance(got, np.ndarray | np.floating)
    ref = F.cross_entropy(logits, targets, label_smoothing=0.1)
    assert_close_to_inputs(got, ref.item(), z)  # lse - z_y cancels: ulps of |z|
    # float64 oracle written out: -z_y + log Σ exp(z), averaged over valid rows
    valid = t != -100
    lse = np.log(np.exp(z[valid]).sum(-1))
    form1 = np.mean(lse - z[valid, t[valid]])
    assert_close_to_inputs(crossent.softmax_cross_entropy(z, t), form1, z)


def test_all_rows_ignored_gives_zero_and_zero_gradient() -> None:
    logits = torch.randn(5, 4, requires_grad=True)
    targets = torch.full((5,), -100)
    loss = crossent.softmax_cross_entropy(logits, targets, label_smoothing=0.2)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))
    assert torch.isnan(F.cross_entropy(logits.detach(), targets))  # PyTorch's behaviour
    empty = crossent.softmax_cross_entropy(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    assert empty.item() == 0.0


def test_zero_probability_on_minus_inf_logit() -> None:
    logits = torch.tensor([[0.0, -torch.inf, 1.0]], requires_grad=True)
    probs = torch.tensor([[0.5, 0.0, 0.5]])
    loss = crossent.softmax_cross_entropy(logits, probs)
    assert torch.isfinite(loss)
    expected = -(0.5 * torch.log_softmax(logits.detach(), -1)[0, [0, 2]]).sum()
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert torch.isnan(F.cross_entropy(logits.detach(), probs))  # PyTorch's behaviour


def test_huge_logits_are_stable() -> None:
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    targets = torch.tensor([1, 2])
    loss = crossent.softmax_cross_entropy(logits, targets)
    torch.testing.assert_close(loss, F.cross_entropy(logits, targets))
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_half_precision_accumulates_in_float32() -> None:
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, 5000, generator=g) * 4
    targets = torch.randint(0, 5000, (64,), generator=g)
    truth = F.cross_entropy(logits.double(), targets)
    for dtype in (torch.float16, torch.bfloat16):
        ours = crossent.softmax_cross_entropy(logits.to(dtype), targets)
        assert ours.dtype == dtype
        naive = F.cross_entropy(logits.to(dtype), targets)
        assert abs(ours.double() - truth) <= abs(naive.double() - truth) + 1e-2


def test_gradcheck_float64() -> None:
    logits, targets, probs, axis = _case("NCd", seed=4)
    w = torch.rand(7, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda z: crossent.softmax_cross_entropy(
            z, targets, axis=axis, weight=w, label_smoothing=0.1
        ),
        (logits,),
    )
    assert torch.autograd.gradcheck(
        lambda z: crossent.softmax_cross_entropy(z, probs, axis=axis, reduction="none"), (logits,)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_matches_torch(reduction: str) -> None:
    g = torch.Generator().manual_seed(5)
    x = (torch.randn(9, 4, generator=g, dtype=torch.float64) * 5).requires_grad_()
    x.data[0, :] = torch.tensor([1000.0, -1000.0, 0.0, 50.0], dtype=torch.float64)
    y = torch.rand(9, 4, generator=g, dtype=torch.float64)
    y[1] = torch.tensor([0.0, 1.0, 0.0, 1.0])
    pw = torch.rand(4, generator=g, dtype=torch.float64) * 3
    w = torch.rand(9, 1, generator=g, dtype=torch.float64)
    for kw in ({}, {"pos_weight": pw}, {"weight": w, "pos_weight": pw}):
        ours = crossent.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kw)
        ref = F.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kw)
        torch.testing.assert_close(ours, ref)
        (g1,) = torch.autograd.grad(ours.sum(), x)
        (g2,) = torch.autograd.grad(ref.sum(), x)
        torch.testing.assert_close(g1, g2)
        assert torch.isfinite(g1).all()
    np_loss = crossent.binary_cross_entropy_with_logits(
        x.detach().numpy(), y.numpy(), pos_weight=pw.numpy(), reduction=reduction
    )
    ref = F.binary_cross_entropy_with_logits(x.detach(), y, pos_weight=pw, reduction=reduction)
    assert_close_to_inputs(np_loss, ref.numpy(), x.detach(), pw)  # max(x,0) - x·y + ...


def test_binary_empty_mean_is_zero() -> None:
    assert crossent.binary_cross_entropy_with_logits(np.zeros(0), np.zeros(0)) == 0.0


def _bad(**kw: object) -> None:
    args = {"logits": np.zeros((3, 4)), "targets": np.array([0, 1, 2])} | kw
    crossent.softmax_cross_entropy(args.pop("logits"), args.pop("targets"), **args)


@pytest.mark.parametrize(
    ("kw", "exc", "pattern"),
    [
        (
            {"targets": np.array([0, 4, 1])},
            IndexError,
            r"targets: class index 4 at index \(1,\) is out of range \[0, 3\]",
        ),
        ({"targets": np.array([0, -3, 1])}, IndexError, "class index -3"),
        (
            {"targets": np.array([0, 1])},
            ValueError,
            r"targets: expected shape \(3,\) .* got \(2,\)",
        ),
        (
            {"targets": np.zeros((3, 5))},
            ValueError,
            r"targets: expected shape \(3, 4\) \(probabilities",
        ),
        ({"targets": np.array([[np.nan, 1, 0, 0]] * 3)}, ValueError, "targets: contains NaN"),
        (
            {"targets": np.full((3, 4), 0.25), "ignore_index": 0},
            ValueError,
            "ignore_index: only class-index targets",
        ),
        (
            {"weight": np.ones(3)},
            ValueError,
            r"weight: expected shape \(4,\) \(one weight per class\), got \(3,\)",
        ),
        ({"reduction": "avg"}, ValueError, "reduction: expected one of .* got 'avg'"),
        (
            {"logits": np.zeros((3, 4), dtype=np.int64)},
            TypeError,
            "logits: expected a floating-point array, got dtype int64",
        ),
        (
            {"label_smoothing": -0.1},
            ValueError,
            r"label_smoothing: expected a number in \[0, 1\], got -0.1",
        ),
        ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
        (
            {"targets": np.array([True, False, True])},
            TypeError,
            "targets: expected integer class indices",
        ),
    ],
)
def test_bad_input(kw: dict[str, object], exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        _bad(**kw)


def test_binary_bad_input() -> None:
    with pytest.raises(ValueError, match=r"targets: expected shape \(2, 3\)"):
        crossent.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(
        ValueError, match=r"pos_weight: expected a shape that broadcasts to \(2, 3\), got \(2,\)"
    ):
        crossent.binary_cross_entropy_with_logits(
            np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(2)
        )
    with pytest.raises(ValueError, match="targets: probabilities must be <= 1, got 2.0"):
        crossent.binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, 2.0]))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("module", [False, True])
def test_gradient_wrt_probability_target_matches_torch_at_zero_entries(
    weighted: bool, smoothing: float, module: bool
) -> None:
    """d loss / d y_c = -w_c log p_c / N even where y_c = 0 (PyTorch's gradient); only a
    zero target on a -inf logit is masked (torch: NaN there, ours: 0)."""
    g = torch.Generator().manual_seed(7)
    z = torch.randn(5, 4, generator=g, dtype=torch.float64) * 3
    y = torch.softmax(torch.randn(5, 4, generator=g, dtype=torch.float64), -1)
    y[:, 1] = 0.0
    y[2] = torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    y = y / y.sum(-1, keepdim=True)
    w = torch.rand(4, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    kw = {"weight": w, "label_smoothing": smoothing}

    def ours(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if module:
            return crossent.nn.CrossEntropyLoss(**kw)(a, b)
        return crossent.softmax_cross_entropy(a, b, **kw)

    z1, y1 = z.clone().requires_grad_(), y.clone().requires_grad_()
    z2, y2 = z.clone().requires_grad_(), y.clone().requires_grad_()
    grads = torch.autograd.grad(ours(z1, y1), (z1, y1))
    expected = torch.autograd.grad(F.cross_entropy(z2, y2, **kw), (z2, y2))
    assert bool((grads[1][:, 1] != 0).all())  # the zero targets' gradient is not masked
    for a, b in zip(grads, expected, strict=True):
        assert_close_to_inputs(a, b, z)
    if smoothing > 0:  # smoothing puts mass on every class: a -inf logit costs inf
        return
    # a zero target on a -inf logit: masked (finite loss and gradients), the rest as torch
    zi = z.clone()
    zi[0, 1] = -torch.inf
    z3, y3 = zi.clone().requires_grad_(), y.clone().requires_grad_()
    gz, gy = torch.autograd.grad(ours(z3, y3), (z3, y3))
    assert torch.isfinite(gz).all() and torch.isfinite(gy).all() and gy[0, 1] == 0
    z4, y4 = zi.clone().requires_grad_(), y.clone().requires_grad_()
    _, ty = torch.autograd.grad(F.cross_entropy(z4, y4, **kw), (z4, y4))
    mask = torch.ones_like(gy, dtype=torch.bool)
    mask[0, 1] = False
    assert_close_to_inputs(gy[mask], ty[mask], z)
