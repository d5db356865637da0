r"""The seed's exact skip-gram objective, trained through the fused linear cross-entropy.

For a batch of (centre, context) pairs ``(c_i, o_i)``:
:math:`\sum_i -u_{o_i}^\top v_{c_i} + \log \sum_{w \in V} \exp(u_w^\top v_{c_i})`
= ``linear_cross_entropy(syn0[c], syn1, o, reduction="sum")`` — no pairs×V logits are ever
stored. Plain SGD on the summed loss, as word2vec's per-pair updates.
"""

from __future__ import annotations

import numpy as np
import torch

from crossent.fused import linear_cross_entropy
from crossent.word2vec import _kernels
from crossent.word2vec.model import SkipGram


def softmax_job(
    model: SkipGram,
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    seed: int,
    alpha0: float,
    alpha1: float,
) -> tuple[float, int, int]:
    """Train one job; returns (loss summed over its pairs, pairs, words read)."""
    cfg = model.config
    centres, contexts = _kernels.job_pairs(words, offsets, keep, cfg.window, seed, True)
    syn0 = torch.from_numpy(model.syn0)  # shares memory with the model
    syn1 = torch.from_numpy(model.syn1)
    total, n, batch = 0.0, len(centres), cfg.batch_pairs
    for start in range(0, n, batch):
        alpha = alpha0 + (alpha1 - alpha0) * start / max(n, 1)
        c = torch.from_numpy(centres[start : start + batch])
        o = torch.from_numpy(contexts[start : start + batch])
        hidden = syn0[c].requires_grad_()  # [B, D]
        weight = syn1.detach().requires_grad_()  # [V, D], a leaf on the same storage
        loss = linear_cross_entropy(hidden, weight, o, reduction="sum")
        g_hidden, g_weight = torch.autograd.grad(loss, (hidden, weight))
        syn0.index_add_(0, c, g_hidden, alpha=-alpha)
        syn1.add_(g_weight, alpha=-alpha)
        total += float(loss.detach())
    return total, n, int(offsets[-1] - offsets[0])
