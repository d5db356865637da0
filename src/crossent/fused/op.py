"""``linear_cross_entropy`` as PyTorch custom operators, for ``torch.compile``.

Under ``torch.compile`` the loss is one opaque operator, ``crossent::linear_cross_entropy``
(no graph break, so ``fullgraph=True`` works), whose backward is a second operator,
``crossent::linear_cross_entropy_backward``. A custom operator is a pure function, so it
cannot hand gradients computed in the forward pass to the backward one: the forward pass
computes the loss, ``lse`` and statistics only (2·N·D·V flops) and the backward pass
recomputes the logits (the same chunk loops as in eager mode), 10·N·D·V flops in all
instead of eager mode's 6 to 8. Both operators run eagerly inside, on real tensors, so the
value checks of the targets happen there.

Both schemas are generated from one declaration, the fields of
:class:`~crossent.fused.records.Options` (so the operators' scalars cannot drift from the
options), and every implementation takes the scalars as ``*options``.

Not differentiable twice: the backward operator has no derivative (a clear error).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from crossent.fused.autograd import forward_outputs, recompute_grads
from crossent.fused.checks import check_target_values
from crossent.fused.loop import accumulation_dtype
from crossent.fused.plan import plan
from crossent.fused.records import Needs, Options

_SCHEMA_TYPES = {"int": "int", "float": "float", "float | None": "float?", "str": "str"}
_SCHEMA_TYPES["bool"] = "bool"
_TENSORS = "Tensor hidden, Tensor weight, Tensor targets, Tensor? bias, Tensor? class_weight"
_OPTIONS = ", ".join(f"{_SCHEMA_TYPES[str(f.type)]} {f.name}" for f in dataclasses.fields(Options))
_NEEDS = ", ".join(f"bool need_{f.name}" for f in dataclasses.fields(Needs))

FORWARD = "crossent::linear_cross_entropy"
BACKWARD = "crossent::linear_cross_entropy_backward"
torch.library.define(
    FORWARD, f"({_TENSORS}, {_OPTIONS}) -> (Tensor, Tensor, Tensor, Tensor, Tensor)"
)
torch.library.define(
    BACKWARD, f"(Tensor g_loss, {_TENSORS}, {_OPTIONS}, {_NEEDS}) -> (Tensor, Tensor, Tensor)"
)

_Out = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]


@torch.library.register_kernel(FORWARD, None)  # type: ignore[untyped-decorator]
def _forward(
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Tensor | None,
    class_weight: Tensor | None,
    *options: Any,
) -> _Out:
    """``(loss, lse, entropy, target_logprob, correct)`` for ``hidden [N, D]``; the last
    three are empty unless ``with_stats``."""
    opts = Options(*options)
    check_target_values(targets, weight.shape[0], opts.ignore_index)
    p = plan(hidden, weight.shape[0], opts)
    loss, lse, stats, _ = forward_outputs(hidden, weight, bias, targets, class_weight, p)
    if stats is None:
        empty = lse.new_empty(0)
        correct = torch.zeros(0, dtype=torch.bool, device=lse.device)
        return loss, lse, empty, empty.clone(), correct
    outs = (loss, lse, stats.entropy, stats.target_logprob, stats.correct)
    return _unaliased(outs)


def _unaliased(outs: _Out) -> _Out:
    """Operator outputs may not share memory (the Triton path's are columns of one buffer)."""
    seen: set[int] = set()
    result = []
    for o in outs:
        ptr = o.untyped_storage().data_ptr()
        result.append(o.clone() if ptr in seen and o.numel() else o)
        seen.add(ptr)
    loss, lse, entropy, logprob, correct = result
    return loss, lse, entropy, logprob, correct


@torch.library.register_fake(FORWARD)  # type: ignore[untyped-decorator]
def _forward_fake(
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Tensor | None,
    class_weight: Tensor | None,
    *options: Any,
) -> _Out:
    opts = Options(*options)
    n = hidden.shape[0]
    dt = accumulation_dtype(hidden.dtype)
    m = n if opts.with_stats else 0
    return (
        hidden.new_empty((n,) if opts.reduction == "none" else ()),
        hidden.new_empty((n,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=torch.bool),
    )


def _split(args: tuple[Any, ...]) -> tuple[Options, Needs]:
    """The scalars of the backward operator: the options, then the needs."""
    k = len(dataclasses.fields(Options))
    return Options(*args[:k]), Needs(*args[k:])


@torch.library.register_kernel(BACKWARD, None)  # type: ignore[untyped-decorator]
def _backward_kernel(
    g_loss: Tensor,
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Tensor | None,
    class_weight: Tensor | None,
    *scalars: Any,
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of the loss for upstream ``g_loss``; an unneeded one is an empty tensor."""
    opts, needs = _split(scalars)
    needs = dataclasses.replace(needs, bias=needs.bias and bias is not None)
    p = plan(hidden, weight.shape[0], opts)
    grads = recompute_grads(g_loss, hidden, weight, bias, targets, class_weight, p, needs)
    empty = hidden.new_empty(0)
    return (
        empty if grads.hidden is None else grads.hidden.to(hidden.dtype),
        empty.clone() if grads.weight is None else grads.weight.to(weight.dtype),
        empty.clone() if grads.bias is None or bias is None else grads.bias.to(bias.dtype),
    )


@torch.library.register_fake(BACKWARD)  # type: ignore[untyped-decorator]
def _backward_fake(
    g_loss: Tensor,
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Tensor | None,
    class_weight: Tensor | None,
    *scalars: Any,
) -> tuple[Tensor, Tensor, Tensor]:
    _, needs = _split(scalars)
    return (
        torch.empty_like(hidden) if needs.hidden else hidden.new_empty(0),
        torch.empty_like(weight) if needs.weight else hidden.new_empty(0),
        torch.empty_like(bias) if needs.bias and bias is not None else hidden.new_empty(0),
    )


def _setup_context(ctx: Any, inputs: tuple[Any, ...], output: _Out) -> None:
    hidden, weight, targets, bias, class_weight, *options = inputs
    ctx.save_for_backward(hidden, weight, targets, bias, class_weight)
    ctx.options = options


def _backward(ctx: Any, g_loss: Tensor, *_: Tensor) -> tuple[Tensor | None, ...]:
    hidden, weight, targets, bias, class_weight = ctx.saved_tensors
    need = ctx.needs_input_grad  # (hidden, weight, targets, bias, class_weight, options…)
    gh, gw, gb = linear_cross_entropy_backward_op(
        g_loss, hidden, weight, targets, bias, class_weight, *ctx.options, need[0], need[1], need[3]
    )
    rest = [None] * (len(ctx.options) + 1)  # class_weight and the options
    return (gh if need[0] else None, gw if need[1] else None, None, gb if need[3] else None, *rest)


linear_cross_entropy_op = torch.ops.crossent.linear_cross_entropy.default
linear_cross_entropy_backward_op = torch.ops.crossent.linear_cross_entropy_backward.default
torch.library.register_autograd(FORWARD, _backward, setup_context=_setup_context)
