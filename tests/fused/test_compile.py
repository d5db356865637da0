"""``torch.compile``: the fused loss is one custom operator, no graph break (fullgraph)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from tests.fused.conftest import make_inputs

from crossent.fused import linear_cross_entropy
from crossent.fused.op import linear_cross_entropy_op
from crossent.fused.records import Options

N, D, V = 45, 12, 67


def _inputs(prob: bool, seed: int = 0) -> dict[str, torch.Tensor]:
    return make_inputs(N, D, V, dtype=torch.float32, prob=prob, seed=seed, ignored=1 / 6)


def _loss_and_grads(fn: Any, x: dict[str, torch.Tensor], upstream: torch.Tensor) -> list[Any]:
    h, w, b = (x[k].clone().requires_grad_() for k in ("hidden", "weight", "bias"))
    out = fn(h, w, x["targets"], b)
    grads = torch.autograd.grad(out.loss, (h, w, b), upstream)
    return [*out, *grads]


CASES = [
    ({"label_smoothing": 0.1, "z_loss": 1e-3}, "mean", False),
    ({"softcap": 3.0}, "none", False),
    ({"label_smoothing": 0.2}, "sum", True),
    ({"impl": "triton"}, "mean", False),  # the Triton kernels (interpreted on CPUs)
]


@pytest.mark.parametrize(("kw", "reduction", "prob"), CASES)
def test_fullgraph_compile_matches_eager(kw: dict[str, Any], reduction: str, prob: bool) -> None:
    x = _inputs(prob)
    if kw.get("impl") == "triton":
        pytest.importorskip("triton")
        if torch.cuda.is_available():  # else the interpreter runs the kernels on the CPU
            x = {k: v.cuda() for k, v in x.items()}

    def step(h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor) -> Any:
        return linear_cross_entropy(
            h, w, y, b, reduction=reduction, return_stats=True, chunk_size=16, **kw
        )

    up = torch.randn(N) if reduction == "none" else torch.tensor(0.7)
    up = up.to(x["hidden"].device)
    eager = _loss_and_grads(step, x, up)
    compiled = _loss_and_grads(torch.compile(step, fullgraph=True, backend="aot_eager"), x, up)
    for a, b in zip(compiled, eager, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_naive_reference_compiles_too() -> None:
    """impl="naive" is traced as plain torch code (the math layer's value checks are
    skipped while traced), so fullgraph works there as well."""
    x = _inputs(prob=False, seed=3)

    def step(h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor) -> Any:
        return linear_cross_entropy(h, w, y, b, impl="naive", return_stats=True)

    up = torch.tensor(1.0)
    eager = _loss_and_grads(step, x, up)
    compiled = _loss_and_grads(torch.compile(step, fullgraph=True, backend="aot_eager"), x, up)
    for a, b in zip(compiled, eager, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


# inductor's own use of torch.jit.script_method warns on this torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_inductor_fullgraph_with_surrounding_ops() -> None:
    """The default backend compiles the model code around the operator."""
    x = _inputs(prob=False, seed=1)

    def step(h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor) -> Any:
        h = torch.tanh(h) * 2
        out = linear_cross_entropy(h, w, y, b, return_stats=True)
        return out._replace(loss=out.loss + 0.01 * (w**2).sum())

    up = torch.tensor(1.0)
    eager = _loss_and_grads(step, x, up)
    compiled = _loss_and_grads(torch.compile(step, fullgraph=True), x, up)
    for a, b in zip(compiled, eager, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("with_stats", [False, True])
def test_operator_passes_opcheck(with_stats: bool) -> None:
    """Schema, fake-tensor shapes and autograd registration, checked by torch itself."""
    x = _inputs(prob=False, seed=2)
    args = (
        x["hidden"].requires_grad_(),
        x["weight"].requires_grad_(),
        x["targets"],
        x["bias"].requires_grad_(),
        None,
        *dataclasses.astuple(Options(-100, 0.05, 0.0, None, 1.0, "mean", 16, with_stats, "torch")),
    )
    result = torch.library.opcheck(linear_cross_entropy_op, args)
    assert set(result.values()) == {"SUCCESS"}, result


def test_bad_targets_are_reported_from_inside_the_compiled_graph() -> None:
    x = _inputs(prob=False)
    y = x["targets"].clone()
    y[3] = V + 5
    compiled = torch.compile(linear_cross_entropy, fullgraph=True, backend="aot_eager")
    with pytest.raises(
        IndexError, match=r"targets: class index 72 at index \(3,\) is out of range"
    ):
        compiled(x["hidden"], x["weight"], y)


def test_double_backward_through_the_compiled_operator_is_an_error() -> None:
    x = _inputs(prob=False)
    h = x["hidden"].clone().requires_grad_()
    compiled = torch.compile(linear_cross_entropy, fullgraph=True, backend="aot_eager")
    loss = compiled(h, x["weight"], x["targets"])
    (g,) = torch.autograd.grad(loss, h, create_graph=True)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(g.sum(), h)
