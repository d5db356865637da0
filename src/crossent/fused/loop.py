r"""The chunk loop of the fused op for every torch device: the N×V logits never exist.

Rows are processed ``chunk`` at a time, for one process or one vocabulary slice of a
``torch.distributed`` group alike (the :class:`~crossent.fused.comm.Comm` does the
reductions; a single process's do nothing). For a chunk of hidden rows ``h [c, D]``:

1. ``z = softcap((h Wᵀ + b) / temperature)`` into one reusable ``[c, V_r]`` buffer;
2. the row maximum :math:`m_i` over all slices (``all_max``); the target terms
   :math:`a_i \cdot z_i` (:mod:`crossent.fused.targets`), and for statistics ``y·z`` and the
   first argmax;
3. the buffer becomes :math:`e = \exp(z - m)` in place; :math:`S_i = \sum_c e_{ic}` and the
   target terms are summed over the slices (one ``all_sum``), giving
   :math:`\mathrm{lse}_i = m_i + \log S_i`, :math:`\ell_i = A_i \mathrm{lse}_i - a_i\cdot z_i`,
   the z-loss :math:`\zeta\,\mathrm{lse}_i^2` and the entropy
   :math:`H_i = \log S_i - q_i` with :math:`q_i = \sum_c e_{ic} \log e_{ic} / S_i`
   (ignored rows' loss terms are 0, even where their logits are not finite). Across
   ranks without statistics, steps 2–3 take one collective: every slice's maximum,
   sum-exp and target terms in one all-reduce, combined online (:func:`_row_terms_online`);
4. when gradients are wanted, the buffer becomes the logit gradient

   .. math::
       G = \bigl(s_i A_i + 2\zeta t_i \mathrm{lse}_i + u_i q_i\bigr)\,e / S_i
           - u_i\, e \log e / S_i - s_i a_i

   (``s``, ``t``, ``u``: the per-row upstream gradients of the cross-entropy, the z-loss
   and the entropy, :class:`~crossent.fused.records.Scales`; the entropy term is
   :math:`\partial H / \partial z_j = -p_j(\log p_j + H)`), 0 on ignored rows, divided by
   the temperature and chained through the softcap; then ``grad_h = G W`` (summed over the
   slices once, started before the last chunk's ``grad_W`` so that both overlap),
   ``grad_W += Gᵀ h``, ``grad_b += Σ_rows G``. Probability targets
   that require grad get :math:`\partial\ell/\partial y = -s_i(1-\varepsilon)\,w\odot(z_i -
   \mathrm{lse}_i)`, written from a copy of the logits taken before step 3.

Probabilities below 2⁻⁶⁴ of the row maximum are flushed to zero, so no subnormal float
reaches a matrix multiply (on CPUs those are 25–50× slower), without touching global torch
state. 16-bit inputs are computed in float32. Cost: 2·c·D·V_r flops for the logits, 4 more
for the gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from crossent.fused.comm import Comm, Distributed
from crossent.fused.records import (
    Grads,
    Layout,
    Needs,
    Options,
    Problem,
    RowResults,
    RowStats,
    Scales,
)
from crossent.fused.targets import Targets

FLUSH = 2.0**-64
"""``exp(z − max)`` below this is set to 0 (far under float32 resolution)."""
SLICE_FLOOR = 2.0**-60
"""Across ranks, a slice whose maximum is below ``2⁻⁶⁰`` of the global one adds nothing to
the gradient (its ``e · 2⁻⁶⁰`` could be subnormal); it still counts in the sum-exp."""
EXP_FLOOR = -80.0
"""``exp(-80) = 1.8e-35`` is still a normal float32; flushed to 0 just after."""


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for 16-bit floats, else the dtype itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def run_chunks(
    problem: Problem, targets: Targets, options: Options, layout: Layout, scales: Scales | None
) -> tuple[RowResults, Grads]:
    """One pass over the row chunks: the per-row results and, when ``scales`` are given,
    the gradients they ask for, for those per-row upstream scales."""
    dt = accumulation_dtype(problem.hidden.dtype)
    hidden, weight = problem.hidden.to(dt), problem.weight.to(dt)
    bias = None if problem.bias is None else problem.bias.to(dt)
    n, local = hidden.shape[0], weight.shape[0]
    chunk = max(1, min(layout.chunk, n))
    buf = hidden.new_empty(chunk, local)
    tanh_buf = torch.empty_like(buf) if options.softcap is not None else None
    entropy_grad = scales is not None and scales.entropy is not None
    rows_out = _new_results(n, hidden, options.with_stats or entropy_grad)
    needs = Needs() if scales is None else scales.needs
    grads = new_grads(hidden, weight, needs, local)
    if targets.pending is not None and rows_out.stats is not None:  # no online exchange
        layout.comm.all_sum(targets.pending)
        targets.pending = None
    pending = None  # the sum of grad_h over the slices, started before the last grad_W
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        z = buf[: rows.stop - start]
        tb = None if tanh_buf is None else tanh_buf[: rows.stop - start]
        logits_(z, hidden[rows], weight, bias, options, tb)
        if grads.targets is not None:
            grads.targets[rows].copy_(z)
        sums = _row_terms(z, rows, targets, options, layout.comm, rows_out)
        if scales is None or not needs.any():
            continue
        _logit_grad_(z, rows, targets, options, rows_out, sums, scales)
        if grads.targets is not None:
            targets.target_grad_(grads.targets[rows], rows_out.lse[rows], scales.ce[rows])
        last = layout.comm if rows.stop == n else None
        pending = apply_logit_grad_(z, tb, hidden[rows], weight, grads, rows, last)
    if pending is not None:
        pending.wait()
    elif grads.hidden is not None:
        layout.comm.all_sum(grads.hidden)  # Σ over the slices of G_r W_r
    return rows_out, grads


@dataclass
class _ChunkSums:
    """Per-row sums of one chunk over the whole vocabulary, and the targets' ``a``."""

    sum_exp: torch.Tensor  # S_i = Σ_c exp(z_ic − m_i)
    e_log_e: torch.Tensor | None  # Σ_c e log e (with statistics)
    a: torch.Tensor | None  # probability targets' weights [c, V_r]


