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
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossent.word2vec.training.sampling import sigmoid_and_log


@njit(nogil=True, cache=True, fastmath=True)
def scores(
    A: np.ndarray, ia: np.ndarray, na: int, B: np.ndarray, nb: int, S: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``S[a, k] = A[ia[a]] · B[k]`` for ``a < na``, ``k < nb`` (float32 sums)."""
    dim = A.shape[1]
    for a in range(na):
        x = A[ia[a]]
        k = 0
        while k + 4 <= nb:
            b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
            s0 = s1 = s2 = s3 = np.float32(0.0)
            for d in range(dim):
                xd = x[d]
                s0 += xd * b0[d]
                s1 += xd * b1[d]
                s2 += xd * b2[d]
                s3 += xd * b3[d]
            S[a, k], S[a, k + 1], S[a, k + 2], S[a, k + 3] = s0, s1, s2, s3
            k += 4
        while k < nb:
            row = B[k]
            s = np.float32(0.0)
            for d in range(dim):
                s += x[d] * row[d]
            S[a, k] = s
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
    dim = A.shape[1]
    for a in range(na):
        y = A[ia[a]]
        k = k0
        while k + 4 <= k1:
            g0, g1, g2, g3 = G[a, k], G[a, k + 1], G[a, k + 2], G[a, k + 3]
            b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
            for d in range(dim):
                y[d] += g0 * b0[d] + g1 * b1[d] + g2 * b2[d] + g3 * b3[d]
            k += 4
        while k < k1:
            g, row = G[a, k], B[k]
            for d in range(dim):
                y[d] += g * row[d]
            k += 1


@njit(nogil=True, cache=True, fastmath=True)
def add_right(
    M: np.ndarray, rows: np.ndarray, k0: int, k1: int, G: np.ndarray,
    A: np.ndarray, ia: np.ndarray, na: int,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """``M[rows[k]] += Σ_{a < na} G[a, k] A[ia[a]]`` for ``k0 ≤ k < k1``."""
    dim = M.shape[1]
    for k in range(k0, k1):
        y = M[rows[k]]
        a = 0
        while a + 4 <= na:
            g0, g1, g2, g3 = G[a, k], G[a + 1, k], G[a + 2, k], G[a + 3, k]
            x0, x1, x2, x3 = A[ia[a]], A[ia[a + 1]], A[ia[a + 2]], A[ia[a + 3]]
            for d in range(dim):
                y[d] += g0 * x0[d] + g1 * x1[d] + g2 * x2[d] + g3 * x3[d]
            a += 4
        while a < na:
            g, x = G[a, k], A[ia[a]]
            for d in range(dim):
                y[d] += g * x[d]
            a += 1


@njit(inline="always")
def gather(
    M: np.ndarray, row: int, B: np.ndarray, k: int
) -> None:  # pragma: no cover - compiled
    """``B[k] = M[row]`` (the copy of an output vector before the update)."""
    src, dst = M[row], B[k]
    for d in range(M.shape[1]):
        dst[d] = src[d]
