r"""The seed's exact skip-gram objective, trained through the fused linear cross-entropy.

The loss of one pair is :math:`J_{c,o} = -u_o^\top v_c + \log\sum_{w\in V}\exp(u_w^\top v_c)`.
Its normaliser depends on the centre only, so the pairs of one window (a centre
occurrence ``c`` and its ``k`` contexts ``o_1..o_k``) share one logits row
:math:`z_c = U v_c`:

.. math::
    \sum_{j=1}^{k} J_{c,o_j} = k\,\mathrm{lse}(z_c) - \sum_j z_{c,o_j}
    = \mathrm{lse}(z_c)\,\textstyle\sum_w n_w - n \cdot z_c ,

the seed's form 2 (cross-entropy against the target vector :math:`n` of context counts,
:math:`n_w = |\{j : o_j = w\}|`, i.e. ``k`` times the probability targets ``n / k``)
equal to form 1 summed. The gradients agree as well: :math:`\partial/\partial z_c =
k\,\mathrm{softmax}(z_c) - n`, the sum of the pairs' :math:`\mathrm{softmax}(z_c) -
e_{o_j}`. So one step on a batch of windows,
``linear_cross_entropy(syn0[c], syn1, n, reduction="sum")`` with ``n [B, V]`` the count
rows, gives the loss and the SGD update of the same pairs fed one row per pair
(:func:`pair_step`), with ``2·(mean window)`` times fewer rows: 6·B·D·V flops for ``B``
windows instead of for ``k·B`` pairs. Only one batch of logits (and of count rows) exists
at a time, never a pairs×V tensor.

A step is plain SGD on the summed loss: ``syn0[c] -= α ∂/∂v_c``, ``syn1 -= α ∂/∂U``, batches
of whole windows holding at least ``batch_pairs`` pairs, ``α`` interpolated linearly over
the job as word2vec does per word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from crossent.fused import linear_cross_entropy
from crossent.word2vec import _kernels
from crossent.word2vec.model import SkipGram

Step = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], float
]
"""``(syn0, syn1, centres [B], starts [B+1], contexts [P], alpha) -> loss``: one SGD step."""


def count_targets(
    starts: torch.Tensor, contexts: torch.Tensor, vocab: int, dtype: torch.dtype
) -> torch.Tensor:
    """``n [B, V]`` with ``n[m, w]`` = how many of window ``m``'s contexts are ``w``
    (window ``m`` holds ``contexts[starts[m] - starts[0] : starts[m+1] - starts[0]]``)."""
    b = starts.shape[0] - 1
    rows = torch.repeat_interleave(
        torch.arange(b, device=contexts.device), starts[1:] - starts[:-1], output_size=len(contexts)
    )
    n = torch.zeros(b, vocab, dtype=dtype, device=contexts.device)
    n.index_put_((rows, contexts), n.new_ones(()).expand(len(contexts)), accumulate=True)
    return n


def _sgd(
    syn0: torch.Tensor,
    syn1: torch.Tensor,
    rows: torch.Tensor,
    targets: torch.Tensor,
    alpha: float,
) -> float:
    """``loss = linear_cross_entropy(syn0[rows], syn1, targets, "sum")``, then one SGD step
    on ``syn0[rows]`` and ``syn1`` in place; returns the loss."""
    hidden = syn0[rows].requires_grad_()  # [B, D]
    weight = syn1.detach().requires_grad_()  # [V, D], a leaf on the same storage
    loss = linear_cross_entropy(hidden, weight, targets, reduction="sum")
    assert isinstance(loss, torch.Tensor)
    g_hidden, g_weight = torch.autograd.grad(loss, (hidden, weight))
    syn0.index_add_(0, rows, g_hidden, alpha=-alpha)
    syn1.add_(g_weight, alpha=-alpha)
    return float(loss.detach())


def window_step(
    syn0: torch.Tensor,
    syn1: torch.Tensor,
    centres: torch.Tensor,
    starts: torch.Tensor,
    contexts: torch.Tensor,
    alpha: float,
) -> float:
    """One SGD step with one logits row per window (count targets); returns the loss summed
    over the windows' pairs."""
    targets = count_targets(starts, contexts, syn1.shape[0], syn1.dtype)  # [B, V]
    return _sgd(syn0, syn1, centres, targets, alpha)


def pair_step(
    syn0: torch.Tensor,
    syn1: torch.Tensor,
    centres: torch.Tensor,
    starts: torch.Tensor,
    contexts: torch.Tensor,
    alpha: float,
) -> float:
    """The same step with one logits row per pair (class targets): the reference of
    :func:`window_step`, ``2·(mean window)`` times the flops."""
    rows = torch.repeat_interleave(centres, starts[1:] - starts[:-1], output_size=len(contexts))
    return _sgd(syn0, syn1, rows, contexts, alpha)


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
    model: SkipGram,
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    seed: int,
    alpha0: float,
    alpha1: float,
    step: Step = window_step,
) -> tuple[float, int, int]:
    """Train one job; returns (loss summed over its pairs, pairs, words read)."""
    cfg = model.config
    centres, starts, contexts = _kernels.job_windows(words, offsets, keep, cfg.window, seed, True)
    syn0 = torch.from_numpy(model.syn0)  # shares memory with the model
    syn1 = torch.from_numpy(model.syn1)
    c_t, s_t, o_t = (torch.from_numpy(x) for x in (centres, starts, contexts))
    total, n = 0.0, len(contexts)
    for a, b in batches(starts, cfg.batch_pairs):
        alpha = alpha0 + (alpha1 - alpha0) * int(starts[a]) / max(n, 1)
        p0, p1 = int(starts[a]), int(starts[b])
        total += step(syn0, syn1, c_t[a:b], s_t[a : b + 1], o_t[p0:p1], alpha)
    return total, n, int(offsets[-1] - offsets[0])
