r"""CBOW training kernel: several centres' hidden vectors against shared negatives.

The hidden vector of centre position ``i`` is :math:`h = \sum_{j \in \mathrm{window}(i),
j \ne i} v_{w_j}`, divided by the number of context words ``cw`` when ``cbow_mean``
(word2vec.c's default). ``h`` predicts the centre word ``w_i`` through logistic units:
its Huffman path (``syn1``, hierarchical softmax) and/or itself plus negatives
(``syn1neg``), the two losses summed (word2vec.c's ``-hs 1 -negative N``). As word2vec.c,
every context row receives the whole error :math:`e = \sum_u g_u u_u` (not divided by
``cw``).

Batched (in the manner of HogBatch, Ji et al. 2016): up to ``batch`` centres of a sentence
(those with ``cw > 0``) form a block, taken in stride order — positions ``0, S, 2S, …``,
then ``1, 1 + S, …``, with ``S = 2·window + 1`` — so that the windows of a block do not
overlap: a context row is then rarely updated twice from the same stale hidden vectors
(blocks of consecutive centres, whose windows overlap, cost 0.03–0.04 WordSim-353 and
0.5–0.7 analogy points against gensim; in stride order the vectors score as word2vec.c's
per-centre updates, see ``benchmarks/RESULTS.md``). Their hidden vectors
:math:`H\,[B \times D]` are taken from the weights at the start of the block; they share
one draw of ``negative`` words, scored as one product :math:`H N^\top\,[B \times K]`
(:mod:`.blocks`; a draw equal to a centre's own word is masked for that centre), whose
gradients are also taken at the block start. Each centre's own units (path, own word) are
then trained in order, as word2vec.c does, and the context rows get their errors at the
end of the block. With ``batch = 1`` (sentence order) this is word2vec.c's CBOW.

Loss per centre: :math:`\sum_u -\log\sigma(\pm u_u^\top h)`; one example per centre.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossent.word2vec.training import blocks
from crossent.word2vec.training.hotrows import (
    FLUSH_WINDOWS,
    HotRows,
    flush,
    gather_path,
    hot_buffers,
)
from crossent.word2vec.training.sampling import (
    draw_negative,
    sigmoid_and_log,
    subsample,
    window_bounds,
)

CBOW_BATCH = 8
"""Centres per block that share negatives (see RESULTS.md for how it was chosen)."""


@njit(nogil=True, cache=True, fastmath=True)
def cbow_job(  # pragma: no cover - compiled
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
    cbow_mean: bool,
    shrink: bool,
    with_loss: bool,
    batch: int,
) -> tuple[float, int, int]:
    """CBOW on sentences ``offsets[s]..offsets[s+1]`` of ``words`` (weights as
    :func:`~.skipgram_kernel.train_job`); ``shrink``: window ``window − b``, ``b`` uniform
    in ``{0..window−1}`` per centre; ``batch`` centres share negatives.

    Returns (loss summed over examples in float64 — 0 if not ``with_loss`` —, number of
    examples, words read)."""
    state = np.full(1, np.uint64(seed), dtype=np.uint64)
    dim = syn0.shape[1]
    n_own = (codes.shape[1] if hs else 0) + (1 if negative > 0 else 0)
    hidden = np.empty((batch, dim), dtype=np.float32)
    errors = np.empty((batch, dim), dtype=np.float32)
    ctx = np.empty((batch, 2 * window), dtype=np.int64)
    cw = np.empty(batch, dtype=np.int64)
    centres = np.empty(batch, dtype=np.int64)
    own = _unit_buffers(1, n_own, dim)
    hot = hot_buffers(syn1, hs)  # the top of the tree, buffered per job
    slots = np.empty(max(n_own, 1), dtype=np.int64)
    neg = _unit_buffers(batch, negative, dim)
    idx = np.arange(batch)
    sent = np.empty(10_000, dtype=np.int32)
    total_words = offsets[-1] - offsets[0]
    loss, examples, done = 0.0, 0, 0
    for s in range(offsets.shape[0] - 1):
        n = subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        done += offsets[s + 1] - offsets[s]
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total_words, 1)
        nc = 0
        stride = 2 * window + 1 if batch > 1 else 1  # centres whose windows do not overlap
        per = (n + stride - 1) // stride
        for k in range(stride * per):
            i = k // per + (k % per) * stride  # 0, stride, 2 stride, …, then 1, 1 + stride, …
            if i < n:
                lo, hi = window_bounds(state, i, n, window, shrink)
                if hi - lo > 1:
                    _hidden(syn0, sent, i, lo, hi, nc, hidden, ctx, cw, centres, cbow_mean)
                    nc += 1
            if nc == batch or (k == stride * per - 1 and nc > 0):
                loss += _shared_negatives(
                    syn1neg, hidden, centres, nc, negative, state, neg_prob, neg_alias, alpha,
                    errors, neg, idx, with_loss,
                )  # fmt: skip
                for b in range(nc):
                    if not hs:  # negative sampling alone: one unit, no block
                        loss += _own_word(syn1neg, hidden, errors, b, centres[b], alpha, with_loss)
                        continue
                    loss += _own_units(
                        syn1, syn1neg, hidden, centres[b], b, hs, negative, codes, points,
                        lengths, alpha, errors, own, idx, with_loss, hot, slots,
                    )  # fmt: skip
                    if (examples + b + 1) % FLUSH_WINDOWS == 0:
                        flush(syn1, hot)
                _scatter(syn0, errors, ctx, cw, nc)
                examples += nc
                nc = 0
    flush(syn1, hot)
    return loss, examples, done


@njit(inline="always")
def _unit_buffers(
    inputs: int, units: int, dim: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Work space of a block of ``inputs`` × ``units``: unit rows ``[units]``, labels
    ``[inputs, units]``, copies of the unit vectors ``[units, dim]``, scores and gradients
    ``[inputs, units]``."""
    return (
        np.empty(units, dtype=np.int64),
        np.empty((inputs, units), dtype=np.float32),
        np.empty((units, dim), dtype=np.float32),
        np.empty((inputs, units), dtype=np.float32),
        np.empty((inputs, units), dtype=np.float32),
    )


