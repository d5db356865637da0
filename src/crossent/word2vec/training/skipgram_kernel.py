r"""Skip-gram training kernel, one window at a time as small dense products (HogBatch).

For each kept centre word ``c`` with context words :math:`o_1..o_m` (its shrunk window),
the window is one block of :mod:`.blocks`: the inputs are the context vectors
:math:`X = [v_{o_1}; …; v_{o_m}]` (rows of ``syn0``), the outputs the units that predict
``c``, shared by the whole window — ``c``'s Huffman path (``syn1``, hierarchical softmax)
and/or ``c`` itself plus ``negative`` draws from the unigram^ns_exponent distribution
(``syn1neg``; draws equal to ``c`` are dropped). This is word2vec.c's skip-gram, which
also lets each context word predict the centre, except that (a) the window's ``m`` pairs
share one draw of negatives (Ji, Satish, Li and Dubey 2016, "Parallelizing Word2Vec in
Shared and Distributed Memory") and (b) the ``m`` pairs' gradients are taken at the
weights before the window's update (one step per window, not per pair). The top of the
Huffman tree, which every path shares, is buffered per job (:mod:`.hotrows`) so that
threads do not write its rows on every window.

The loss of a pair :math:`(o, c)` is
:math:`-\log\sigma(u_c^\top v_o) - \sum_k \log\sigma(-u_k^\top v_o)` for negative sampling,
:math:`-\sum_{n \in \mathrm{path}(c)} \log\sigma((1-2\,\mathrm{code}_n)\,u_n^\top v_o)`
for hierarchical softmax, their sum for both (word2vec.c's ``-hs 1 -negative N``); the
kernel returns it summed over the job's pairs, from the scores the update computes anyway.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossent.word2vec.training import blocks
from crossent.word2vec.training.hotrows import FLUSH_WINDOWS, flush, gather_path, hot_buffers
from crossent.word2vec.training.sampling import draw_negative, subsample, window_bounds


@njit(nogil=True, cache=True, fastmath=True)
def train_job(  # pragma: no cover - compiled
    syn0: np.ndarray,
    syn1: np.ndarray,
    syn1neg: np.ndarray,
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    window: int,
    alpha0: float,
    alpha1: float,
    seed: int,
    hs: bool,
    negative: int,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    lengths: np.ndarray,
    shrink: bool,
    with_loss: bool,
) -> tuple[float, int, int]:
    """Skip-gram on sentences ``offsets[s]..offsets[s+1]`` of ``words`` (float32 weights
    ``[V, D]``, updated in place): ``syn1`` the inner-node vectors ``[V−1, D]`` (used if
    ``hs``), ``syn1neg`` the output vectors ``[V, D]`` (used if ``negative > 0``);
    ``shrink``: window ``window − b``, ``b`` uniform in ``{0..window−1}``; the learning rate
    goes linearly from ``alpha0`` to ``alpha1`` over the job's words.

    Returns (loss summed over pairs in float64 — 0 if not ``with_loss`` —, number of
    (context, centre) pairs, words read)."""
    state = np.full(1, np.uint64(seed), dtype=np.uint64)
    dim = syn0.shape[1]
    max_out = (codes.shape[1] if hs else 0) + (1 + negative if negative > 0 else 0)
    inputs = np.empty(2 * window, dtype=np.int64)
    rows = np.empty(max_out, dtype=np.int64)
    slots = np.empty(max_out, dtype=np.int64)
    hot = hot_buffers(syn1, hs)  # the top of the tree, buffered per job
    labels = np.empty((1, max_out), dtype=np.float32)
    out = np.empty((max_out, dim), dtype=np.float32)  # the output vectors before the step
    S = np.empty((2 * window, max_out), dtype=np.float32)
    G = np.empty((2 * window, max_out), dtype=np.float32)
    sent = np.empty(10_000, dtype=np.int32)
    total_words = offsets[-1] - offsets[0]
    loss, pairs, done, windows = 0.0, 0, 0, 0
    for s in range(offsets.shape[0] - 1):
        n = subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        done += offsets[s + 1] - offsets[s]
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total_words, 1)
        for i in range(n):
            lo, hi = window_bounds(state, i, n, window, shrink)
            na = 0
            for j in range(lo, hi):
                if j != i:
                    inputs[na] = sent[j]
                    na += 1
            if na == 0:
                continue
            c = sent[i]
            n_hs = lengths[c] if hs else 0
            n_hot = gather_path(syn1, hot, codes, points, n_hs, c, rows, slots, labels, out)
            nb = _negatives(syn1neg, c, n_hs, negative, state, neg_prob, neg_alias, rows,
                            labels, out)  # fmt: skip
            blocks.scores(syn0, inputs, na, out, nb, S)
            loss += blocks.logistic(S, na, nb, labels, True, alpha, G, with_loss)
            if n_hot > 0:  # (a call with an empty range still costs ~5 % of a window)
                blocks.add_right(hot[2], slots, 0, n_hot, G, syn0, inputs, na)
            if n_hs > n_hot:
                blocks.add_right(syn1, rows, n_hot, n_hs, G, syn0, inputs, na)
            if nb > n_hs:
                blocks.add_right(syn1neg, rows, n_hs, nb, G, syn0, inputs, na)
            blocks.add_left(syn0, inputs, na, G, out, 0, nb)
            pairs += na
            windows += 1
            if windows % FLUSH_WINDOWS == 0:
                flush(syn1, hot)
    flush(syn1, hot)
    return loss, pairs, done


@njit(inline="always")
def _negatives(  # pragma: no cover - compiled
    syn1neg: np.ndarray,
    target: int,
    k: int,
    negative: int,
    state: np.ndarray,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    rows: np.ndarray,
    labels: np.ndarray,
    out: np.ndarray,
) -> int:
    """Append ``target`` (label 1) and ``negative`` draws other than it (label 0) to the
    output units from position ``k`` (rows, labels, copies in ``out``); returns the new
    number of units. Nothing if ``negative == 0``."""
    if negative == 0:
        return k
    rows[k], labels[0, k] = target, 1.0
    blocks.gather(syn1neg, target, out, k)
    k += 1
    for _ in range(negative):
        neg = draw_negative(state, neg_prob, neg_alias)
        if neg != target:
            rows[k], labels[0, k] = neg, 0.0
            blocks.gather(syn1neg, neg, out, k)
            k += 1
    return k
