"""Plain-Python, float64 re-implementations of the training kernels: the slow oracles.

They follow the same sequence of random numbers (word2vec.c's LCG) and the same batched
updates as ``crossent.word2vec.training.kernels.train_job`` / ``cbow_job``, written as
whole-matrix NumPy products with the exact logistic function.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MASK = 2**64 - 1


class LCG:
    def __init__(self, seed: int) -> None:
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state * 25214903917 + 11) & MASK
        return self.state


def job_windows_reference(
    words: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    window: int,
    seed: int,
    dynamic: bool,
) -> list[tuple[int, list[int]]]:
    """The windows ``(centre, contexts)`` of a job, centres without a context left out,
    with the random stream of ``train_job`` for ``negative=0`` (subsampling, then the
    shrink ``b`` of each kept centre's window)."""
    rng = LCG(seed)
    out: list[tuple[int, list[int]]] = []
    for s in range(len(offsets) - 1):
        sent = []
        for k in range(offsets[s], offsets[s + 1]):
            w = int(words[k])
            if keep[w] < 1.0 and float(keep[w]) < ((rng.next() >> 16) & 0xFFFF) / 65536.0:
                continue
            sent.append(w)
        for i, c in enumerate(sent):
            b = rng.next() % window if dynamic else 0
            lo, hi = max(0, i - window + b), min(len(sent), i + window - b + 1)
            contexts = [sent[j] for j in range(lo, hi) if j != i]
            if contexts:
                out.append((c, contexts))
    return out


def softmax_step_reference(
    syn0: np.ndarray, syn1: np.ndarray, pairs: list[tuple[int, int]], alpha: float
) -> float:
    """One SGD step of the seed's loss summed over ``pairs`` (float64, in place): for each
    pair ``J = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c)``, ``∂J/∂v_c = Σ_w p_w u_w − u_o``,
    ``∂J/∂u_w = (p_w − [w = o]) v_c``, every gradient taken at the weights before the step.
    Returns the summed loss."""
    g0, g1, loss = np.zeros_like(syn0), np.zeros_like(syn1), 0.0
    for c, o in pairs:
        z = syn1 @ syn0[c]  # [V]
        m = z.max()
        lse = m + math.log(np.exp(z - m).sum())
        p = np.exp(z - lse)
        loss += lse - z[o]
        e = p.copy()
        e[o] -= 1.0
        g0[c] += e @ syn1
        g1 += np.outer(e, syn0[c])
    syn0 -= alpha * g0
    syn1 -= alpha * g1
    return loss


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _block(
    x: np.ndarray, units: list[tuple[str, int, float]], out: dict[str, np.ndarray],
    alpha: float, mask: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """Inputs ``x [m, D]`` (copies) against ``units`` (matrix, row, label), ``mask [m, n]``
    (False: unit not in the block for that input): updates the unit rows by ``Gᵀ x`` from
    the values before the step; returns (loss, the inputs' gradient step ``G U [m, D]``)."""
    u = np.stack([out[matrix][row] for matrix, row, _ in units])  # copies, [n, D]
    y = np.array([label for _, _, label in units])
    s = x @ u.T
    keep = np.ones_like(s, dtype=bool) if mask is None else mask
    g = np.where(keep, (y - sigmoid(s)) * alpha, 0.0)
    loss = float(np.where(keep, np.logaddexp(0.0, np.where(y > 0.5, -s, s)), 0.0).sum())
    for k, (matrix, row, _) in enumerate(units):
        out[matrix][row] += g[:, k] @ x
    return loss, g @ u


def train_job_reference(
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
    *tables_and_shrink: Any,
) -> tuple[float, int, int]:
    """Skip-gram in float64 (``tables_and_shrink``: neg_prob, neg_alias, codes, points,
    lengths, shrink, with_loss (ignored: the loss is always returned)); updates the arrays in place; returns (loss, pairs, words). Per
    window: the context vectors ``X [m, D]`` against the centre's units ``U [n, D]`` (its
    path, itself and one draw of negatives), ``G = α (y − σ(X Uᵀ))``, ``U += Gᵀ X``,
    ``X += G U``, both from the values before the window."""
    *tables, shrink, _ = tables_and_shrink
    rng = LCG(seed)
    total = int(offsets[-1] - offsets[0])
    done, loss, pairs = 0, 0.0, 0
    out = {"hs": syn1, "ns": syn1neg}
    for s in range(len(offsets) - 1):
        sent = _subsampled(words, offsets[s], offsets[s + 1], keep, rng)
        done += int(offsets[s + 1] - offsets[s])
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total, 1)
        for i, c in enumerate(sent):
            b = rng.next() % window if shrink else 0
            lo, hi = max(0, i - window + b), min(len(sent), i + window - b + 1)
            context = [sent[j] for j in range(lo, hi) if j != i]
            if not context:
                continue
            units = _units(c, rng, hs, negative, tuple(tables))
            step_loss, step = _block(syn0[context], units, out, alpha)
            for a, w in enumerate(context):
                syn0[w] += step[a]
            loss += step_loss
            pairs += len(context)
    return loss, pairs, done


def _subsampled(words: np.ndarray, start: int, end: int, keep: np.ndarray, rng: LCG) -> list[int]:
    sent = []
    for k in range(start, end):
        w = int(words[k])
        if keep[w] < 1.0:
            r = ((rng.next() >> 16) & 0xFFFF) / 65536.0
            if float(keep[w]) < r:
                continue
        sent.append(w)
    return sent


def _units(
    target: int, rng: LCG, hs: bool, negative: int, tables: tuple[np.ndarray, ...]
) -> list[tuple[str, int, float]]:
    """(matrix, row, label) of the logistic units predicting ``target``: hs path, then ns."""
    neg_prob, neg_alias, codes, points, lengths = tables
    units = []
    if hs:
        units += [
            ("hs", int(points[target, q]), 1.0 - codes[target, q]) for q in range(lengths[target])
        ]
    if negative > 0:
        units.append(("ns", target, 1.0))
        for _ in range(negative):
            col = _draw(rng, neg_prob, neg_alias)
            if col != target:
                units.append(("ns", col, 0.0))
    return units


def _draw(rng: LCG, neg_prob: np.ndarray, neg_alias: np.ndarray) -> int:
    """One negative from the alias table: high 32 bits pick the column, bits 16..31 toss."""
    x = rng.next()
    col = ((x >> 32) * len(neg_prob)) >> 32
    if ((x >> 16) & 0xFFFF) >= float(neg_prob[col]) * 65536.0:
        col = int(neg_alias[col])
    return int(col)


def cbow_job_reference(
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
    *tables_and_flags: Any,
) -> tuple[float, int, int]:
    """Batched CBOW in float64, blocks in the kernel's stride order (``tables_and_flags``:
    neg_prob, neg_alias, codes, points, lengths, cbow_mean, shrink, with_loss (ignored),
    batch); updates the arrays in place."""
    tables, (cbow_mean, shrink, _, batch) = tables_and_flags[:5], tables_and_flags[5:]
    rng = LCG(seed)
    total = int(offsets[-1] - offsets[0])
    done, loss, examples = 0, 0.0, 0
    out = {"hs": syn1, "ns": syn1neg}
    for s in range(len(offsets) - 1):
        sent = _subsampled(words, offsets[s], offsets[s + 1], keep, rng)
        done += int(offsets[s + 1] - offsets[s])
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total, 1)
        block: list[tuple[int, list[int]]] = []
        stride = 2 * window + 1 if batch > 1 else 1
        order = [i for o in range(stride) for i in range(o, len(sent), stride)]
        for k, i in enumerate(order):  # blocks of centres whose windows do not overlap
            b = rng.next() % window if shrink else 0
            lo, hi = max(0, i - window + b), min(len(sent), i + window - b + 1)
            context = [sent[j] for j in range(lo, hi) if j != i]
            if context:
                block.append((sent[i], context))
            if len(block) == batch or (k == len(order) - 1 and block):
                loss += _cbow_block(syn0, out, block, rng, hs, negative, tables, cbow_mean, alpha)
                examples += len(block)
                block = []
    return loss, examples, done


