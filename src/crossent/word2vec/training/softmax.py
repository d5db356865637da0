r"""The seed's exact skip-gram objective, trained through the fused linear cross-entropy.

The loss of one pair is :math:`J_{c,o} = -u_o^\top v_c + \log\sum_{w\in V}\exp(u_w^\top v_c)`.
Its normaliser depends on the centre only, so all pairs with centre word ``c`` in one
batch — the ``k`` contexts ``o_1..o_k`` of its windows (centre occurrences) — share one
logits row :math:`z_c = U v_c`:

.. math::
    \sum_{j=1}^{k} J_{c,o_j} = k\,\mathrm{lse}(z_c) - \sum_j z_{c,o_j}
    = \Big(\sum_w n_w\Big)\mathrm{lse}(z_c) - n \cdot z_c ,

the seed's form 2 (cross-entropy against the vector :math:`n` of context counts,
:math:`n_w = |\{j : o_j = w\}|`: ``k`` times the probability targets ``n / k``) equal to
form 1 summed. The gradients agree as well: :math:`\partial/\partial z_c =
k\,\mathrm{softmax}(z_c) - n`, the sum of the pairs' :math:`\mathrm{softmax}(z_c) -
e_{o_j}`. Within a batch every pair sees the same weights, so one step
``linear_cross_entropy(syn0[rows], syn1, n, reduction="sum")`` over the batch's distinct
centre words ``rows`` (``n [R, V]`` their count rows) gives the loss and the SGD update of
the same pairs fed one row per pair (:func:`pair_step`) — with 5.8 pairs per window on
WikiText-2 and frequent words recurring within a batch, 6.6 (256 pairs a batch) to 9.7
(2048) times fewer rows, i.e. flops. Only one batch of logits (and of count rows) exists
at a time, never a pairs×V tensor.

A step is plain SGD on the summed loss: ``syn0[rows] -= α ∂/∂v``, ``syn1 -= α ∂/∂U``, batches
of whole windows holding at least ``batch_pairs`` pairs, ``α`` interpolated linearly over
the job as word2vec does per word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from crossent.fused import linear_cross_entropy, vocab_parallel_linear_cross_entropy
from crossent.word2vec.training import kernels
from crossent.word2vec.training.config import TrainConfig


@dataclass
class Weights:
    """What a step trains: the input vectors ``syn0 [V, D]`` and rows ``[start, start + V_r)``
    of the output vectors, ``syn1 [V_r, D]``, as tensors on one device. With a process
    ``group`` the other rows of ``syn1`` live on the group's other ranks and the loss goes
    through :func:`crossent.fused.vocab_parallel_linear_cross_entropy` (the ``hidden``
    gradient all-reduced, so ``syn0`` stays the same on every rank); without, through
    :func:`crossent.fused.linear_cross_entropy` with ``impl`` (``"auto"``: Triton on CUDA)."""

    syn0: torch.Tensor
    syn1: torch.Tensor
    start: int = 0
    vocab: int = -1  # the global V; -1: syn1's rows
    group: Any = None
    impl: str = "auto"

    def __post_init__(self) -> None:
        if self.vocab < 0:
            self.vocab = self.syn1.shape[0]

    def loss(
        self, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """The loss summed over the rows of ``hidden`` (targets: global class indices, or
        this slice's columns of count rows)."""
        if self.group is None:
            out = linear_cross_entropy(hidden, weight, targets, reduction="sum", impl=self.impl)
        else:
            out = vocab_parallel_linear_cross_entropy(
                hidden,
                weight,
                targets,
                group=self.group,
                vocab_start=self.start,
                vocab_size=self.vocab,
                reduction="sum",
            )
        return out


Step = Callable[[Weights, torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]
"""``(weights, centres [B], starts [B+1], contexts [P], alpha) -> loss``: one SGD step in
place; the loss (summed over the pairs) a 0-dim tensor on the weights' device."""


def centre_rows(
    centres: torch.Tensor, starts: torch.Tensor, pairs: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct centre words ``rows [R]`` of a run of windows and, for each of its
    ``pairs`` pairs, the index in ``rows`` of its centre ``[P]`` (window ``m`` holds the
    pairs ``starts[m] - starts[0] .. starts[m+1] - starts[0]``)."""
    rows, inverse = torch.unique(centres, return_inverse=True)  # [R], [B]
    return rows, torch.repeat_interleave(inverse, starts[1:] - starts[:-1], output_size=pairs)


def count_targets(
    pair_rows: torch.Tensor,
    contexts: torch.Tensor,
    n_rows: int,
    columns: tuple[int, int],
    dtype: torch.dtype,
) -> torch.Tensor:
    """``n [R, stop - start]``: ``n[r, w - start]`` = how many pairs of row ``r`` have the
    context ``w``, for the vocabulary columns ``(start, stop)`` (``pair_rows [P]``,
    ``contexts [P]``; contexts outside the columns count nowhere)."""
    start, stop = columns
    n = torch.zeros(n_rows, stop - start, dtype=dtype, device=contexts.device)
    ones = n.new_ones(()).expand(len(contexts))
    local = contexts - start
    inside = (local >= 0) & (local < stop - start)  # [P]; no host sync on a GPU
    n.index_put_(
        (pair_rows, local.clamp(0, stop - start - 1)),
        torch.where(inside, ones, 0.0),
        accumulate=True,
    )
    return n


def _sgd(w: Weights, rows: torch.Tensor, targets: torch.Tensor, alpha: float) -> torch.Tensor:
    """``loss = w.loss(syn0[rows], syn1, targets)``, then one SGD step on ``syn0[rows]`` and
    ``syn1`` in place; returns the loss."""
    hidden = w.syn0[rows].requires_grad_()  # [R, D]
    weight = w.syn1.detach().requires_grad_()  # [V_r, D], a leaf on the same storage
    loss = w.loss(hidden, weight, targets)
    g_hidden, g_weight = torch.autograd.grad(loss, (hidden, weight))
    w.syn0.index_add_(0, rows, g_hidden, alpha=-alpha)
    w.syn1.add_(g_weight, alpha=-alpha)
    return loss.detach()


def centre_step(
    w: Weights, centres: torch.Tensor, starts: torch.Tensor, contexts: torch.Tensor, alpha: float
) -> torch.Tensor:
    """One SGD step with one logits row per distinct centre word (count targets)."""
    rows, pair_rows = centre_rows(centres, starts, len(contexts))
    columns = (w.start, w.start + w.syn1.shape[0])
    targets = count_targets(pair_rows, contexts, len(rows), columns, w.syn1.dtype)  # [R, V_r]
    return _sgd(w, rows, targets, alpha)


def pair_step(
    w: Weights, centres: torch.Tensor, starts: torch.Tensor, contexts: torch.Tensor, alpha: float
) -> torch.Tensor:
    """The same step with one logits row per pair (class targets): the reference of
    :func:`centre_step`, 5.8 to 10 times the flops."""
    rows = torch.repeat_interleave(centres, starts[1:] - starts[:-1], output_size=len(contexts))
    return _sgd(w, rows, contexts, alpha)


def batches(starts: np.ndarray, batch_pairs: int) -> Iterator[tuple[int, int]]:
    """Runs ``[a, b)`` of consecutive windows holding at least ``batch_pairs`` pairs each
    (the last one fewer)."""
    m, a = len(starts) - 1, 0
    while a < m:
        b = int(np.searchsorted(starts, starts[a] + batch_pairs, side="left"))
        b = min(max(b, a + 1), m)
        yield a, b
        a = b


def softmax_job(
    w: Weights,
    config: TrainConfig,
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    seed: int,
    alphas: tuple[float, float],
    step: Step = centre_step,
) -> tuple[float, int, int]:
    """Train one job, the learning rate going from ``alphas[0]`` to ``alphas[1]``; returns
    (loss summed over its pairs, pairs, words read)."""
    centres, starts, contexts = kernels.job_windows(
        words, offsets, keep, config.window, seed, config.shrink_windows
    )
    dev = w.syn0.device
    c_t, s_t, o_t = (torch.from_numpy(x).to(dev) for x in (centres, starts, contexts))
    total, n = torch.zeros((), dtype=torch.float64, device=dev), len(contexts)
    for a, b in batches(starts, config.batch_pairs):
        p0, p1 = int(starts[a]), int(starts[b])
        alpha = alphas[0] + (alphas[1] - alphas[0]) * p0 / max(n, 1)
        total += step(w, c_t[a:b], s_t[a : b + 1], o_t[p0:p1], alpha)
    return float(total), n, int(offsets[-1] - offsets[0])