@njit(inline="always")
def _hidden(  # pragma: no cover - compiled
    syn0: np.ndarray, sent: np.ndarray, i: int, lo: int, hi: int, b: int, hidden: np.ndarray,
    ctx: np.ndarray, cw: np.ndarray, centres: np.ndarray, cbow_mean: bool,
) -> None:  # fmt: skip
    """Record centre ``b`` of the block (position ``i``, window ``[lo, hi)``): its word,
    context words, and hidden vector ``hidden[b]`` (sum or mean of the context rows)."""
    h = hidden[b]
    h[:] = 0.0
    m = 0
    for j in range(lo, hi):
        if j != i:
            ctx[b, m] = sent[j]
            m += 1
            row = syn0[sent[j]]
            for d in range(h.shape[0]):
                h[d] += row[d]
    if cbow_mean:
        inv = np.float32(1.0 / m)
        for d in range(h.shape[0]):
            h[d] *= inv
    cw[b], centres[b] = m, sent[i]


@njit(inline="always")
def _shared_negatives(  # pragma: no cover - compiled
    syn1neg: np.ndarray, hidden: np.ndarray, centres: np.ndarray, nc: int, negative: int,
    state: np.ndarray, neg_prob: np.ndarray, neg_alias: np.ndarray, alpha: float,
    errors: np.ndarray, neg: tuple[np.ndarray, ...], idx: np.ndarray, with_loss: bool,
) -> float:  # fmt: skip
    """Draw the block's ``negative`` words; score them against the ``nc`` hidden vectors
    (a draw equal to centre ``b``'s word is masked for ``b``); update their output rows
    and set ``errors[b]`` to their part of centre ``b``'s error. Returns their loss."""
    rows, labels, out, S, G = neg
    for b in range(nc):
        errors[b, :] = 0.0
    if negative == 0:
        return 0.0
    for k in range(negative):
        rows[k] = draw_negative(state, neg_prob, neg_alias)
        blocks.gather(syn1neg, rows[k], out, k)
        for b in range(nc):
            labels[b, k] = -1.0 if rows[k] == centres[b] else 0.0
    blocks.scores(hidden, idx, nc, out, negative, S)
    loss = blocks.logistic(S, nc, negative, labels, False, alpha, G, with_loss)
    blocks.add_right(syn1neg, rows, 0, negative, G, hidden, idx, nc)
    blocks.add_left(errors, idx, nc, G, out, 0, negative)
    return loss


