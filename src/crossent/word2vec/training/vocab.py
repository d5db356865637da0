"""The vocabulary: words by decreasing count, and the tables training needs from the counts.

- subsampling (word2vec.c): keep word ``w`` with probability
  :math:`(\\sqrt{f_w/(sT)} + 1)\\,sT/f_w` (capped at 1), ``f_w`` its count, ``T`` the total;
- negative sampling: Walker's alias table of ``count^0.75`` (one draw in O(1));
- hierarchical softmax: word2vec.c's Huffman tree (codes from the root, inner-node ids),
  equal counts merged in a fixed pseudo-random order, not in vocabulary order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numba import njit


@dataclass
class Vocabulary:
    """Words sorted by decreasing count (ties: first seen first), with their counts."""

    words: list[str]
    counts: np.ndarray  # int64 [V]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(
        cls, counts: Counter[str], *, min_count: int = 5, max_size: int | None = None
    ) -> Vocabulary:
        """Words with at least ``min_count`` occurrences, the ``max_size`` most frequent."""
        kept = [(w, c) for w, c in counts.items() if c >= min_count]
        kept.sort(key=lambda wc: -wc[1])  # stable: ties keep first-seen order
        if max_size is not None:
            kept = kept[:max_size]
        return cls([w for w, _ in kept], np.asarray([c for _, c in kept], dtype=np.int64))

    def keep_probabilities(self, sample: float) -> np.ndarray:
        """Per-word probability of keeping an occurrence under subsampling (float32 [V])."""
        if sample <= 0 or len(self) == 0:
            return np.ones(len(self), dtype=np.float32)
        threshold = sample * float(self.counts.sum())
        f = self.counts.astype(np.float64)
        keep = (np.sqrt(f / threshold) + 1.0) * threshold / f
        return np.minimum(keep, 1.0).astype(np.float32)

    def alias_table(self, power: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
        """Walker/Vose alias table of the unigram distribution ``count^power``.

        Draw: column ``k`` uniform in [0, V); keep ``k`` with probability ``prob[k]``,
        else take ``alias[k]``. Returns ``prob`` (float32 [V]) and ``alias`` (int32 [V]).
        """
        weights = self.counts.astype(np.float64) ** power
        return _alias(weights / weights.sum() * len(weights))

    def huffman(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Codes ``int8 [V, L]``, points ``int32 [V, L]`` (inner nodes 0..V-2, root first)
        and code lengths ``int32 [V]`` of word2vec.c's Huffman tree over the counts.

        Words of equal count enter the tree in a fixed pseudo-random order
        (:data:`TIE_SEED`), not in vocabulary order: ties keep first-seen order, so in
        vocabulary order the equal-count words of one passage would become siblings and
        cousins in the tree (a repeated corpus, whose counts are all multiples of the
        number of copies, makes thousands of such ties). Skip-gram's hierarchical softmax
        then reaches the same loss but its vectors lose much of their similarity structure
        (WordSim-353 at 5M words: mean 0.14 in vocabulary order, 0.15–0.31 over five tie
        orders; ``benchmarks/RESULTS.md``). Without ties the tree is word2vec.c's exactly;
        with ties it is still an optimal prefix code."""
        if len(self) < 2:
            raise ValueError(f"hierarchical softmax needs at least 2 words, got {len(self)}")
        order = huffman_order(self.counts)
        codes, points, lengths = _huffman(self.counts[order])
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return codes[back], points[back], lengths[back]


TIE_SEED = 0x5EED_7EE
"""Seed of the order in which :meth:`Vocabulary.huffman` merges words of equal count."""


def huffman_order(counts: np.ndarray) -> np.ndarray:
    """The words (int64 ``[V]``) by decreasing count, equal counts in a pseudo-random
    order fixed by ``V`` (:data:`TIE_SEED`): the leaves of :meth:`Vocabulary.huffman`."""
    shuffle = np.random.default_rng(TIE_SEED).random(size=len(counts))
    return np.lexsort((shuffle, -np.asarray(counts, dtype=np.int64))).astype(np.int64)


@njit(cache=True)
def _huffman(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    v = counts.shape[0]
    count = np.empty(2 * v, dtype=np.int64)
    count[:v] = counts
    count[v:] = np.iinfo(np.int64).max // 4
    parent = np.zeros(2 * v, dtype=np.int64)
    binary = np.zeros(2 * v, dtype=np.int8)
    pos1, pos2 = v - 1, v
    for a in range(v - 1):  # merge the two smallest: leaves from the end, inner nodes in order
        picks = np.empty(2, dtype=np.int64)
        for k in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                picks[k] = pos1
                pos1 -= 1
            else:
                picks[k] = pos2
                pos2 += 1
        count[v + a] = count[picks[0]] + count[picks[1]]
        parent[picks[0]] = v + a
        parent[picks[1]] = v + a
        binary[picks[1]] = 1
    lengths = np.zeros(v, dtype=np.int32)
    for w in range(v):
        b, n = w, 0
        while b != 2 * v - 2:
            n += 1
            b = parent[b]
        lengths[w] = n
    depth = lengths.max()
    codes = np.zeros((v, depth), dtype=np.int8)
    points = np.zeros((v, depth), dtype=np.int32)
    for w in range(v):
        b, n = w, lengths[w]
        i = n - 1
        while b != 2 * v - 2:  # walk up, filling from the end: root first in the arrays
            codes[w, i] = binary[b]
            points[w, i] = parent[b] - v
            b = parent[b]
            i -= 1
    return codes, points, lengths


@njit(cache=True)
def _alias(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Vose's algorithm on probabilities scaled to mean 1."""
    v = scaled.shape[0]
    prob = np.ones(v, dtype=np.float64)
    alias = np.arange(v).astype(np.int32)
    rest = scaled.copy()
    small = np.empty(v, dtype=np.int64)
    large = np.empty(v, dtype=np.int64)
    ns = nl = 0
    for i in range(v):
        if rest[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s] = rest[s]
        alias[s] = g
        rest[g] = rest[g] + rest[s] - 1.0
        if rest[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    return prob.astype(np.float32), alias
