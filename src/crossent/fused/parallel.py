r"""Vocabulary-parallel linear cross-entropy over ``torch.distributed`` (tensor parallelism).

Every rank of ``group`` holds the same hidden rows ``h [N, D]`` and class targets (or its
columns of probability targets), and one slice of the vocabulary: rows
``[start, start + V_r)`` of ``W`` (and of the bias and the class weights). Neither the N×V
logits nor the N×V_r slice ever exist: rows go in chunks through the one chunk loop
(:mod:`crossent.fused.loop`) with a :class:`~crossent.fused.comm.Distributed` slice. For a
chunk, with local logits :math:`z^{(r)} = h W_r^\top + b_r`:

1. :math:`m_i = \max_r \max_c z^{(r)}_{ic}` (one all-reduce MAX),
2. :math:`S_i = \sum_r \sum_c e^{z^{(r)}_{ic} - m_i}` and the target term
   :math:`a_i \cdot z_i` (one all-reduce SUM of a ``[c, 2]`` tensor, ``[c, 4]`` with
   statistics; the target logit comes from the rank that owns the target class),

so that every rank has the exact :math:`\mathrm{lse}_i = m_i + \log S_i` and per-row loss
:math:`A_i \mathrm{lse}_i - a_i \cdot z_i` (notation of :mod:`crossent.fused.targets`).
Label smoothing and class weights use the global ``V`` and global :math:`\sum_c w_c`
(Megatron-LM #737/#7464 used the local shard's, so the loss differed by rank). With
statistics, the first global argmax costs one more all-reduce (MIN). The logit gradient is
local,
:math:`G^{(r)} = (s A + 2\zeta t\,\mathrm{lse})\,p^{(r)} - s\,a^{(r)}`; ``grad_W_r`` and
``grad_b_r`` stay local and ``grad_h = Σ_r G^{(r)} W_r`` is all-reduced, so each rank gets
the gradient of the global loss with respect to its (replicated) ``hidden``.

This is Megatron-LM's ``vocab_parallel_cross_entropy`` fused with the output layer, in
chunks; like :func:`crossent.linear_cross_entropy` it computes the gradients in the forward
pass for ``"mean"``/``"sum"`` (6·N·D·V_r flops per rank) and recomputes for ``"none"``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.distributed as dist
from typing_extensions import Unpack

from crossent.fused.api import LinearCrossEntropyKwargs, options_from
from crossent.fused.autograd import run_autograd
from crossent.fused.checks import check_target_values
from crossent.fused.comm import Distributed
from crossent.fused.inputs import prepare_and_run
from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.fused.plan import plan
from crossent.fused.records import Options, Problem, Result


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
    return_lse: bool = False,
    return_stats: bool = False,
    **options: Unpack[LinearCrossEntropyKwargs],
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor] | LinearCrossEntropyOutput:
    r"""Cross-entropy of ``softcap(h Wᵀ + b)`` over the whole vocabulary, ``W`` split by rows
    across the ranks of ``group``; the same value (and ``hidden`` gradient) on every rank.

    Semantics as :func:`crossent.linear_cross_entropy`; every rank calls it with the same
    ``hidden``, class targets (or its columns of probability targets) and options.

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
      options: those of :func:`crossent.linear_cross_entropy` (``class_weight``: this rank's
        slice ``[V_r]``; ``impl``: ``"auto"`` or ``"torch"``, the loop that runs).
      return_lse: also return the per-row global log-sum-exp ``[...]``.
      return_stats: return a :class:`~crossent.fused.LinearCrossEntropyOutput` (loss, lse,
        entropy, target log-probability, correctness), each over the whole vocabulary, on
        every rank; correctness as in :func:`crossent.linear_cross_entropy` (the first
        global argmax, one more all-reduce per chunk).

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
    unknown = sorted(set(options) - set(LinearCrossEntropyKwargs.__annotations__))
    if unknown:
        raise TypeError(f"vocab_parallel_linear_cross_entropy: unexpected option {unknown[0]!r}")
    opts = options_from(options, with_stats=return_stats, impls=("auto", "torch"))
    opts = dataclasses.replace(opts, impl="torch")
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "group: torch.distributed is not initialised; call "
            "torch.distributed.init_process_group() on every rank first"
        )

    def run(problem: Problem, options: Options) -> Result:
        n, local = problem.targets.shape[0], problem.weight.shape[0]
        comm = _layout(problem.weight, n, group, vocab_start, vocab_size)
        check_target_values(problem.targets, comm.vocab, options.ignore_index, problem.class_weight)
        name = "vocab_parallel_linear_cross_entropy"
        return run_autograd(problem, plan(problem.hidden, local, options, comm, name=name))

    given = Problem(hidden, weight, bias, targets, options.get("class_weight"))
    shift, num_items = options.get("shift", 0), options.get("num_items_in_batch")
    res = prepare_and_run(given, opts, shift, num_items, run)
    if return_stats:
        return res
    return (res.loss, res.lse) if return_lse else res.loss


def _layout(
    weight: torch.Tensor, rows: int, group: Any, vocab_start: int | None, vocab_size: int | None
) -> Distributed:
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
        return Distributed(vocab=sum(counts), start=sum(counts[:rank]), group=group)
    if not (vocab_start >= 0 and vocab_start + local <= vocab_size):
        raise ValueError(
            f"vocab_start: this rank's {local} rows from {vocab_start} do not fit in "
            f"vocab_size={vocab_size}"
        )
    return Distributed(vocab=vocab_size, start=vocab_start, group=group)
