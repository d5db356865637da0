r"""Numba kernels of word2vec training: skip-gram and CBOW, negative sampling and
hierarchical softmax.

One call trains on one job (a run of sentences) with the GIL released, so worker threads
run them in parallel on shared weight matrices (Hogwild, as word2vec.c and gensim do).
Semantics follow word2vec.c: subsampling before windowing, a reduced window
``window − b`` with ``b`` uniform in ``{0, …, window−1}`` (unless window shrinking is off),
word2vec.c's linear congruential generator (so one thread and one seed give bit-identical
vectors), and a learning rate interpolated linearly over the job. Skip-gram pairs are
oriented as the seed's formula: the centre word's input vector :math:`v_c` (``syn0``)
predicts the context word ``o`` through output vectors (``syn1`` / ``syn1neg``).

Per pair the loss added to the float64 total is, with :math:`\sigma` the logistic function,
negative sampling :math:`-\log\sigma(u_o^\top v_c) - \sum_{k} \log\sigma(-u_k^\top v_c)`
over ``negative`` draws from the unigram^ns_exponent distribution (an alias table; draws
equal to ``o`` are skipped), hierarchical softmax
:math:`-\sum_{n \in \mathrm{path}(o)} \log\sigma((1-2\,\mathrm{code}_n)\,u_n^\top v_c)`,
or both summed (word2vec.c's ``-hs 1 -negative N``). CBOW: see :func:`cbow_job`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_MULT = np.uint64(25214903917)
_ADD = np.uint64(11)
_SHIFT = np.uint64(16)
_LOW16 = np.uint64(0xFFFF)
_HIGH = np.uint64(32)


@njit(inline="always")
def _next(state: np.ndarray) -> np.uint64:  # pragma: no cover - compiled
    state[0] = state[0] * _MULT + _ADD
    value: np.uint64 = state[0]
    return value


@njit(inline="always")
def _softplus(x: float) -> float:  # pragma: no cover - compiled
    """log(1 + e^x), stable for any x."""
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


# sigma(x) and log sigma(x) tabulated on [-TABLE_RANGE, TABLE_RANGE] and interpolated
# linearly: error below 1e-6 (float32 resolution of the loss), no exp/log per unit. Outside
# the range sigma is 0 or 1 and log sigma(x) is x or 0 within 1.2e-7.
TABLE_RANGE = 16.0
TABLE_SIZE = 8193
_GRID = np.linspace(-TABLE_RANGE, TABLE_RANGE, TABLE_SIZE)
SIGMOID_TABLE = 1.0 / (1.0 + np.exp(-_GRID))
LOG_SIGMOID_TABLE = -np.logaddexp(0.0, -_GRID)
_SCALE = (TABLE_SIZE - 1) / (2 * TABLE_RANGE)


@njit(inline="always")
def _lookup(
    table: np.ndarray, x: float, low: float, high: float
) -> float:  # pragma: no cover - compiled
    if not x > -TABLE_RANGE:  # also NaN (diverged weights): never an out-of-range index
        return low
    if x >= TABLE_RANGE:
        return high
    pos = (x + TABLE_RANGE) * _SCALE
    i = int(pos)
    t = pos - i
    value: float = table[i] + t * (table[i + 1] - table[i])
    return value


@njit(inline="always")
def _update(
    l1: np.ndarray, syn1: np.ndarray, node: int, label: float, alpha: float, neu1e: np.ndarray
) -> float:  # pragma: no cover - compiled
    """One logistic unit on input vector ``l1``: accumulate its gradient into ``neu1e``,
    update output row ``node`` of ``syn1``; returns the unit's loss -log sigma(±f) (float64)."""
    dim = l1.shape[0]
    row = syn1[node]
    f = np.float32(0.0)
    for d in range(dim):
        f += l1[d] * row[d]
    fd = float(f)
    p = _lookup(SIGMOID_TABLE, fd, 0.0, 1.0)
    g = np.float32((label - p) * alpha)
    for d in range(dim):
        neu1e[d] += g * row[d]
        row[d] += g * l1[d]
    margin = fd if label > 0.5 else -fd
    return -_lookup(LOG_SIGMOID_TABLE, margin, margin, 0.0)


