r"""Numba kernels of word2vec training: skip-gram and CBOW, negative sampling and
hierarchical softmax, and the windows of a job for the full-softmax objective.

One call trains on one job (a run of sentences) with the GIL released, so worker threads
run them in parallel on shared weight matrices (Hogwild, as word2vec.c and gensim do).
Semantics follow word2vec.c (:mod:`.sampling`): subsampling before windowing, a reduced
window ``window − b`` with ``b`` uniform in ``{0, …, window−1}`` (unless window shrinking
is off), word2vec.c's linear congruential generator (so one thread and one seed give
bit-identical vectors), and a learning rate interpolated linearly over the job. The
updates are batched into small dense products (:mod:`.blocks`): a skip-gram window's
context words share the centre's output units and one draw of negatives
(:func:`train_job`, :mod:`.skipgram_kernel`); CBOW centres share negatives in blocks
(:func:`cbow_job`, :mod:`.cbow_kernel`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from crossent.word2vec.training.cbow_kernel import CBOW_BATCH, cbow_job
from crossent.word2vec.training.sampling import subsample as _subsample
from crossent.word2vec.training.sampling import window_bounds as _window
from crossent.word2vec.training.skipgram_kernel import train_job

__all__ = [
    "CBOW_BATCH",
    "cbow_job",
    "hs_log_likelihood",
    "job_pairs",
    "job_windows",
    "train_job",
]


@njit(inline="always")
def _softplus(x: float) -> float:  # pragma: no cover - compiled
    """log(1 + e^x), stable for any x."""
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(nogil=True, cache=True)
def job_windows(  # pragma: no cover - compiled
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    window: int,
    seed: int,
    dynamic: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The windows of a job, after subsampling and the (dynamic) window, one per centre
    occurrence that has a context: ``centres [M]``, ``starts [M+1]`` and ``contexts [P]``,
    the contexts of window ``m`` being ``contexts[starts[m]:starts[m+1]]`` in sentence
    order, with the random stream of the ns/hs kernels. The full-softmax objective trains one
    logits row per window: skip-gram's centre against its contexts, CBOW's contexts (its
    example) against the centre."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    cap = (offsets[-1] - offsets[0]) * 2 * window
    centres = np.empty(offsets[-1] - offsets[0], dtype=np.int64)
    starts = np.empty(offsets[-1] - offsets[0] + 1, dtype=np.int64)
    contexts = np.empty(cap, dtype=np.int64)
    sent = np.empty(10_000, dtype=np.int32)
    m, p = 0, 0
    starts[0] = 0
    for s in range(offsets.shape[0] - 1):
        n = _subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        for i in range(n):
            lo, hi = _window(state, i, n, window, dynamic)
            for j in range(lo, hi):
                if j != i:
                    contexts[p] = sent[j]
                    p += 1
            if p > starts[m]:
                centres[m] = sent[i]
                m += 1
                starts[m] = p
    return centres[:m], starts[: m + 1], contexts[:p]


def job_pairs(
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    window: int,
    seed: int,
    dynamic: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The (centre, context) pairs of :func:`job_windows`, one row per pair: ``centres [P]``,
    ``contexts [P]``."""
    centres, starts, contexts = job_windows(words, offsets, keep, window, seed, dynamic)
    return np.repeat(centres, np.diff(starts)), contexts


@njit(nogil=True, cache=True)
def hs_log_likelihood(  # pragma: no cover - compiled
    syn0: np.ndarray,
    syn1: np.ndarray,
    centres: np.ndarray,
    contexts: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    lengths: np.ndarray,
) -> float:
    """Σ over pairs of -log p(context | centre) under the hierarchical softmax (float64)."""
    total = 0.0
    for m in range(centres.shape[0]):
        c, o = centres[m], contexts[m]
        for q in range(lengths[o]):
            f = 0.0
            for d in range(syn0.shape[1]):
                f += float(syn0[c, d]) * float(syn1[points[o, q], d])
            total += _softplus(-f) if codes[o, q] == 0 else _softplus(f)
    return total
