"""The autograd wiring of the chunked linear cross-entropy (see :mod:`._chunked`).

One autograd function serves every chunked algorithm — the torch and Triton loops of
:func:`crossent.linear_cross_entropy` and the vocabulary-parallel loop of :mod:`.parallel` —
through a :class:`ChunkLoop`: how to turn the targets into per-row terms, and the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import torch

from crossent.fused._chunked import Options, _Grads, compute_dtype

Runner = Callable[..., tuple[dict[str, torch.Tensor], _Grads]]
"""A chunk loop ``(hidden, weight, bias, t, opts, need, ce_scale, z_scale) -> (out, grads)``:
``run_chunks_torch`` (any device), ``run_chunks_triton`` (CUDA) or the parallel one."""


class RowCounts(Protocol):
    """What the reductions and statistics need of the targets (``_Targets``, or a
    vocabulary slice's)."""

    valid: torch.Tensor  # [N] bool
    denom: torch.Tensor  # Σ_i w_{y_i} (class targets) or N (probability targets)
    n_valid: torch.Tensor  # number of valid rows

    def statistics(self, out: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Entropy, target log-probability and correctness per row, from a loop's output."""
        ...


class ChunkLoop(NamedTuple):
    """One chunked algorithm."""

    name: str  # the public function, for error messages
    targets: Callable[..., RowCounts]  # (targets, class_weight, V of weight, opts, dtype)
    run: Runner


def reduce_rows(out: dict[str, torch.Tensor], t: RowCounts, reduction: str) -> torch.Tensor:
    """Loss from per-row terms: CE by Σw_y (class) or N (probability), z-loss by valid rows."""
    if reduction == "none":
        return out["ce"] + out["zl"]
    if reduction == "sum":
        return out["ce"].sum() + out["zl"].sum()
    return out["ce"].sum() / _safe(t.denom) + out["zl"].sum() / _safe(t.n_valid)


def _safe(d: torch.Tensor) -> torch.Tensor:
    return torch.where(d == 0, torch.ones_like(d), d)


def unit_scales(
    t: RowCounts, n: int, reduction: str, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row gradient scales of CE and z-loss for an upstream gradient of 1."""
    one = torch.ones((), dtype=dtype, device=t.valid.device)
    if reduction == "mean":
        return (one / _safe(t.denom)).expand(n), (one / _safe(t.n_valid)).expand(n)
    return one.expand(n), one.expand(n)


def forward_outputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    opts: Options,
    loop: ChunkLoop,
    need: tuple[bool, bool, bool] = (False, False, False),
) -> tuple[tuple[torch.Tensor, ...], _Grads | None]:
    """Loss, lse and (``opts.with_stats``) statistics; for a scalar reduction and ``need``,
    also the gradients for an upstream gradient of 1, computed in the same pass (else None)."""
    dt = compute_dtype(hidden.dtype)
    t = loop.targets(targets, class_weight, weight.shape[0], opts, dt)
    early = opts.reduction != "none" and any(need)
    scales = unit_scales(t, hidden.shape[0], opts.reduction, dt) if early else (None, None)
    out, grads = loop.run(hidden, weight, bias, t, opts, need if early else (False,) * 3, *scales)
    loss = reduce_rows(out, t, opts.reduction).to(hidden.dtype)
    stats = t.statistics(out) if opts.with_stats else ()
    return (loss, out["lse"], *stats), grads if early else None


def recompute_grads(
    g_loss: torch.Tensor,
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    opts: Options,
    need: tuple[bool, bool, bool],
    loop: ChunkLoop,
) -> _Grads:
    """The gradients for upstream gradient ``g_loss`` (scalar, or ``[N]`` for ``"none"``),
    recomputing the logits; weight/bias gradients may come in float32 (the caller casts)."""
    dt = compute_dtype(hidden.dtype)
    t = loop.targets(targets, class_weight, weight.shape[0], opts, dt)
    ce, zl = unit_scales(t, hidden.shape[0], opts.reduction, dt)
    g_rows = g_loss.to(dt)
    _out, grads = loop.run(hidden, weight, bias, t, opts, need, ce * g_rows, zl * g_rows)
    return grads


class ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Loss (differentiable), lse and row statistics (not) of a chunked algorithm."""

    @staticmethod
    def forward(
        ctx: Any,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        opts: Options,
        need: tuple[bool, bool, bool],
        loop: ChunkLoop,
    ) -> tuple[torch.Tensor, ...]:
        outs, ctx.grads = forward_outputs(
            hidden, weight, bias, targets, class_weight, opts, loop, need
        )
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        ctx.loop = loop
        if any(need):  # kept for a recomputing backward (reduction="none", retain_graph)
            ctx.save_for_backward(hidden, weight, bias, targets, class_weight)
            ctx.opts, ctx.need = opts, need
        ctx.mark_non_differentiable(*outs[1:])
        return outs

    @staticmethod
    def backward(ctx: Any, g_loss: torch.Tensor, *_: Any) -> tuple[Any, ...]:
        if torch.is_grad_enabled():  # backward(create_graph=True): a graph of this is wanted
            raise RuntimeError(
                f"{ctx.loop.name}: double backward (create_graph=True) is not supported; "
                "cannot differentiate twice through the fused loss"
            )
        if ctx.grads is not None:
            # First backward after a forward that computed the gradients for a unit upstream
            # gradient: scale them in place and hand the buffers over (no copy).
            gr, ctx.grads = ctx.grads, None
            parts, g = [gr.hidden, gr.weight, gr.bias], g_loss
            del gr
        else:  # per-row upstream gradients, or a repeated backward (retain_graph=True)
            h, w, b, targets, class_weight = ctx.saved_tensors
            gr = recompute_grads(
                g_loss, h, w, b, targets, class_weight, ctx.opts, ctx.need, ctx.loop
            )
            parts, g = [gr.hidden, gr.weight, gr.bias], None
        result: list[Any] = []
        for part, dtype in zip(parts, ctx.dtypes, strict=True):
            if part is None or dtype is None:
                result.append(None)
            else:  # the buffers are ours: scale in place rather than copy
                result.append((part if g is None else part.mul_(g)).to(dtype))
        return (*result, None, None, None, None, None)
