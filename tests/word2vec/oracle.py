"""A plain-Python, float64 re-implementation of the training kernel: the slow oracle.

It follows the same sequence of random numbers (word2vec.c's LCG) and updates as
``crossent.word2vec._kernels.train_job``, with the exact logistic function.
"""

from __future__ import annotations

import math

import numpy as np

MASK = 2**64 - 1


class LCG:
    def __init__(self, seed: int) -> None:
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state * 25214903917 + 11) & MASK
        return self.state


def softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


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


def train_job_reference(
    syn0: np.ndarray,
    syn1: np.ndarray,
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
) -> tuple[float, int, int]:
    """Updates ``syn0`` and ``syn1`` (float64 arrays) in place; returns (loss, pairs, words)."""
    rng = LCG(seed)
    total = int(offsets[-1] - offsets[0])
    done, loss, pairs = 0, 0.0, 0
    vocab = len(neg_prob)
    for s in range(len(offsets) - 1):
        sent = []
        for k in range(offsets[s], offsets[s + 1]):
            w = int(words[k])
            if keep[w] < 1.0:
                r = ((rng.next() >> 16) & 0xFFFF) / 65536.0
                if float(keep[w]) < r:
                    continue
            sent.append(w)
        done += int(offsets[s + 1] - offsets[s])
        alpha = alpha0 + (alpha1 - alpha0) * done / max(total, 1)
        for i, c in enumerate(sent):
            b = rng.next() % window
            for j in range(max(0, i - window + b), min(len(sent), i + window - b + 1)):
                if j == i:
                    continue
                o = sent[j]
                if hs:
                    units = [(int(points[o, q]), 1.0 - codes[o, q]) for q in range(lengths[o])]
                else:
                    units = [(o, 1.0)]
                    for _ in range(negative):
                        x = rng.next()
                        col = ((x >> 32) * vocab) >> 32
                        if ((x >> 16) & 0xFFFF) >= float(neg_prob[col]) * 65536.0:
                            col = int(neg_alias[col])
                        if col != o:
                            units.append((col, 0.0))
                neu1e = np.zeros(syn0.shape[1])
                for node, label in units:
                    f = float(syn0[c] @ syn1[node])
                    g = (label - 1.0 / (1.0 + math.exp(-f))) * alpha
                    neu1e += g * syn1[node]
                    syn1[node] += g * syn0[c]
                    loss += softplus(-f) if label > 0.5 else softplus(f)
                syn0[c] += neu1e
                pairs += 1
    return loss, pairs, done