def _row_terms(
    z: torch.Tensor,
    rows: slice,
    targets: Targets,
    options: Options,
    comm: Comm,
    out: RowResults,
) -> _ChunkSums:
    """Steps 2–3 of the module docstring for one chunk: fills ``out[rows]`` and leaves
    ``e = exp(z − m)`` in ``z``."""
    c, stats = z.shape[0], out.stats
    if stats is None and isinstance(comm, Distributed):
        return _row_terms_online(z, rows, targets, options, comm, out)
    local_arg = torch.zeros(c, dtype=torch.long, device=z.device)
    if not z.shape[1]:  # an empty vocabulary slice
        local_max = z.new_full((c,), -torch.inf)
    elif stats is not None:
        local_max, local_arg = z.max(1)  # [c] each
    else:
        local_max = z.amax(1)
    m = comm.all_max(local_max.clone())
    a = targets.weights(rows, z)
    # the sums over the vocabulary: a·z, Σ e, and for statistics Σ e log e, y·z
    sums = z.new_zeros(c, 4 if stats is not None else 2)
    sums[:, 0] = targets.a_dot(rows, z, a)
    if stats is not None:
        stats.argmax[rows] = comm.first_argmax(local_max, local_arg, m)
        sums[:, 3] = targets.y_dot(rows, z)
    exp_shift_(z, m)  # z now holds e = exp(z − m)
    sums[:, 1] = z.sum(1)
    if stats is not None:
        sums[:, 2] = torch.special.xlogy(z, z).sum(1)
    comm.all_sum(sums)
    sum_exp = sums[:, 1]
    lse = m + sum_exp.log()
    valid = targets.valid[rows]
    out.lse[rows] = lse
    out.ce[rows] = torch.where(valid, targets.a_sum[rows] * lse - sums[:, 0], 0.0)
    out.z_loss[rows] = torch.where(valid, options.z_loss * lse * lse, 0.0)
    if stats is None:
        return _ChunkSums(sum_exp, None, a)
    stats.entropy[rows] = sum_exp.log() - sums[:, 2] / sum_exp  # H = log S − q
    stats.y_dot_z[rows] = sums[:, 3]
    return _ChunkSums(sum_exp, sums[:, 2], a)