def _cbow_block(
    syn0: np.ndarray, out: dict[str, np.ndarray], block: list[tuple[int, list[int]]],
    rng: LCG, hs: bool, negative: int, tables: tuple[Any, ...], cbow_mean: bool,
    alpha: float,
) -> float:  # fmt: skip
    """One block of centres: hidden vectors from the weights at its start, shared
    negatives (masked where equal to a centre's word), then each centre's own units in
    order; the context rows get their centre's error last."""
    h = np.stack([syn0[ctx].sum(0) / (len(ctx) if cbow_mean else 1) for _, ctx in block])
    err = np.zeros_like(h)
    loss = 0.0
    if negative > 0:
        negs = [_draw(rng, tables[0], tables[1]) for _ in range(negative)]
        mask = np.array([[n != centre for n in negs] for centre, _ in block])
        part, err = _block(h, [("ns", n, 0.0) for n in negs], out, alpha, mask)
        loss += part
    for b, (centre, _) in enumerate(block):
        units = _units(centre, rng, hs, 0, tables)
        if negative > 0:
            units.append(("ns", centre, 1.0))
        part, step = _block(h[b : b + 1], units, out, alpha)
        loss += part
        err[b] += step[0]
    for b, (_, ctx) in enumerate(block):
        for w in ctx:
            syn0[w] += err[b]
    return loss


def cbow_softmax_reference(
    syn0: np.ndarray,
    syn1: np.ndarray,
    examples: tuple[np.ndarray, np.ndarray, np.ndarray],
    cbow_mean: bool,
    batch: int,
    alpha0: float,
    alpha1: float,
) -> float:
    """CBOW full-softmax SGD in float64 with explicit V-wide logits; returns the loss sum."""
    centres, starts, contexts = examples
    n, loss = len(centres), 0.0
    for b0 in range(0, n, batch):
        b1 = min(b0 + batch, n)
        alpha = alpha0 + (alpha1 - alpha0) * b0 / max(n, 1)
        ctx = [contexts[starts[k] : starts[k + 1]] for k in range(b0, b1)]
        h = np.stack([syn0[c].sum(0) / (len(c) if cbow_mean else 1) for c in ctx])
        logits = h @ syn1.T
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        rows = np.arange(b1 - b0)
        loss += float(-np.log(p[rows, centres[b0:b1]]).sum())
        p[rows, centres[b0:b1]] -= 1.0  # d loss / d logits
        g_h, g_w = p @ syn1, p.T @ h
        for k, c in enumerate(ctx):
            for w in c:
                syn0[w] -= alpha * g_h[k]
        syn1 -= alpha * g_w
    return loss
