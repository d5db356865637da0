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
from crossent.fused.records import (
    NO_GRADS,
    Grads,
    Needs,
    Problem,
    Result,
    RowResults,
    Scales,
    Statistics,
)
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


def unit_scales(
    targets: Targets, n: int, reduction: str, dtype: torch.dtype, needs: Needs
) -> Scales:
    """Per-row gradient scales of the cross-entropy and z-loss for an upstream gradient of 1."""
    one = torch.ones((), dtype=dtype, device=targets.valid.device)
    if reduction == "mean":
        ce = one / nonzero_or_one(targets.denominator)
        z = one / nonzero_or_one(targets.n_valid)
        return Scales(ce=ce.expand(n), z_loss=z.expand(n), needs=needs)
    return Scales(ce=one.expand(n), z_loss=one.expand(n), needs=needs)


def make_targets(problem: Problem, plan: Plan, dtype: torch.dtype) -> Targets:
    """The problem's targets as weight vectors over this process's vocabulary slice."""
    return Targets(
        problem.targets,
        problem.class_weight,
        problem.weight.shape[0],
        plan.options,
        plan.layout.comm,
        dtype,
    )


def forward_outputs(
    problem: Problem, plan: Plan, needs: Needs = NO_GRADS
) -> tuple[torch.Tensor, torch.Tensor, Statistics | None, Grads | None]:
    """Loss (in ``hidden``'s dtype), ``lse [N]`` and, if asked, the statistics; for a scalar
    reduction and ``needs``, also the gradients for an upstream gradient of 1, computed in
    the same pass (else ``None``)."""
    dt = accumulation_dtype(problem.hidden.dtype)
    t = make_targets(problem, plan, dt)
    reduction = plan.options.reduction
    early = reduction != "none" and needs.any()
    scales = unit_scales(t, problem.hidden.shape[0], reduction, dt, needs) if early else None
    rows, grads = plan.run(problem, t, scales)
    loss_dtype = dt if plan.options.float32_loss else problem.hidden.dtype
    loss = reduce_rows(rows, t, reduction).to(loss_dtype)
    stats = None if rows.stats is None else t.statistics(rows.lse, rows.stats)
    return loss, rows.lse, stats, grads if early else None


def recompute_grads(
    g_loss: torch.Tensor | None,
    problem: Problem,
    plan: Plan,
    needs: Needs,
    g_entropy: torch.Tensor | None = None,
) -> Grads:
    """The gradients for upstream gradients ``g_loss`` (scalar, or ``[N]`` for ``"none"``;
    ``None``: 0) and ``g_entropy`` (``[N]``, of the per-row entropy; ``None``: 0),
    recomputing the logits; weight/bias gradients may come in float32 (the caller casts)."""
    dt = accumulation_dtype(problem.hidden.dtype)
    t = make_targets(problem, plan, dt)
    unit = unit_scales(t, problem.hidden.shape[0], plan.options.reduction, dt, needs)
    g = torch.zeros((), dtype=dt, device=unit.ce.device) if g_loss is None else g_loss.to(dt)
    u = None if g_entropy is None else g_entropy.to(dt)
    _rows, grads = plan.run(problem, t, Scales(unit.ce * g, unit.z_loss * g, needs, u))
    return grads


def wanted_grads(problem: Problem) -> Needs:
    """The gradients autograd will ask for (probability targets can have one too)."""
    on = torch.is_grad_enabled()
    p = problem
    return Needs(
        hidden=on and p.hidden.requires_grad,
        weight=on and p.weight.requires_grad,
        bias=on and p.bias is not None and p.bias.requires_grad,
        targets=on and p.targets.is_floating_point() and p.targets.requires_grad,
    )


class FusedLinearCrossEntropy(torch.autograd.Function):
    """``(loss, lse[, entropy, target_logprob, correct])`` of a plan; the loss and the
    entropy are differentiable."""

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
        problem = Problem(hidden, weight, bias, targets, class_weight)
        loss, lse, stats, ctx.grads = forward_outputs(problem, plan, needs)
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        ctx.dtypes += (targets.dtype if needs.targets else None,)
        ctx.plan, ctx.needs = plan, needs
        ctx.set_materialize_grads(False)
        if needs.any():  # kept for a recomputing backward (reduction="none", retain_graph)
            ctx.save_for_backward(hidden, weight, bias, targets, class_weight)
        if stats is None:
            ctx.mark_non_differentiable(lse)
            return loss, lse
        ctx.mark_non_differentiable(lse, stats.target_logprob, stats.correct)
        return loss, lse, stats.entropy, stats.target_logprob, stats.correct

    @staticmethod
    def backward(
        ctx: Any, g_loss: torch.Tensor | None, _g_lse: Any, g_entropy: Any = None, *_: Any
    ) -> tuple[Any, ...]:
        if torch.is_grad_enabled():  # backward(create_graph=True): a graph of this is wanted
            raise RuntimeError(
                f"{ctx.plan.name}: double backward (create_graph=True) is not supported; "
                "cannot differentiate twice through the fused loss"
            )
        if ctx.grads is not None and g_entropy is None and g_loss is not None:
            # First backward after a forward that computed the gradients for a unit upstream
            # gradient: scale them in place and hand the buffers over (no copy).
            grads, ctx.grads, scale = ctx.grads, None, g_loss
        else:  # per-row upstream gradients, the entropy's, or a repeated backward
            problem = Problem(*ctx.saved_tensors)
            grads = recompute_grads(g_loss, problem, ctx.plan, ctx.needs, g_entropy)
            scale = None
        parts = (grads.hidden, grads.weight, grads.bias, grads.targets)
        result: list[torch.Tensor | None] = []
        for part, dtype in zip(parts, ctx.dtypes, strict=True):
            if part is None or dtype is None:
                result.append(None)
            else:  # the buffers are ours: scale in place rather than copy
                result.append((part if scale is None else part.mul_(scale)).to(dtype))
        return (*result, None, None, None)  # (class_weight, plan, needs)


def run_autograd(problem: Problem, plan: Plan) -> Result:
    """The plan through :class:`FusedLinearCrossEntropy`."""
    p = problem
    needs = wanted_grads(p)
    loss, lse, *rest = FusedLinearCrossEntropy.apply(  # type: ignore[no-untyped-call]
        p.hidden, p.weight, p.bias, p.targets, p.class_weight, plan, needs
    )
    return Result(loss, lse, Statistics(*rest) if rest else None)
