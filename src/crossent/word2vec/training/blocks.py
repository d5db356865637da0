r"""The small dense products of batched word2vec updates (HogBatch, Ji et al. 2016).

A block is ``na`` input rows :math:`X` (rows ``ia`` of a matrix ``A``: ``syn0`` in
skip-gram, the hidden vectors in CBOW) against ``nb`` output rows :math:`U` (a contiguous
copy ``B`` of the output vectors, taken before the update). With labels :math:`y_{ak}`
(1 for the word to predict, 0 for a negative or per Huffman code, −1 for a unit not in
the block) and learning rate :math:`\alpha`:

.. math::

    S = X U^\top \;[na \times nb],\qquad
    G_{ak} = \alpha\,(y_{ak} - \sigma(S_{ak})),\qquad
    \text{loss} = -\sum_{ak} \log\sigma(\pm S_{ak}),

then :math:`U \mathrel{+}= G^\top X` (:func:`add_right`) and :math:`X \mathrel{+}= G U`
(:func:`add_left`), both from the values before the update. Every product runs over the
contiguous dimension ``D`` with four rows at once (four scores, or four terms of a sum per
element): five loads per four multiply-adds instead of two or three, which is what makes
a block faster than the same number of word2vec.c dot/axpy pairs.

numba caches a compiled kernel by its own file's time stamp only: after editing this module,
delete ``training/__pycache__/*.nb[ci]`` (or touch ``skipgram_kernel.py`` and
``cbow_kernel.py``), or the cached kernels keep the old code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossent.word2vec.training.sampling import sigmoid_and_log


@njit(nogil=True, cache=True, fastmath=True)
def scores(
    A: np.ndarray, ia: np.ndarray, na: int, B: np.ndarray, nb: int, S: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``S[a, k] = A[ia[a]] · B[k]`` for ``a < na``, ``k < nb`` (float32 sums), two input
    rows against four output rows at a time (eight sums from six loads)."""
    a = 0
    while a + 2 <= na:
        x0, x1 = A[ia[a]], A[ia[a + 1]]
        k = 0
        while k + 4 <= nb:
            b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = np.float32(0.0)
            for d in range(x0.shape[0]):
                u, v = x0[d], x1[d]
                c0, c1, c2, c3 = b0[d], b1[d], b2[d], b3[d]
                s00 += u * c0
                s01 += u * c1
                s02 += u * c2
                s03 += u * c3
                s10 += v * c0
                s11 += v * c1
                s12 += v * c2
                s13 += v * c3
            S[a, k], S[a, k + 1], S[a, k + 2], S[a, k + 3] = s00, s01, s02, s03
            S[a + 1, k], S[a + 1, k + 1], S[a + 1, k + 2], S[a + 1, k + 3] = s10, s11, s12, s13
            k += 4
        while k < nb:
            row = B[k]
            s0 = s1 = np.float32(0.0)
            for d in range(x0.shape[0]):
                s0 += x0[d] * row[d]
                s1 += x1[d] * row[d]
            S[a, k], S[a + 1, k] = s0, s1
            k += 1
        a += 2
    if a < na:
        _scores_row(A[ia[a]], B, nb, S[a])


