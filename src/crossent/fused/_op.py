"""``linear_cross_entropy`` as PyTorch custom operators, for ``torch.compile``.

Under ``torch.compile`` the loss is one opaque operator, ``crossent::linear_cross_entropy``
(no graph break, so ``fullgraph=True`` works), whose backward is a second operator,
``crossent::linear_cross_entropy_backward``. A custom operator is a pure function, so it
cannot hand gradients computed in the forward pass to the backward one: the forward pass
computes the loss, ``lse`` and statistics only (2·N·D·V flops) and the backward pass
recomputes the logits (the same chunk loops as in eager mode), 10·N·D·V flops in all
instead of eager mode's 6 to 8. Both operators run eagerly inside, on real tensors, so the
value checks of the targets happen there.

Not differentiable twice: the backward operator has no derivative (a clear error).
"""

from typing import Any, Optional  # custom_op reads these annotations at run time

import torch
from torch import Tensor

from crossent.fused._chunked import compute_dtype
from crossent.fused._function import forward_outputs, recompute_grads

_Out = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]


@torch.library.custom_op("crossent::linear_cross_entropy", mutates_args=())
def linear_cross_entropy_op(
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Optional[Tensor],  # noqa: UP045
    class_weight: Optional[Tensor],  # noqa: UP045
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: Optional[float],  # noqa: UP045
    reduction: str,
    chunk_size: int,
    with_stats: bool,
    impl: str,
) -> _Out:
    """``(loss, lse, entropy, target_logprob, correct)`` for ``hidden [N, D]``; the last
    three are empty unless ``with_stats``. Arguments as in ``linear_cross_entropy``."""
    from crossent.fused._api import CallOptions, _check_target_values, plan

    c = CallOptions(
        ignore_index, label_smoothing, z_loss, softcap, reduction, chunk_size, with_stats, impl
    )
    _check_target_values(targets, weight.shape[0], ignore_index)
    opts, loop = plan(hidden, weight.shape[0], c)
    outs, _ = forward_outputs(hidden, weight, bias, targets, class_weight, opts, loop)
    outs = _unaliased(outs)
    if with_stats:
        loss, lse, entropy, logprob, correct = outs
        return loss, lse, entropy, logprob, correct
    loss, lse = outs
    empty = lse.new_empty(0)
    return loss, lse, empty, empty.clone(), torch.zeros(0, dtype=torch.bool, device=lse.device)


def _unaliased(outs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Operator outputs may not share memory (the Triton path's are columns of one buffer)."""
    seen: set[int] = set()
    result = []
    for o in outs:
        ptr = o.untyped_storage().data_ptr()
        result.append(o.clone() if ptr in seen and o.numel() else o)
        seen.add(ptr)
    return tuple(result)


@linear_cross_entropy_op.register_fake
def _(
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Optional[Tensor],  # noqa: UP045
    class_weight: Optional[Tensor],  # noqa: UP045
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: Optional[float],  # noqa: UP045
    reduction: str,
    chunk_size: int,
    with_stats: bool,
    impl: str,
) -> _Out:
    n = hidden.shape[0]
    dt = compute_dtype(hidden.dtype)
    m = n if with_stats else 0
    return (
        hidden.new_empty((n,) if reduction == "none" else ()),
        hidden.new_empty((n,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=dt),
        hidden.new_empty((m,), dtype=torch.bool),
    )


@torch.library.custom_op("crossent::linear_cross_entropy_backward", mutates_args=())
def linear_cross_entropy_backward_op(
    g_loss: Tensor,
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Optional[Tensor],  # noqa: UP045
    class_weight: Optional[Tensor],  # noqa: UP045
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: Optional[float],  # noqa: UP045
    reduction: str,
    chunk_size: int,
    with_stats: bool,
    impl: str,
    need_hidden: bool,
    need_weight: bool,
    need_bias: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients of the loss for upstream ``g_loss``; an unneeded one is an empty tensor."""
    from crossent.fused._api import CallOptions, plan

    c = CallOptions(
        ignore_index, label_smoothing, z_loss, softcap, reduction, chunk_size, with_stats, impl
    )
    opts, loop = plan(hidden, weight.shape[0], c)
    need = (need_hidden, need_weight, need_bias and bias is not None)
    grads = recompute_grads(g_loss, hidden, weight, bias, targets, class_weight, opts, need, loop)
    empty = hidden.new_empty(0)
    return (
        empty if grads.hidden is None else grads.hidden.to(hidden.dtype),
        empty.clone() if grads.weight is None else grads.weight.to(weight.dtype),
        empty.clone() if grads.bias is None or bias is None else grads.bias.to(bias.dtype),
    )


@linear_cross_entropy_backward_op.register_fake
def _(
    g_loss: Tensor,
    hidden: Tensor,
    weight: Tensor,
    targets: Tensor,
    bias: Optional[Tensor],  # noqa: UP045
    class_weight: Optional[Tensor],  # noqa: UP045
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: Optional[float],  # noqa: UP045
    reduction: str,
    chunk_size: int,
    with_stats: bool,
    impl: str,
    need_hidden: bool,
    need_weight: bool,
    need_bias: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    return (
        torch.empty_like(hidden) if need_hidden else hidden.new_empty(0),
        torch.empty_like(weight) if need_weight else hidden.new_empty(0),
        torch.empty_like(bias) if need_bias and bias is not None else hidden.new_empty(0),
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


linear_cross_entropy_op.register_autograd(_backward, setup_context=_setup_context)