@njit(inline="always")
def _window(
    state: np.ndarray, i: int, n: int, window: int, shrink: bool
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Positions ``[lo, hi)`` around ``i`` in a sentence of ``n``: ``window − b`` each side,
    ``b`` uniform in ``{0..window−1}`` if ``shrink`` (one draw), else ``b = 0``."""
    b = int(_next(state) % np.uint64(window)) if shrink else 0
    return max(0, i - window + b), min(n, i + window - b + 1)


@njit(inline="always")
def _subsample(
    words: np.ndarray, start: int, end: int, keep: np.ndarray, state: np.ndarray, sent: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Copy the words ``start..end`` kept by subsampling into ``sent``; returns how many."""
    n = 0
    for k in range(start, end):
        w = words[k]
        if keep[w] < 1.0:
            r = float((_next(state) >> _SHIFT) & _LOW16) / 65536.0
            if keep[w] < r:
                continue
        sent[n] = w
        n += 1
    return n


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
) -> tuple[float, int, int]:
    """Skip-gram on sentences ``offsets[s]..offsets[s+1]`` of ``words``: ``syn1`` the
    inner-node vectors (used if ``hs``), ``syn1neg`` the output vectors (used if
    ``negative > 0``; both: the losses are summed per pair, as word2vec.c's ``-hs 1
    -negative N``); ``shrink``: window ``window − b``, ``b`` uniform in ``{0..window−1}``.

    Returns (loss summed over pairs in float64, number of pairs, words read).
    """
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    neu1e = np.zeros(syn0.shape[1], dtype=np.float32)
    sent = np.empty(10_000, dtype=np.int32)
    total_words = offsets[-1] - offsets[0]
    loss, pairs, done = 0.0, 0, 0
    for s in range(offsets.shape[0] - 1):
        n = _subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        done += offsets[s + 1] - offsets[s]
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total_words, 1)
        for i in range(n):
            c = sent[i]
            lo, hi = _window(state, i, n, window, shrink)
            for j in range(lo, hi):
                if j == i:
                    continue
                l1 = syn0[c]
                neu1e[:] = 0.0
                loss += _output_units(
                    l1, syn1, syn1neg, sent[j], alpha, neu1e, state, hs, negative,
                    neg_prob, neg_alias, codes, points, lengths,
                )  # fmt: skip
                for d in range(l1.shape[0]):
                    l1[d] += neu1e[d]
                pairs += 1
    return loss, pairs, done


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
    order. The full-softmax objective trains one logits row per window."""
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


# --- CBOW (word2vec.c's -cbow 1) ---------------------------------------------------------
# The hidden vector of centre position i is h = Σ_{j ∈ window(i), j≠i} v_{w_j}, divided by
# the number of context words cw when cbow_mean (word2vec.c's default). h predicts the centre
# word w_i through the same logistic units as skip-gram: hierarchical softmax along w_i's
# Huffman path, and/or negative sampling (word2vec.c allows both: the two losses are summed
# and their gradients accumulated into one error e = Σ_units g_u u_u). As word2vec.c (and
# unlike the exact gradient of the mean), every context row receives the whole error e.
# Loss per centre: Σ_units -log σ(±u_uᵀ h); one "example" per centre with cw > 0.


@njit(inline="always")
def _output_units(  # pragma: no cover - compiled
    l1: np.ndarray,
    syn1: np.ndarray,
    syn1neg: np.ndarray,
    target: int,
    alpha: float,
    neu1e: np.ndarray,
    state: np.ndarray,
    hs: bool,
    negative: int,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    lengths: np.ndarray,
) -> float:
    """Hierarchical-softmax units (if ``hs``), then ``negative`` sampled units (if > 0), of
    input ``l1`` predicting ``target``; gradients accumulate in ``neu1e``; returns the loss."""
    loss = 0.0
    if hs:
        for q in range(lengths[target]):
            loss += _update(l1, syn1, points[target, q], 1.0 - codes[target, q], alpha, neu1e)
    if negative > 0:
        n_neg = np.uint64(neg_prob.shape[0])
        loss += _update(l1, syn1neg, target, 1.0, alpha, neu1e)
        for _ in range(negative):
            x = _next(state)  # alias draw: high bits pick a column, low a coin
            col = np.int64(((x >> _HIGH) * n_neg) >> _HIGH)
            neg = col
            if float((x >> _SHIFT) & _LOW16) >= neg_prob[col] * 65536.0:
                neg = np.int64(neg_alias[col])
            if neg != target:
                loss += _update(l1, syn1neg, neg, 0.0, alpha, neu1e)
    return loss


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
) -> tuple[float, int, int]:
    """CBOW on sentences ``offsets[s]..offsets[s+1]`` of ``words``: ``syn1`` the inner-node
    vectors (used if ``hs``), ``syn1neg`` the output vectors (used if ``negative > 0``);
    ``shrink``: window ``window − b``, ``b`` uniform in ``{0..window−1}`` per centre.

    Returns (loss summed over examples in float64, number of examples, words read)."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    dim = syn0.shape[1]
    neu1 = np.zeros(dim, dtype=np.float32)
    neu1e = np.zeros(dim, dtype=np.float32)
    sent = np.empty(10_000, dtype=np.int32)
    total_words = offsets[-1] - offsets[0]
    loss, examples, done = 0.0, 0, 0
    for s in range(offsets.shape[0] - 1):
        n = _subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        done += offsets[s + 1] - offsets[s]
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total_words, 1)
        for i in range(n):
            lo, hi = _window(state, i, n, window, shrink)
            neu1[:] = 0.0
            for j in range(lo, hi):
                if j != i:
                    row = syn0[sent[j]]
                    for d in range(dim):
                        neu1[d] += row[d]
            cw = hi - lo - 1
            if cw <= 0:
                continue
            if cbow_mean:
                inv = np.float32(1.0 / cw)
                for d in range(dim):
                    neu1[d] *= inv
            neu1e[:] = 0.0
            loss += _output_units(
                neu1, syn1, syn1neg, sent[i], alpha, neu1e, state, hs, negative,
                neg_prob, neg_alias, codes, points, lengths,
            )  # fmt: skip
            for j in range(lo, hi):
                if j != i:
                    row = syn0[sent[j]]
                    for d in range(dim):
                        row[d] += neu1e[d]
            examples += 1
    return loss, examples, done


@njit(nogil=True, cache=True)
def cbow_examples(  # pragma: no cover - compiled
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    window: int,
    seed: int,
    shrink: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CBOW examples of a job, after subsampling and the (shrunk) window, with the same
    random stream as :func:`cbow_job`: centres ``[N]``, and the context words of example
    ``k`` at ``contexts[starts[k]:starts[k + 1]]`` (``starts [N + 1]``)."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    total = offsets[-1] - offsets[0]
    centres = np.empty(total, dtype=np.int64)
    starts = np.zeros(total + 1, dtype=np.int64)
    contexts = np.empty(total * 2 * window, dtype=np.int64)
    sent = np.empty(10_000, dtype=np.int32)
    n_ex, m = 0, 0
    for s in range(offsets.shape[0] - 1):
        n = _subsample(words, offsets[s], offsets[s + 1], keep, state, sent)
        for i in range(n):
            lo, hi = _window(state, i, n, window, shrink)
            if hi - lo <= 1:
                continue
            for j in range(lo, hi):
                if j != i:
                    contexts[m] = sent[j]
                    m += 1
            centres[n_ex] = sent[i]
            n_ex += 1
            starts[n_ex] = m
    return centres[:n_ex], starts[: n_ex + 1], contexts[:m]
