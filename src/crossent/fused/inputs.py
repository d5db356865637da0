"""What training loops hand the fused op, made ready for it: autocast, the causal shift, and
normalisation by a token count (all outside the autograd function, so gradients flow
through these steps as through any torch operation)."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
from collections.abc import Callable, Iterator

import torch

from crossent.fused.checks import check_inputs
from crossent.fused.outputs import LinearCrossEntropyOutput, pack_output
from crossent.fused.records import Options, Problem, Result

Runner = Callable[[Problem, Options], Result]
"""Computes a flattened problem: the naive reference, the fused op, its parallel form."""


def prepare_and_run(
    given: Problem,
    options: Options,
    shift: int | bool,
    num_items: int | torch.Tensor | None,
    runner: Runner,
) -> LinearCrossEntropyOutput:
    """The steps every public form shares: autocast casts, the input checks, the shift,
    flattening, the runner (autocast off), the outputs in the batch shape, and the division
    by ``num_items``."""
    check_num_items(num_items, options.reduction)
    hidden, weight, bias = autocast_inputs(given.hidden, given.weight, given.bias)
    if isinstance(hidden, torch.Tensor) and autocast_dtype(hidden.device) is not None:
        options = dataclasses.replace(options, float32_loss=True)  # as F.cross_entropy's
    loss_dtype = None if options.float32_loss else getattr(hidden, "dtype", None)
    if num_items is not None:  # the sum in float32 (16 bits overflow), divided below
        options = dataclasses.replace(options, reduction="sum", float32_loss=True)
    targets, class_weight = given.targets, given.class_weight
    check_inputs(hidden, weight, targets, bias, class_weight, options.ignore_index)
    targets = shift_targets(targets, check_shift(shift), options.ignore_index)
    with autocast_off(hidden.device):
        res = runner(flatten(Problem(hidden, weight, bias, targets, class_weight)), options)
    out = pack_output(res.loss, res.lse, res.stats, tuple(hidden.shape[:-1]))
    if num_items is not None:
        loss = per_item(out.loss, num_items)
        out = out._replace(loss=loss if loss_dtype is None else loss.to(loss_dtype))
    return out


def flatten(p: Problem) -> Problem:
    """The rows flattened: ``hidden [N, D]``, targets ``[N]`` or ``[N, V_r]``."""
    n, local = math.prod(p.hidden.shape[:-1]), p.weight.shape[0]
    h2 = p.hidden.reshape(n, p.hidden.shape[-1])  # (explicit n: D may be 0)
    t = p.targets
    t2 = t.reshape(n, local) if t.is_floating_point() else t.reshape(n).long()
    return Problem(h2, p.weight, p.bias, t2, p.class_weight)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype ``torch.autocast`` gives matrix products on ``device`` now, or ``None``."""
    kind = device.type
    if not torch.amp.is_autocast_available(kind) or not torch.is_autocast_enabled(kind):
        return None
    return torch.get_autocast_dtype(kind)


def autocast_inputs(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Under ``torch.autocast``, the floating inputs in the autocast dtype (as ``F.linear``
    would cast them); otherwise unchanged (a dtype mismatch stays the checks' error)."""
    if not isinstance(hidden, torch.Tensor):
        return hidden, weight, bias
    dtype = autocast_dtype(hidden.device)
    if dtype is None:
        return hidden, weight, bias

    def cast(x: torch.Tensor) -> torch.Tensor:
        return x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x

    return cast(hidden), cast(weight), None if bias is None else cast(bias)


@contextlib.contextmanager
def autocast_off(device: torch.device) -> Iterator[None]:
    """Autocast disabled on ``device``: the op chooses its own precision (float32
    accumulation) and must not see its products re-cast."""
    if torch.amp.is_autocast_available(device.type):
        with torch.autocast(device.type, enabled=False):
            yield
    else:
        yield


def check_shift(shift: int | bool) -> int:
    """``shift`` as an int ≥ 0 (``True`` is 1, as in Cut Cross-Entropy)."""
    if isinstance(shift, bool):
        return int(shift)
    if not isinstance(shift, numbers.Integral) or shift < 0:
        raise ValueError(f"shift: expected an int >= 0 or a bool, got {shift!r}")
    return int(shift)


def shift_targets(targets: torch.Tensor, shift: int, ignore_index: int) -> torch.Tensor:
    """Targets such that position ``t`` predicts ``targets[..., t + shift]`` along the sequence
    axis (the last axis of class targets), the last ``shift`` positions ignored.

    Only the targets move (a copy of ``[..., S]`` integers), never the hidden states."""
    if shift == 0:
        return targets
    if targets.is_floating_point():
        raise ValueError(
            "shift: only class-index targets can be shifted (the dropped positions are "
            "ignored rows), got probability targets"
        )
    if targets.dim() == 0:
        raise ValueError("shift: targets need a sequence axis, got a 0-d tensor")
    targets = targets.long()  # (room for a negative ignore_index in any integer dtype)
    pad = targets.new_full((*targets.shape[:-1], min(shift, targets.shape[-1])), ignore_index)
    return torch.cat([targets[..., shift:], pad], dim=-1)


def check_num_items(num_items: int | torch.Tensor | None, reduction: str) -> None:
    if num_items is None:
        return
    if reduction != "mean":
        raise ValueError(
            f"num_items_in_batch: only with reduction='mean' (it replaces the mean's "
            f"denominator), got reduction={reduction!r}"
        )
    if isinstance(num_items, torch.Tensor):
        if num_items.dim() != 0 or num_items.is_complex() or num_items.dtype == torch.bool:
            raise ValueError(
                f"num_items_in_batch: expected an int or a 0-d real tensor, got a "
                f"{num_items.dtype} tensor of shape {list(num_items.shape)}"
            )
    elif isinstance(num_items, bool) or not isinstance(num_items, numbers.Integral):
        raise TypeError(f"num_items_in_batch: expected an int or a 0-d tensor, got {num_items!r}")
    elif num_items < 0:
        raise ValueError(f"num_items_in_batch: expected a count >= 0, got {num_items}")


def per_item(loss_sum: torch.Tensor, num_items: int | torch.Tensor) -> torch.Tensor:
    """``loss_sum / num_items`` on the loss's device, without a host synchronisation; a
    count of 0 counts as 1 (the sum is then over no rows: 0)."""
    n = torch.as_tensor(num_items, device=loss_sum.device).to(loss_sum.dtype)
    return loss_sum / torch.where(n == 0, torch.ones_like(n), n)