@njit(inline="always")
def _own_word(  # pragma: no cover - compiled
    syn1neg: np.ndarray, hidden: np.ndarray, errors: np.ndarray, b: int, centre: int,
    alpha: float, with_loss: bool,
) -> float:  # fmt: skip
    """:func:`_own_units` for negative sampling alone: the centre's own word ``u`` against
    ``h = hidden[b]``, ``g = α (1 − σ(u·h))``, ``errors[b] += g u``, ``u += g h`` (from
    ``u`` before the update); returns ``−log σ(u·h)``. A 1 × 1 block through :mod:`.blocks`
    did the same in 2.6 times the time (the calls and views cost more than the work):
    this path made the CBOW ns kernel 35–40 % faster (``benchmarks/RESULTS.md``)."""
    h, u, e = hidden[b], syn1neg[centre], errors[b]
    f = np.float32(0.0)
    for d in range(h.shape[0]):
        f += h[d] * u[d]
    p, log_p = sigmoid_and_log(float(f))
    g = np.float32((1.0 - p) * alpha)
    for d in range(h.shape[0]):
        e[d] += g * u[d]
        u[d] += g * h[d]
    return -log_p if with_loss else 0.0


@njit(inline="always")
def _own_units(  # pragma: no cover - compiled
    syn1: np.ndarray, syn1neg: np.ndarray, hidden: np.ndarray, centre: int, b: int, hs: bool,
    negative: int, codes: np.ndarray, points: np.ndarray, lengths: np.ndarray, alpha: float,
    errors: np.ndarray, own: tuple[np.ndarray, ...], idx: np.ndarray, with_loss: bool,
    hot: HotRows, slots: np.ndarray,
) -> float:  # fmt: skip
    """Centre ``b``'s own units (its Huffman path if ``hs``, its word in ``syn1neg`` if
    ``negative``) against ``hidden[b]``: update them (the top of the tree in the job's
    buffer ``hot``, :mod:`.hotrows`), add their error into ``errors[b]``; returns their
    loss."""
    rows, labels, out, S, G = own
    n_hs = lengths[centre] if hs else 0
    n_hot = gather_path(syn1, hot, codes, points, n_hs, centre, rows, slots, labels, out)
    nb = n_hs
    if negative > 0:
        rows[nb], labels[0, nb] = centre, 1.0
        blocks.gather(syn1neg, centre, out, nb)
        nb += 1
    one = idx[b:]  # starts with b: row b of hidden and of errors
    blocks.scores(hidden, one, 1, out, nb, S)
    loss = blocks.logistic(S, 1, nb, labels, True, alpha, G, with_loss)
    if n_hot > 0:
        blocks.add_right(hot[2], slots, 0, n_hot, G, hidden, one, 1)
    if n_hs > n_hot:
        blocks.add_right(syn1, rows, n_hot, n_hs, G, hidden, one, 1)
    if nb > n_hs:
        blocks.add_right(syn1neg, rows, n_hs, nb, G, hidden, one, 1)
    blocks.add_left(errors, one, 1, G, out, 0, nb)
    return loss


@njit(inline="always")
def _scatter(  # pragma: no cover - compiled
    syn0: np.ndarray, errors: np.ndarray, ctx: np.ndarray, cw: np.ndarray, nc: int
) -> None:
    """Every context row of every centre of the block gets that centre's error."""
    for b in range(nc):
        e = errors[b]
        for m in range(cw[b]):
            row = syn0[ctx[b, m]]
            for d in range(e.shape[0]):
                row[d] += e[d]
