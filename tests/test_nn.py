"""crossent.nn.CrossEntropyLoss / BCEWithLogitsLoss against torch.nn's modules (the oracle)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
import torch

from crossent import nn

INT_DTYPES = [torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8]
SHAPES = {"C": ((6,), ()), "NC": ((9, 6), (9,)), "NCdd": ((3, 6, 4, 5), (3, 4, 5))}


def _inputs(layout: str, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape, tshape = SHAPES[layout]
    x = (torch.randn(shape, dtype=torch.float64, generator=g) * 2).requires_grad_()
    y = torch.randint(0, 6, tshape, generator=g)
    if y.ndim:
        y[torch.rand(tshape, generator=g) < 0.2] = 5  # used as ignore_index below
    probs = torch.softmax(
        torch.randn(shape, dtype=torch.float64, generator=g), dim=min(1, len(shape) - 1)
    )
    return x, y, probs


Same = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]


@pytest.mark.parametrize(
    ("layout", "reduction", "smoothing", "weighted", "ignore"),
    list(
        itertools.product(
            ["C", "NC", "NCdd"], ["mean", "sum", "none"], [0.0, 0.2], [False, True], [-100, 5]
        )
    ),
)
def test_cross_entropy_matches_torch_module(
    layout: str,
    reduction: str,
    smoothing: float,
    weighted: bool,
    ignore: int,
    same_value_and_grad: Same,
) -> None:
    x, y, _ = _inputs(layout, seed=len(layout))
    w = torch.rand(6, dtype=torch.float64) + 0.1 if weighted else None
    kw = {"ignore_index": ignore, "reduction": reduction, "label_smoothing": smoothing}
    ours = nn.CrossEntropyLoss(w, **kw)(x, y)  # weight positional, as in torch
    ref = torch.nn.CrossEntropyLoss(w, **kw)(x, y)
    same_value_and_grad(ours, ref, x)


@pytest.mark.parametrize(("layout", "dtype"), list(itertools.product(["NC", "NCdd"], INT_DTYPES)))
def test_cross_entropy_every_integer_target_dtype(
    layout: str, dtype: torch.dtype, same_value_and_grad: Same
) -> None:
    x, y, _ = _inputs(layout, seed=7)
    w = torch.rand(6, dtype=torch.float64) + 0.1
    ours = nn.CrossEntropyLoss(weight=w, ignore_index=5)(input=x, target=y.to(dtype))
    ref = torch.nn.CrossEntropyLoss(weight=w, ignore_index=5)(input=x, target=y)  # int64 only
    same_value_and_grad(ours, ref, x)


@pytest.mark.parametrize(("layout", "weighted"), list(itertools.product(SHAPES, [False, True])))
def test_cross_entropy_probability_targets(
    layout: str, weighted: bool, same_value_and_grad: Same
) -> None:
    x, _, probs = _inputs(layout, seed=3)
    w = torch.rand(6, dtype=torch.float64) if weighted else None
    for reduction in ("mean", "none"):
        kw = {"reduction": reduction, "label_smoothing": 0.1}
        same_value_and_grad(
            nn.CrossEntropyLoss(w, **kw)(x, probs), torch.nn.CrossEntropyLoss(w, **kw)(x, probs), x
        )


def test_module_state_and_repr_follow_torch() -> None:
    w = torch.tensor([1.0, 2.0, 3.0])
    ours, ref = nn.CrossEntropyLoss(w), torch.nn.CrossEntropyLoss(w)
    assert ours.state_dict().keys() == ref.state_dict().keys() == {"weight"}
    assert ours.to(torch.float64).weight.dtype == torch.float64  # a buffer: moves with .to()
    b_ours = nn.BCEWithLogitsLoss(w, pos_weight=w)
    b_ref = torch.nn.BCEWithLogitsLoss(w, pos_weight=w)
    assert b_ours.state_dict().keys() == b_ref.state_dict().keys() == {"weight", "pos_weight"}
    assert "reduction='mean'" in repr(ours) and "label_smoothing=0.0" in repr(ours)


@pytest.mark.parametrize(
    ("size_average", "reduce"), [(False, None), (None, False), (True, True), (False, True)]
)
def test_legacy_reduction_flags_map_as_in_torch(
    size_average: bool | None, reduce: bool | None, same_value_and_grad: Same
) -> None:
    x, y, _ = _inputs("NC", seed=4)
    with pytest.warns(DeprecationWarning, match="size_average and reduce are deprecated"):
        ours = nn.CrossEntropyLoss(None, size_average, -100, reduce)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ref = torch.nn.CrossEntropyLoss(None, size_average, -100, reduce)
    assert ours.reduction == ref.reduction
    same_value_and_grad(ours(x, y), ref(x, y), x)


@pytest.mark.parametrize(
    ("reduction", "weighted", "pos"),
    list(itertools.product(["mean", "sum", "none"], [False, True], [False, True])),
)
def test_bce_with_logits_matches_torch_module(
    reduction: str, weighted: bool, pos: bool, same_value_and_grad: Same
) -> None:
    g = torch.Generator().manual_seed(5)
    x = (torch.randn(7, 4, dtype=torch.float64, generator=g) * 4).requires_grad_()
    y = torch.rand(7, 4, dtype=torch.float64, generator=g)
    w = torch.rand(7, 1, dtype=torch.float64, generator=g) if weighted else None
    pw = torch.rand(4, dtype=torch.float64, generator=g) * 3 if pos else None
    ours = nn.BCEWithLogitsLoss(w, reduction=reduction, pos_weight=pw)(input=x, target=y)
    ref = torch.nn.BCEWithLogitsLoss(w, reduction=reduction, pos_weight=pw)(input=x, target=y)
    same_value_and_grad(ours, ref, x)


def test_documented_improvements_over_torch() -> None:
    x = torch.randn(3, 4, requires_grad=True)
    all_ignored = torch.full((3,), -100)
    assert torch.isnan(torch.nn.CrossEntropyLoss()(x, all_ignored))
    loss = nn.CrossEntropyLoss()(x, all_ignored)
    assert loss.item() == 0.0
    assert torch.equal(torch.autograd.grad(loss, x)[0], torch.zeros_like(x))
    with pytest.raises(
        ValueError, match=r"label_smoothing: expected a number in \[0, 1\], got -0.1"
    ):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="reduction: expected one of"):
        nn.BCEWithLogitsLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"weight: contains NaN"):
        nn.CrossEntropyLoss(torch.tensor([1.0, float("nan"), 1.0, 1.0]))(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"targets: probabilities must be <= 1, got 2.0"):
        nn.BCEWithLogitsLoss()(x, torch.full((3, 4), 2.0))
