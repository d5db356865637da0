r"""The autograd wiring of the fused op: one ``torch.autograd.Function`` for every plan.

The loss is the reduction of the loop's per-row terms (:mod:`crossent.fused.loop`):

.. math::
    \mathcal{L} = \frac{\sum_i \ell_i}{d_{ce}} + \frac{\sum_i \zeta\,\mathrm{lse}_i^2}{d_z}

with :math:`d_{ce} = \sum_i w_{y_i}` (class targets) or ``N`` (probability targets) and
:math:`d_z` the number of valid rows for ``"mean"``, both 1 for ``"sum"`` (a zero denominator
counts as 1: the mean over no rows is 0); ``"none"`` keeps the rows. With a scalar upstream
gradient (``mean``/``sum``) the gradients are computed in the forward pass for a unit upstream
gradient and scaled in backward (6·N·D·V flops in all); with ``"none"``, or a second
backward, the backward pass recomputes the logits with the real per-row upstream gradient
(8·N·D·V flops).
"""

from __future__ import annotations

from typing import Any

import torch

from crossent.fused.loop import accumulation_dtype
from crossent.fused.plan import Plan
from crossent.fused.records import NO_GRADS, Grads, Needs, RowResults, Scales, Statistics
from crossent.fused.targets import Targets


def nonzero_or_one(d: torch.Tensor) -> torch.Tensor:
    """``d`` with zeros replaced by ones (a mean's denominator over possibly no rows)."""
    return torch.where(d == 0, torch.ones_like(d), d)


def reduce_rows(rows: RowResults, targets: Targets, reduction: str) -> torch.Tensor:
    """The loss from the per-row terms (see the module docstring)."""
    if reduction == "none":
        return rows.ce + rows.z_loss
    if reduction == "sum":
        return rows.ce.sum() + rows.z_loss.sum()
    return rows.ce.sum() / nonzero_or_one(targets.denominator) + rows.z_loss.sum() / nonzero_or_one(
        targets.n_valid
    )


def unit_scales(targets: Targets, n: int, reduction: str, dtype: torch.dtype) -> Scales:
    """Per-row gradient scales of the cross-entropy and z-loss for an upstream gradient of 1."""
    one = torch.ones((), dtype=dtype, device=targets.valid.device)
    if reduction == "mean":
        return Scales(
            ce=(one / nonzero_or_one(targets.denominator)).expand(n),
            z_loss=(one / nonzero_or_one(targets.n_valid)).expand(n),
        )
    return Scales(ce=one.expand(n), z_loss=one.expand(n))


def make_targets(
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    weight: torch.Tensor,
    plan: Plan,
    dtype: torch.dtype,
) -> Targets:
    return Targets(targets, class_weight, weight.shape[0], plan.options, plan.comm, dtype)


def forward_outputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    plan: Plan,
    needs: Needs = NO_GRADS,
) -> tuple[torch.Tensor, torch.Tensor, Statistics | None, Grads | None]:
    """Loss (in ``hidden``'s dtype), ``lse [N]`` and, if asked, the statistics; for a scalar
    reduction and ``needs``, also the gradients for an upstream gradient of 1, computed in
    the same pass (else ``None``)."""
    dt = accumulation_dtype(hidden.dtype)
    t = make_targets(targets, class_weight, weight, plan, dt)
    reduction = plan.options.reduction
    early = reduction != "none" and needs.any()
    scales = unit_scales(t, hidden.shape[0], reduction, dt) if early else None
    rows, grads = plan.run(hidden, weight, bias, t, needs if early else NO_GRADS, scales)
    loss = reduce_rows(rows, t, reduction).to(hidden.dtype)
    stats = None if rows.stats is None else t.statistics(rows.lse, rows.stats)
    return loss, rows.lse, stats, grads if early else None


def recompute_grads(
    g_loss: torch.Tensor,
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    plan: Plan,
    needs: Needs,
) -> Grads:
    """The gradients for upstream gradient ``g_loss`` (scalar, or ``[N]`` for ``"none"``),
    recomputing the logits; weight/bias gradients may come in float32 (the caller casts)."""
    dt = accumulation_dtype(hidden.dtype)
    t = make_targets(targets, class_weight, weight, plan, dt)
    unit = unit_scales(t, hidden.shape[0], plan.options.reduction, dt)
    g = g_loss.to(dt)
    _rows, grads = plan.run(hidden, weight, bias, t, needs, Scales(unit.ce * g, unit.z_loss * g))
    return grads


def wanted_grads(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> Needs:
    """The gradients autograd will ask for."""
    on = torch.is_grad_enabled()
    return Needs(
        hidden=on and hidden.requires_grad,
        weight=on and weight.requires_grad,
        bias=on and bias is not None and bias.requires_grad,
    )


class FusedLinearCrossEntropy(torch.autograd.Function):
    """``(loss, lse[, entropy, target_logprob, correct])`` of a plan; only the loss is
    differentiable."""

    @staticmethod
    def forward(
        ctx: Any,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        plan: Plan,
        needs: Needs,
    ) -> tuple[torch.Tensor, ...]:
        loss, lse, stats, ctx.grads = forward_outputs(
            hidden, weight, bias, targets, class_weight, plan, needs
        )
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        ctx.plan, ctx.needs = plan, needs
        if needs.any():  # kept for a recomputing backward (reduction="none", retain_graph)
            ctx.save_for_backward(hidden, weight, bias, targets, class_weight)
        extra = () if stats is None else (stats.entropy, stats.target_logprob, stats.correct)
        ctx.mark_non_differentiable(lse, *extra)
        return (loss, lse, *extra)

    @staticmethod
    def backward(ctx: Any, g_loss: torch.Tensor, *_: Any) -> tuple[Any, ...]:
        if torch.is_grad_enabled():  # backward(create_graph=True): a graph of this is wanted
            raise RuntimeError(
                f"{ctx.plan.name}: double backward (create_graph=True) is not supported; "
                "cannot differentiate twice through the fused loss"
            )
        if ctx.grads is not None:
            # First backward after a forward that computed the gradients for a unit upstream
            # gradient: scale them in place and hand the buffers over (no copy).
            grads, ctx.grads, scale = ctx.grads, None, g_loss
        else:  # per-row upstream gradients, or a repeated backward (retain_graph=True)
            hidden, weight, bias, targets, class_weight = ctx.saved_tensors
            grads = recompute_grads(
                g_loss, hidden, weight, bias, targets, class_weight, ctx.plan, ctx.needs
            )
            scale = None
        parts = (grads.hidden, grads.weight, grads.bias)
        result: list[torch.Tensor | None] = []
        for part, dtype in zip(parts, ctx.dtypes, strict=True):
            if part is None or dtype is None:
                result.append(None)
            else:  # the buffers are ours: scale in place rather than copy
                result.append((part if scale is None else part.mul_(scale)).to(dtype))
        return (*result, None, None, None, None)
