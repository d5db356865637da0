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
from crossent.fused.records import Needs, Options, Problem

_SCHEMA_TYPES = {"int": "int", "float": "float", "str": "str", "bool": "bool"}
_SCHEMA_TYPES |= {"int | None": "int?", "float | None": "float?"}
_TENSORS = "Tensor hidden, Tensor weight, Tensor targets, Tensor? bias, Tensor? class_weight"
_OPTIONS = ", ".join(f"{_SCHEMA_TYPES[str(f.type)]} {f.name}" for f in dataclasses.fields(Options))
_NEEDS = ", ".join(f"bool need_{f.name}" for f in dataclasses.fields(Needs))
_GRADS = "Tensor? g_loss, Tensor? g_entropy"

FORWARD = "crossent::linear_cross_entropy"
BACKWARD = "crossent::linear_cross_entropy_backward"
torch.library.define(
    FORWARD, f"({_TENSORS}, {_OPTIONS}) -> (Tensor, Tensor, Tensor, Tensor, Tensor)"
)
torch.library.define(
    BACKWARD, f"({_GRADS}, {_TENSORS}, {_OPTIONS}, {_NEEDS}) -> (Tensor, Tensor, Tensor, Tensor)"
)

_Out = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]
_N_OPTIONS = len(dataclasses.fields(Options))


def _forward_args(args: tuple[Any, ...]) -> tuple[Problem, Options]:
    """The forward operator's arguments: five tensors, then the options."""
    hidden, weight, targets, bias, class_weight, *options = args
    return Problem(hidden, weight, bias, targets, class_weight), Options(*options)


def _backward_args(
    args: tuple[Any, ...],
) -> tuple[Tensor | None, Tensor | None, Problem, Options, Needs]:
    """The backward operator's: the upstream gradients, the forward's, then the needs."""
    problem, options = _forward_args(args[2 : 7 + _N_OPTIONS])
    return args[0], args[1], problem, options, Needs(*args[7 + _N_OPTIONS :])


@torch.library.register_kernel(FORWARD, None)  # type: ignore[untyped-decorator]
def _forward(*args: Any) -> _Out:
    """``(loss, lse, entropy, target_logprob, correct)`` for ``hidden [N, D]``; the last
    three are empty unless ``with_stats``."""
    problem, opts = _forward_args(args)
    check_target_values(
        problem.targets, problem.weight.shape[0], opts.ignore_index, problem.class_weight
    )
    p = plan(problem.hidden, problem.weight.shape[0], opts)
    loss, lse, stats, _ = forward_outputs(problem, p)
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
def _forward_fake(*args: Any) -> _Out:
    problem, opts = _forward_args(args)
    hidden = problem.hidden
    n = hidden.shape[0]
    dt = accumulation_dtype(hidden.dtype)
    m = n if opts.with_stats else 0
    loss_dtype = dt if opts.float32_loss else hidden.dtype
    return (
        hidden.new_empty((n,) if opts.reduction == "none" else (), dtype=loss_dtype),
        hidden.new_empty((n,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=torch.bool),
    )


_Grads4 = tuple[Tensor, Tensor, Tensor, Tensor]


@torch.library.register_kernel(BACKWARD, None)  # type: ignore[untyped-decorator]
def _backward_kernel(*args: Any) -> _Grads4:
    """Gradients for the upstream gradients of the loss and the entropy (``hidden``,
    ``weight``, ``bias``, probability ``targets``); an unneeded one is an empty tensor."""
    g_loss, g_entropy, problem, opts, needs = _backward_args(args)
    h, w, b = problem.hidden, problem.weight, problem.bias
    needs = dataclasses.replace(needs, bias=needs.bias and b is not None)
    p = plan(h, w.shape[0], opts, targets_grad=needs.targets)
    grads = recompute_grads(g_loss, problem, p, needs, g_entropy)
    parts = (grads.hidden, grads.weight, grads.bias, grads.targets)
    like = (h, w, b, problem.targets)
    return tuple(  # type: ignore[return-value]
        h.new_empty(0) if g is None or x is None else g.to(x.dtype)
        for g, x in zip(parts, like, strict=True)
    )


@torch.library.register_fake(BACKWARD)  # type: ignore[untyped-decorator]
def _backward_fake(*args: Any) -> _Grads4:
    _, _, problem, _, needs = _backward_args(args)
    wanted = (needs.hidden, needs.weight, needs.bias, needs.targets)
    like = (problem.hidden, problem.weight, problem.bias, problem.targets)
    return tuple(  # type: ignore[return-value]
        torch.empty_like(x) if want and x is not None else problem.hidden.new_empty(0)
        for want, x in zip(wanted, like, strict=True)
    )


def _setup_context(ctx: Any, inputs: tuple[Any, ...], output: _Out) -> None:
    hidden, weight, targets, bias, class_weight, *options = inputs
    ctx.save_for_backward(hidden, weight, targets, bias, class_weight)
    ctx.options = options


def _backward(ctx: Any, g_loss: Tensor, _g_lse: Any, g_entropy: Any, *_: Any) -> tuple[Any, ...]:
    hidden, weight, targets, bias, class_weight = ctx.saved_tensors
    need = ctx.needs_input_grad  # (hidden, weight, targets, bias, class_weight, options…)
    if not Options(*ctx.options).with_stats:
        g_entropy = None  # the entropy output is empty
    gh, gw, gb, gt = linear_cross_entropy_backward_op(
        g_loss,
        g_entropy,
        hidden,
        weight,
        targets,
        bias,
        class_weight,
        *ctx.options,
        need[0],
        need[1],
        need[3],
        need[2],
    )
    grads = [gh if need[0] else None, gw if need[1] else None, gt if need[2] else None]
    rest = [None] * (len(ctx.options) + 1)  # class_weight and the options
    return (*grads, gb if need[3] else None, *rest)


linear_cross_entropy_op = torch.ops.crossent.linear_cross_entropy.default
linear_cross_entropy_backward_op = torch.ops.crossent.linear_cross_entropy_backward.default
torch.library.register_autograd(FORWARD, _backward, setup_context=_setup_context)
