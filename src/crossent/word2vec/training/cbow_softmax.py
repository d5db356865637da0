r"""CBOW with the seed's exact softmax: the centre predicted from the mean context vector.

For a batch of examples (centre :math:`c_i`, context words :math:`C_i`), the hidden vector
is :math:`h_i = \frac{1}{|C_i|}\sum_{j \in C_i} v_j` (the sum if ``cbow_mean`` is off) and the
loss :math:`\sum_i -u_{c_i}^\top h_i + \log \sum_{w \in V} \exp(u_w^\top h_i)`
= ``linear_cross_entropy(h, syn1, c, reduction="sum")``, computed without the batch×V
logits. Plain SGD: ``syn1 -= α ∂L/∂syn1``; as word2vec.c's CBOW, every context row receives
the whole hidden-vector gradient, ``v_j -= α ∂L/∂h_i`` for each ``j`` in :math:`C_i`.
"""

from __future__ import annotations

import numpy as np
import torch

from crossent.fused import linear_cross_entropy
from crossent.word2vec.formats.corpus import Job
from crossent.word2vec.training import kernels
from crossent.word2vec.training.model import SkipGram


def cbow_softmax_job(model: SkipGram, job: Job) -> tuple[float, int, int]:
    """Train one job; returns (loss summed over its examples, examples, words read)."""
    cfg = model.config
    words, offsets, alpha0, alpha1 = job.words, job.offsets, job.alpha0, job.alpha1
    centres, starts, contexts = kernels.job_windows(
        words, offsets, job.keep, cfg.window, job.seed, cfg.shrink_windows
    )
    syn0 = torch.from_numpy(model.syn0)  # shares memory with the model
    syn1 = torch.from_numpy(model.syn1)
    total, n, batch = 0.0, len(centres), cfg.batch_pairs
    for b0 in range(0, n, batch):
        b1 = min(b0 + batch, n)
        alpha = alpha0 + (alpha1 - alpha0) * b0 / max(n, 1)
        ctx = torch.from_numpy(contexts[starts[b0] : starts[b1]])  # [M]
        sizes = torch.from_numpy(np.diff(starts[b0 : b1 + 1]))  # [B] context words per example
        example = torch.repeat_interleave(torch.arange(b1 - b0), sizes)  # [M] row of each
        hidden = torch.zeros(b1 - b0, syn0.shape[1]).index_add_(0, example, syn0[ctx])  # [B, D]
        if cfg.cbow_mean:
            hidden /= sizes[:, None].to(hidden.dtype)
        hidden.requires_grad_()
        weight = syn1.detach().requires_grad_()  # [V, D], a leaf on the same storage
        target = torch.from_numpy(centres[b0:b1])
        loss = linear_cross_entropy(hidden, weight, target, reduction="sum")
        g_hidden, g_weight = torch.autograd.grad(loss, (hidden, weight))
        syn0.index_add_(0, ctx, g_hidden[example], alpha=-alpha)
        syn1.add_(g_weight, alpha=-alpha)
        total += float(loss.detach())
    return total, n, int(offsets[-1] - offsets[0])
