r"""Vocabulary-parallel linear cross-entropy over ``torch.distributed`` (tensor parallelism).

Every rank of ``group`` holds the same hidden rows ``h [N, D]`` and class targets (or its
columns of probability targets), and one slice of the vocabulary: rows
``[start, start + V_r)`` of ``W`` (and of the bias and the class weights). Neither the N×V
logits nor the N×V_r slice ever exist: rows go in chunks as in :mod:`._chunked`. For a
chunk, with local logits :math:`z^{(r)} = h W_r^\top + b_r`:

1. :math:`m_i = \max_r \max_c z^{(r)}_{ic}` (one all-reduce MAX),
2. :math:`S_i = \sum_r \sum_c e^{z^{(r)}_{ic} - m_i}` and the target term
   :math:`a_i \cdot z_i` (one all-reduce SUM of a ``[c, 2]`` tensor; the target logit comes
   from the rank that owns the target class),

so that every rank has the exact :math:`\mathrm{lse}_i = m_i + \log S_i` and per-row loss
:math:`A_i \mathrm{lse}_i - a_i \cdot z_i` (notation of :mod:`._chunked`). Label smoothing
and class weights use the global ``V`` and global :math:`\sum_c w_c` (Megatron-LM #737/#7464
used the local shard's, so the loss differed by rank). The logit gradient is local,
:math:`G^{(r)} = (s A + 2\zeta t\,\mathrm{lse})\,p^{(r)} - s\,a^{(r)}`; ``grad_W_r`` and
``grad_b_r`` stay local and ``grad_h = Σ_r G^{(r)} W_r`` is all-reduced, so each rank gets
the gradient of the global loss with respect to its (replicated) ``hidden``.

This is Megatron-LM's ``vocab_parallel_cross_entropy`` fused with the output layer, in
chunks; like :func:`crossent.linear_cross_entropy` it computes the gradients in the forward
pass for ``"mean"``/``"sum"`` (6·N·D·V_r flops per rank) and recomputes for ``"none"``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from crossent._validation import check_label_smoothing, check_reduction
from crossent.fused._api import (
    _check_inputs,
    _check_options,
    _check_target_values,
    _default_chunk,
)
from crossent.fused._chunked import (
    Options,
    _exp_shift_,
    _Grads,
    _logits_,
    apply_logit_grad,
    new_grads,
    upcast_inputs,
)
from crossent.fused._function import ChunkedLinearCrossEntropy, ChunkLoop
from crossent.fused._types import LinearCrossEntropyOutput


@dataclass(frozen=True)
class _Shard:
    start: int  # first global class of this rank's slice
    vocab: int  # global V
    group: Any  # process group (None: the default group)


@torch.compiler.disable  # type: ignore[untyped-decorator]  # collectives: run eagerly (a graph break)
def vocab_parallel_linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    group: Any = None,
    vocab_start: int | None = None,
    vocab_size: int | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: torch.Tensor | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    softcap: float | None = None,
    return_lse: bool = False,
    return_stats: bool = False,
    chunk_size: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor] | LinearCrossEntropyOutput:
    r"""Cross-entropy of ``softcap(h Wᵀ + b)`` over the whole vocabulary, ``W`` split by rows
    across the ranks of ``group``; the same value (and ``hidden`` gradient) on every rank.

    Semantics as :func:`crossent.linear_cross_entropy`. Every rank of the group must call it
    with the same ``hidden``, class targets (or its own columns of probability targets) and
    options.

    Args:
      hidden: ``[..., D]``, the same on every rank.
      weight: ``[V_r, D]``, this rank's rows ``[vocab_start, vocab_start + V_r)`` of ``W``.
      targets: ``[...]`` global class indices (``ignore_index`` rows skipped), or this
        rank's columns ``[..., V_r]`` of probability targets.
      bias: optional ``[V_r]``, this rank's slice.
      group: the process group (default: the whole world).
      vocab_start, vocab_size: this slice's first global class and the global ``V``; by
        default the slices are taken to be in rank order and their sizes are exchanged once
        (one small all-gather).
      class_weight: optional ``[V_r]``, this rank's slice of the class weights.
      ignore_index, label_smoothing, reduction, z_loss, softcap, chunk_size: as in
        :func:`crossent.linear_cross_entropy`.
      return_lse: also return the per-row global log-sum-exp ``[...]``.
      return_stats: return a :class:`~crossent.fused.LinearCrossEntropyOutput` (loss, lse,
        entropy, target log-probability, correctness), each over the whole vocabulary, on
        every rank. Correct: the logit of the target class (probability targets: of the
        first argmax of the targets) equals the row's maximum — ties count as correct.

    Returns:
      The loss in ``hidden``'s dtype (``[...]`` for ``"none"``), with ``return_lse``
      ``(loss, lse)``, with ``return_stats`` a ``LinearCrossEntropyOutput``.

    Example, on every rank of a group of ``world`` processes (rank ``r`` holds rows
    ``r·V/world … (r+1)·V/world`` of ``W``)::

        torch.distributed.init_process_group("gloo")  # or "nccl"
        W_r = W[r * V // world : (r + 1) * V // world].clone().requires_grad_()
        loss = vocab_parallel_linear_cross_entropy(h, W_r, y)  # = F.cross_entropy(h @ W.T, y)
        loss.backward()  # h.grad: the whole gradient; W_r.grad: this rank's rows
    """
    _check_inputs(hidden, weight, targets, bias, class_weight, ignore_index)
    check_reduction(reduction)
    check_label_smoothing(label_smoothing)
    _check_options(z_loss, softcap, chunk_size, "auto")
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "group: torch.distributed is not initialised; call "
            "torch.distributed.init_process_group() on every rank first"
        )
    h2 = hidden.reshape(-1, hidden.shape[-1])
    shard = _layout(weight, h2.shape[0], group, vocab_start, vocab_size)
    local = weight.shape[0]
    n = h2.shape[0]
    t2 = targets.reshape(n, local) if targets.is_floating_point() else targets.reshape(n).long()
    _check_target_values(t2, shard.vocab, ignore_index)
    opts = Options(
        ignore_index=ignore_index,
        label_smoothing=float(label_smoothing),
        z_loss=float(z_loss),
        softcap=None if softcap is None else float(softcap),
        reduction=reduction,
        chunk_size=chunk_size or _default_chunk(max(weight.shape[0], 1), softcap),
        with_stats=return_stats,
    )
    grad_on = torch.is_grad_enabled()
    need = (
        grad_on and h2.requires_grad,
        grad_on and weight.requires_grad,
        grad_on and bias is not None and bias.requires_grad,
    )
    loop = ChunkLoop(
        "vocab_parallel_linear_cross_entropy",
        functools.partial(_targets_of, shard=shard),
        functools.partial(_run, shard=shard),
    )
    outs = ChunkedLinearCrossEntropy.apply(h2, weight, bias, t2, class_weight, opts, need, loop)  # type: ignore[no-untyped-call]
    batch = tuple(hidden.shape[:-1])
    loss, *rows = outs
    res = LinearCrossEntropyOutput(
        loss.reshape(batch) if reduction == "none" else loss,
        *(x.reshape(batch) for x in rows),
        *([loss.new_empty(0)] * (5 - len(outs))),
    )
    if return_stats:
        return res
    return (res.loss, res.lse) if return_lse else res.loss


def _layout(
    weight: torch.Tensor, rows: int, group: Any, vocab_start: int | None, vocab_size: int | None
) -> _Shard:
    """This rank's place in the global vocabulary (given, or from the slice sizes, exchanged
    together with the row counts, which must agree: a mismatch would hang a collective)."""
    local = weight.shape[0]
    if (vocab_start is None) != (vocab_size is None):
        raise ValueError(
            f"vocab_start, vocab_size: give both or neither, got vocab_start={vocab_start!r} "
            f"and vocab_size={vocab_size!r}"
        )
    if vocab_start is None or vocab_size is None:
        world = dist.get_world_size(group)
        sizes = [torch.zeros(2, dtype=torch.long, device=weight.device) for _ in range(world)]
        mine = torch.tensor([local, rows], dtype=torch.long, device=weight.device)
        dist.all_gather(sizes, mine, group=group)
        counts = [int(s[0]) for s in sizes]
        row_counts = [int(s[1]) for s in sizes]
        if len(set(row_counts)) > 1:
            raise ValueError(
                f"hidden: every rank needs the same rows, got {row_counts} rows on ranks "
                f"0..{world - 1}"
            )
        rank = dist.get_rank(group)
        return _Shard(sum(counts[:rank]), sum(counts), group)
    if not (vocab_start >= 0 and vocab_start + local <= vocab_size):
        raise ValueError(
            f"vocab_start: this rank's {local} rows from {vocab_start} do not fit in "
            f"vocab_size={vocab_size}"
        )
    return _Shard(vocab_start, vocab_size, group)


class _Owned:
    """A global class per row, seen from one slice: does this slice own it, and where."""

    def __init__(self, classes: torch.Tensor, valid: torch.Tensor, local: int, start: int):
        self.own = valid & (classes >= start) & (classes < start + local)  # [N]
        self.index = torch.where(self.own, classes - start, 0)  # local column

    def pick(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        """``z[i, class_i]`` where this slice owns it, else 0 (summed over ranks: the value)."""
        if z.shape[1] == 0:  # an empty slice owns nothing
            return z.new_zeros(z.shape[0])
        return torch.where(self.own[rows], z.gather(1, self.index[rows, None]).view(-1), 0.0)


class _Slice:
    """What both kinds of targets of a slice share: the statistics from the loop's sums."""

    y_sum: torch.Tensor  # [N] Σ_c y_ic over the whole vocabulary

    def statistics(self, out: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        logprob = out["y_dot_z"] - self.y_sum.to(out["lse"].dtype) * out["lse"]
        return out["entropy"], logprob, out["correct"]


class _ClassSlice(_Slice):
    """Class targets from one slice: the target's owner, its global class weight, ``A``.

    ``a_i = (1−ε) w_{y_i} e_{y_i} + (ε/V) w`` restricted to this slice's columns."""

    def __init__(
        self,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        local: int,
        shard: _Shard,
        opts: Options,
        dtype: torch.dtype,
    ) -> None:
        self.valid = targets != opts.ignore_index
        self.target = _Owned(targets, self.valid, local, shard.start)
        self.stat_class = self.target  # correctness: is the target the row's maximum
        self.cw = None if class_weight is None else class_weight.to(dtype)
        v = self.valid.to(dtype)
        if self.cw is None:
            self.w_y, cw_sum = v, torch.tensor(float(shard.vocab), dtype=dtype)
        else:  # the owner knows w_y; everyone needs it (and the global Σ w)
            w_own = self.cw[self.target.index] if local else torch.zeros_like(v)
            parts = torch.cat([torch.where(self.target.own, w_own, 0.0), self.cw.sum()[None]])
            dist.all_reduce(parts, group=shard.group)
            self.w_y, cw_sum = parts[:-1], parts[-1]
        self.eps, self.vocab = opts.label_smoothing, shard.vocab
        smooth = (self.eps / self.vocab) * v * cw_sum.to(targets.device)
        self.total = (1 - self.eps) * self.w_y + smooth  # A_i
        self.denom, self.n_valid, self.y_sum = self.w_y.sum(), v.sum(), v

    def a_dot_z(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        """This slice's share of ``a_i · z_i`` for a chunk of local logits."""
        part = (1 - self.eps) * self.w_y[rows] * self.target.pick(rows, z)
        if self.eps > 0:
            w_dot_z = z.sum(1) if self.cw is None else z @ self.cw
            part = part + (self.eps / self.vocab) * self.valid[rows].to(z.dtype) * w_dot_z
        return part

    def y_dot_z(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        return self.target.pick(rows, z)

    def subtract(self, g: torch.Tensor, rows: slice, scale: torch.Tensor) -> None:
        """``g -= scale_i · a_i`` restricted to this slice's columns, in place."""
        if g.shape[1] == 0:
            return
        own_w = torch.where(self.target.own[rows], self.w_y[rows], 0.0)
        g.scatter_add_(1, self.target.index[rows, None], (-(1 - self.eps) * scale * own_w)[:, None])
        if self.eps > 0:
            smooth = scale * (self.eps / self.vocab) * self.valid[rows].to(g.dtype)
            if self.cw is None:
                g.sub_(smooth[:, None])
            else:
                g.addr_(smooth, self.cw, alpha=-1.0)


class _ProbSlice(_Slice):
    """Probability targets: this rank holds their columns ``[..., V_r]`` of its slice.

    ``a_i = w ⊙ ((1−ε) y_i + ε/V)`` on this slice's columns; ``A_i`` and ``Σ y_i`` are summed
    over ranks once; the correctness class is the first global argmax of ``y_i``."""

    def __init__(
        self,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        local: int,
        shard: _Shard,
        opts: Options,
        dtype: torch.dtype,
    ) -> None:
        n, dev = targets.shape[0], targets.device
        self.y = targets
        self.cw = None if class_weight is None else class_weight.to(dtype)
        self.eps, self.vocab = opts.label_smoothing, shard.vocab
        self.valid = torch.ones(n, dtype=torch.bool, device=dev)
        y = targets.to(dtype)
        w_sum = float(local) if self.cw is None else self.cw.sum()
        y_w = y.sum(1) if self.cw is None else y @ self.cw
        sums = torch.stack([(1 - self.eps) * y_w + (self.eps / self.vocab) * w_sum, y.sum(1)], 1)
        dist.all_reduce(sums, group=shard.group)
        self.total, self.y_sum = sums[:, 0], sums[:, 1]
        self.denom = torch.tensor(float(n), dtype=dtype, device=dev)
        self.n_valid = self.denom
        self.stat_class = _Owned(self._first_argmax(y, shard), self.valid, local, shard.start)

    @staticmethod
    def _first_argmax(y: torch.Tensor, shard: _Shard) -> torch.Tensor:
        """The smallest global index where ``y_i`` takes its global maximum ``[N]``."""
        n, local = y.shape
        best = y.amax(1) if local else y.new_full((n,), -torch.inf)
        top = best.clone()
        dist.all_reduce(top, op=dist.ReduceOp.MAX, group=shard.group)
        first = (y == top[:, None]).to(torch.int8).argmax(1) if local else best.long()
        has = best == top
        index = torch.where(has, first + shard.start, shard.vocab).long()
        dist.all_reduce(index, op=dist.ReduceOp.MIN, group=shard.group)
        return index

    def _a(self, rows: slice, like: torch.Tensor) -> torch.Tensor:
        a = self.y[rows].to(like.dtype) * (1 - self.eps) + self.eps / self.vocab
        return a if self.cw is None else a * self.cw

    def a_dot_z(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        return (self._a(rows, z) * z).sum(1)

    def y_dot_z(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        return (self.y[rows].to(z.dtype) * z).sum(1)

    def subtract(self, g: torch.Tensor, rows: slice, scale: torch.Tensor) -> None:
        g.addcmul_(scale[:, None], self._a(rows, g), value=-1.0)


_ShardTargets = _ClassSlice | _ProbSlice


def _targets_of(
    targets: torch.Tensor,
    class_weight: torch.Tensor | None,
    local: int,
    opts: Options,
    dtype: torch.dtype,
    *,
    shard: _Shard,
) -> _ShardTargets:
    kind = _ProbSlice if targets.is_floating_point() else _ClassSlice
    return kind(targets, class_weight, local, shard, opts, dtype)


def _run(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    t: _ShardTargets,
    opts: Options,
    need: tuple[bool, bool, bool],
    ce_scale: torch.Tensor | None = None,
    z_scale: torch.Tensor | None = None,
    *,
    shard: _Shard,
) -> tuple[dict[str, torch.Tensor], _Grads]:
    """Per-row CE, z-loss, lse (and statistics), and the gradients ``need`` asks for
    (per-row scales)."""
    hidden, weight, bias = upcast_inputs(hidden, weight, bias)
    dt = hidden.dtype
    n, local = hidden.shape[0], weight.shape[0]
    chunk = max(1, min(opts.chunk_size, n))
    dev = hidden.device
    buf = torch.empty(chunk, local, device=dev, dtype=dt)
    tanh_buf = torch.empty_like(buf) if opts.softcap is not None else None
    names = ("ce", "zl", "lse", "entropy", "y_dot_z")[: 5 if opts.with_stats else 3]
    out = {k: torch.zeros(n, device=dev, dtype=dt) for k in names}
    out["correct"] = torch.zeros(n, device=dev, dtype=torch.bool)
    write = ce_scale is not None and z_scale is not None and any(need)
    grads = new_grads(hidden, weight, need if write else (False, False, False))
    v = t.valid.to(dt)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        h, z = hidden[rows], buf[: rows.stop - start]
        tb = None if tanh_buf is None else tanh_buf[: rows.stop - start]
        _logits_(z, h, weight, bias, opts.softcap, tb)
        m = z.amax(1) if local else torch.full((z.shape[0],), -torch.inf, device=dev, dtype=dt)
        dist.all_reduce(m, op=dist.ReduceOp.MAX, group=shard.group)
        # columns: a·z, Σ e; for statistics Σ e log e (e = exp(z − m)), y·z, z at the
        # class whose being the maximum counts as correct
        sums = torch.zeros(z.shape[0], 5 if opts.with_stats else 2, device=dev, dtype=dt)
        sums[:, 0] = t.a_dot_z(rows, z)
        if opts.with_stats:
            sums[:, 3] = t.y_dot_z(rows, z)
            sums[:, 4] = t.stat_class.pick(rows, z)
        _exp_shift_(z, m)  # z now holds exp(z − m)
        sums[:, 1] = z.sum(1)
        if opts.with_stats:
            sums[:, 2] = torch.special.xlogy(z, z).sum(1)
        dist.all_reduce(sums, group=shard.group)
        lse = m + sums[:, 1].log()
        out["lse"][rows] = lse
        out["ce"][rows] = t.total[rows] * lse - sums[:, 0]
        out["zl"][rows] = opts.z_loss * v[rows] * lse * lse
        if opts.with_stats:  # H = log S − Σ e log e / S;  correct: the target logit is the max
            out["entropy"][rows] = sums[:, 1].log() - sums[:, 2] / sums[:, 1]
            out["y_dot_z"][rows] = sums[:, 3]
            out["correct"][rows] = t.valid[rows] & (sums[:, 4] >= m)
        if not write or ce_scale is None or z_scale is None:
            continue
        s_ce, s_z = ce_scale[rows], z_scale[rows]
        coef = (s_ce * t.total[rows] + 2 * opts.z_loss * v[rows] * s_z * lse) / sums[:, 1]
        z.mul_(coef[:, None])
        t.subtract(z, rows, s_ce)
        apply_logit_grad(z, tb, h, weight, grads, rows)
    if grads.hidden is not None:
        dist.all_reduce(grads.hidden, group=shard.group)  # Σ_r G_r W_r
    return out, grads