@njit(inline="always")
def _scores_row(
    x: np.ndarray, B: np.ndarray, nb: int, s: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``s[k] = x · B[k]`` for ``k < nb``, four at a time."""
    k = 0
    while k + 4 <= nb:
        b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
        s0 = s1 = s2 = s3 = np.float32(0.0)
        for d in range(x.shape[0]):
            xd = x[d]
            s0 += xd * b0[d]
            s1 += xd * b1[d]
            s2 += xd * b2[d]
            s3 += xd * b3[d]
        s[k], s[k + 1], s[k + 2], s[k + 3] = s0, s1, s2, s3
        k += 4
    while k < nb:
        row = B[k]
        t = np.float32(0.0)
        for d in range(x.shape[0]):
            t += x[d] * row[d]
        s[k] = t
        k += 1


@njit(nogil=True, cache=True, fastmath=True)
def logistic(
    S: np.ndarray,
    na: int,
    nb: int,
    labels: np.ndarray,
    shared: bool,
    alpha: float,
    G: np.ndarray,
    with_loss: bool,
) -> float:  # pragma: no cover - compiled
    """``G[a, k] = α (y − σ(S[a, k]))`` and the summed loss ``−log σ(±S[a, k])`` (float64;
    0 if not ``with_loss``); ``y = labels[0 if shared else a, k]``, and ``y < 0`` masks the
    unit (``G = 0``, no loss)."""
    loss = 0.0
    for a in range(na):
        row = 0 if shared else a
        for k in range(nb):
            y = labels[row, k]
            if y < 0.0:
                G[a, k] = 0.0
                continue
            f = float(S[a, k])
            p, log_p = sigmoid_and_log(f)
            G[a, k] = np.float32((y - p) * alpha)
            if with_loss:  # -log σ(f) for y = 1, -log σ(-f) = f - log σ(f) for y = 0
                loss -= log_p if y > 0.5 else log_p - f
    return loss


@njit(nogil=True, cache=True, fastmath=True)
def add_left(
    A: np.ndarray, ia: np.ndarray, na: int, G: np.ndarray, B: np.ndarray, k0: int, k1: int
) -> None:  # pragma: no cover - compiled
    """``A[ia[a]] += Σ_{k0 ≤ k < k1} G[a, k] B[k]`` for ``a < na``."""
    a = 0
    while a + 2 <= na:  # two rows at a time: each B row loaded once for both
        y0, y1 = A[ia[a]], A[ia[a + 1]]
        k = k0
        while k + 4 <= k1:
            b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
            g00, g01, g02, g03 = G[a, k], G[a, k + 1], G[a, k + 2], G[a, k + 3]
            g10, g11, g12, g13 = G[a + 1, k], G[a + 1, k + 1], G[a + 1, k + 2], G[a + 1, k + 3]
            for d in range(y0.shape[0]):
                c0, c1, c2, c3 = b0[d], b1[d], b2[d], b3[d]
                y0[d] += g00 * c0 + g01 * c1 + g02 * c2 + g03 * c3
                y1[d] += g10 * c0 + g11 * c1 + g12 * c2 + g13 * c3
            k += 4
        while k < k1:
            row, g0, g1 = B[k], G[a, k], G[a + 1, k]
            for d in range(y0.shape[0]):
                y0[d] += g0 * row[d]
                y1[d] += g1 * row[d]
            k += 1
        a += 2
    if a < na:
        _add_rows(A[ia[a]], G[a, :], 1, B, k0, k1, ia)  # (ia unused: B's rows are k)


@njit(nogil=True, cache=True, fastmath=True)
def add_right(
    M: np.ndarray, rows: np.ndarray, k0: int, k1: int, G: np.ndarray,
    A: np.ndarray, ia: np.ndarray, na: int,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """``M[rows[k]] += Σ_{a < na} G[a, k] A[ia[a]]`` for ``k0 ≤ k < k1``."""
    k = k0
    while k + 2 <= k1:  # two rows at a time: each input row loaded once for both
        y0, y1 = M[rows[k]], M[rows[k + 1]]
        a = 0
        while a + 4 <= na:
            x0, x1, x2, x3 = A[ia[a]], A[ia[a + 1]], A[ia[a + 2]], A[ia[a + 3]]
            g00, g01, g02, g03 = G[a, k], G[a + 1, k], G[a + 2, k], G[a + 3, k]
            g10, g11, g12, g13 = G[a, k + 1], G[a + 1, k + 1], G[a + 2, k + 1], G[a + 3, k + 1]
            for d in range(y0.shape[0]):
                c0, c1, c2, c3 = x0[d], x1[d], x2[d], x3[d]
                y0[d] += g00 * c0 + g01 * c1 + g02 * c2 + g03 * c3
                y1[d] += g10 * c0 + g11 * c1 + g12 * c2 + g13 * c3
            a += 4
        while a < na:
            x, g0, g1 = A[ia[a]], G[a, k], G[a, k + 1]
            for d in range(y0.shape[0]):
                y0[d] += g0 * x[d]
                y1[d] += g1 * x[d]
            a += 1
        k += 2
    if k < k1:
        _add_rows(M[rows[k]], G[:, k], 0, A, 0, na, ia)


@njit(inline="always")
def _add_rows(
    y: np.ndarray, g: np.ndarray, direct: int, X: np.ndarray, j0: int, j1: int,
    ix: np.ndarray,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """``y += Σ_{j0 ≤ j < j1} g[j] X[r_j]``, ``r_j = j`` if ``direct`` else ``ix[j]``:
    four rows at a time (one store of ``y`` per four multiply-adds), then two, then one."""
    j = j0
    while j + 4 <= j1:
        g0, g1, g2, g3 = g[j], g[j + 1], g[j + 2], g[j + 3]
        if direct:
            x0, x1, x2, x3 = X[j], X[j + 1], X[j + 2], X[j + 3]
        else:
            x0, x1, x2, x3 = X[ix[j]], X[ix[j + 1]], X[ix[j + 2]], X[ix[j + 3]]
        for d in range(y.shape[0]):
            y[d] += g0 * x0[d] + g1 * x1[d] + g2 * x2[d] + g3 * x3[d]
        j += 4
    if j + 2 <= j1:
        g0, g1 = g[j], g[j + 1]
        x0, x1 = (X[j], X[j + 1]) if direct else (X[ix[j]], X[ix[j + 1]])
        for d in range(y.shape[0]):
            y[d] += g0 * x0[d] + g1 * x1[d]
        j += 2
    if j < j1:
        g0 = g[j]
        x0 = X[j] if direct else X[ix[j]]
        for d in range(y.shape[0]):
            y[d] += g0 * x0[d]


@njit(inline="always")
def gather(M: np.ndarray, row: int, B: np.ndarray, k: int) -> None:  # pragma: no cover - compiled
    """``B[k] = M[row]`` (the copy of an output vector before the update)."""
    src, dst = M[row], B[k]
    for d in range(M.shape[1]):
        dst[d] = src[d]