def _row_terms_online(
    z: torch.Tensor,
    rows: slice,
    targets: Targets,
    options: Options,
    comm: Distributed,
    out: RowResults,
) -> _ChunkSums:
    r"""Steps 2–3 across ranks with one collective: each slice's maximum :math:`m_r`,
    :math:`S_r = \sum_c e^{z_c - m_r}` and :math:`a \cdot z` go in one all-reduce, combined
    online as :math:`M = \max_r m_r`, :math:`S = \sum_r S_r e^{m_r - M}`. ``z`` is left
    holding ``exp(z − m_r)``; the returned ``sum_exp`` is :math:`S / e^{m_r - M}`, so that
    ``e / sum_exp`` is this slice's softmax as in the one-collective-per-sum path."""
    c = z.shape[0]
    local_max = z.amax(1) if z.shape[1] else z.new_full((c,), -torch.inf)
    a = targets.weights(rows, z)
    mine = z.new_empty(c, 3 if targets.pending is None else 5)  # + the targets row sums
    mine[:, 0] = local_max
    mine[:, 2] = targets.a_dot(rows, z, a)
    if targets.pending is not None:
        mine[:, 3:] = targets.pending[rows]
    exp_shift_(z, torch.where(local_max > -torch.inf, local_max, 0.0))  # e = exp(z − m_r)
    mine[:, 1] = z.sum(1)
    parts = comm.gather_rows(mine)  # [K, c, 3 or 5]
    if targets.pending is not None:
        targets.pending[rows] = parts[:, :, 3:].sum(0)  # a_sum, y_sum: their views too
    m = parts[:, :, 0].amax(0)
    sum_exp = (parts[:, :, 1] * torch.exp(parts[:, :, 0] - m)).sum(0)
    lse = m + sum_exp.log()
    valid = targets.valid[rows]
    out.lse[rows] = lse
    out.ce[rows] = torch.where(valid, targets.a_sum[rows] * lse - parts[:, :, 2].sum(0), 0.0)
    out.z_loss[rows] = torch.where(valid, options.z_loss * lse * lse, 0.0)
    here = torch.exp(local_max - m)  # e^{m_r − M}: this slice's scale
    here = torch.where(here < SLICE_FLOOR, 0.0, here)
    return _ChunkSums(sum_exp / here, None, a)


def _logit_grad_(
    z: torch.Tensor,
    rows: slice,
    targets: Targets,
    options: Options,
    out: RowResults,
    sums: _ChunkSums,
    scales: Scales,
) -> None:
    """Step 4 up to the softcap: ``z`` (holding ``e``) becomes ``G / temperature``."""
    inv_t = 1.0 / options.temperature
    lse, s = out.lse[rows], sums.sum_exp
    s_ce = scales.ce[rows] * inv_t
    v = targets.valid[rows].to(z.dtype)
    coef = s_ce * targets.a_sum[rows] + (2 * options.z_loss * inv_t) * v * scales.z_loss[rows] * lse
    if scales.entropy is not None and sums.e_log_e is not None:
        u = scales.entropy[rows] * inv_t / s  # u_i / S_i, temperature included
        e_log_e = torch.special.xlogy(z, z)
        z.mul_((coef / s + u * sums.e_log_e / s)[:, None])
        z.addcmul_(e_log_e, u[:, None], value=-1.0)
    else:
        z.mul_((coef / s)[:, None])  # p · (s A + 2ζ t lse)
    targets.subtract_(z, rows, s_ce, sums.a)  # − s a
    if targets.has_ignored:  # exactly 0, even where an ignored row's logits are not finite
        z.masked_fill_(~targets.valid[rows, None], 0.0)


def _new_results(n: int, like: torch.Tensor, with_stats: bool) -> RowResults:
    def zeros() -> torch.Tensor:
        return like.new_zeros(n)

    stats = None
    if with_stats:
        argmax = torch.zeros(n, dtype=torch.long, device=like.device)
        stats = RowStats(entropy=zeros(), y_dot_z=zeros(), argmax=argmax)
    return RowResults(ce=zeros(), z_loss=zeros(), lse=zeros(), stats=stats)


def logits_(
    buf: torch.Tensor,
    h: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    options: Options,
    tanh_buf: torch.Tensor | None,
) -> None:
    """In place ``buf = softcap((h Wᵀ + b) / temperature)``; ``tanh_buf`` keeps
    ``tanh(z/cap)`` for the gradient."""
    if b is None:
        torch.mm(h, w.T, out=buf)
    else:
        torch.addmm(b, h, w.T, out=buf)
    if options.temperature != 1.0:
        buf.mul_(1.0 / options.temperature)
    cap = options.softcap
    if cap is not None and tanh_buf is not None:
        torch.tanh(buf.div_(cap), out=tanh_buf)
        torch.mul(tanh_buf, cap, out=buf)


def exp_shift_(z: torch.Tensor, m: torch.Tensor) -> None:
    """In place ``z ← exp(z − m)`` row by row (``m [c]``); never a subnormal result (those
    make CPU matmuls 25–50× slower): inputs clamped at -80, results below 2⁻⁶⁴ flushed."""
    z.sub_(m[:, None]).clamp_(min=EXP_FLOOR).exp_()
    F.threshold(z, FLUSH, 0.0, inplace=True)


def new_grads(hidden: torch.Tensor, weight: torch.Tensor, needs: Needs, local: int) -> Grads:
    """Gradient buffers: grad_h and grad_y written chunk by chunk, grad_W and grad_b
    accumulated."""
    return Grads(
        torch.empty_like(hidden) if needs.hidden else None,
        torch.zeros_like(weight) if needs.weight else None,
        weight.new_zeros(weight.shape[0]) if needs.bias else None,
        hidden.new_empty(hidden.shape[0], local) if needs.targets else None,
    )


def apply_logit_grad_(
    g: torch.Tensor,
    tanh_buf: torch.Tensor | None,
    h: torch.Tensor,
    weight: torch.Tensor,
    grads: Grads,
    rows: slice,
    comm: Comm | None = None,
) -> Any:
    """From a chunk's logit gradient ``g [c, V_r]`` (before the softcap): chain rule through
    ``cap·tanh(z/cap)`` (``g`` and ``tanh_buf`` are consumed), then ``grad_h[rows] = g W``,
    ``grad_W += gᵀ h``, ``grad_b += Σ_rows g``. Given ``comm`` (the last chunk), the sum of
    the whole ``grad_h`` over the slices starts before ``grad_W`` is computed (overlapping
    it); returns what to wait on (``None``: nothing started)."""
    if tanh_buf is not None:
        g.mul_(tanh_buf.mul_(tanh_buf).neg_().add_(1.0))
    pending = None
    if grads.hidden is not None:
        torch.mm(g, weight, out=grads.hidden[rows])
        if comm is not None:
            pending = comm.start_sum(grads.hidden)
    if grads.weight is not None:
        grads.weight.addmm_(g.T, h)
    if grads.bias is not None:
        grads.bias.add_(g.sum(0))
    return pending
