"""The vocabulary: words by decreasing count, and the tables training needs from the counts.

- subsampling (word2vec.c): keep word ``w`` with probability
  :math:`(\\sqrt{f_w/(sT)} + 1)\\,sT/f_w` (capped at 1), ``f_w`` its count, ``T`` the total;
- negative sampling: Walker's alias table of ``count^0.75`` (one draw in O(1));
- hierarchical softmax: the Huffman tree (codes from the root, inner-node ids) built as
  gensim builds it, a heap keyed on the count alone, so equal counts merge as in gensim;
  without ties it is word2vec.c's tree.
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
        and code lengths ``int32 [V]`` of the Huffman tree over the counts.

        Built as gensim builds it: a binary min-heap keyed on the count alone repeatedly
        gives the two smallest nodes (the first popped gets code 0, inner node ``k`` is
        the ``k``-th merge), over the words by decreasing count with equal counts in
        reverse vocabulary order (gensim's vocabulary order: ours keeps ties first-seen,
        gensim's last-seen first). Equal counts then leave the heap in the order its
        layout gives them, leaves and inner nodes mixed, so on a corpus our vocabulary
        and gensim's agree on, the tree is gensim's exactly. When no two nodes compared
        ever tie, every such construction makes the same merges: the tree is word2vec.c's.

        Why gensim's tree: with ties the tree shape, not the loss it reaches, moves
        skip-gram's vectors, and no tie rule was found better in general. On the repeated
        WikiText-2 benchmark corpus (every count a multiple of the copies: thousands of
        ties), WordSim-353 of hierarchical softmax at 20M words, training seed 2, was
        0.13 with word2vec.c's two queues over a fixed shuffle of the ties, 0.16–0.26 with
        other tie orders, 0.21–0.23 with gensim's tree, 0.23 for gensim itself; at 5M
        words (5 training seeds) 0.20 vs 0.21 with gensim's tree, gensim 0.22
        (``benchmarks/RESULTS.md``, sixth session). Taking the peer's tree keeps this
        per-tree spread out of every comparison with gensim. A vocabulary read from a
        gensim vocabulary file (:mod:`.vocabfile`) gets gensim's tree too."""
        if len(self) < 2:
            raise ValueError(f"hierarchical softmax needs at least 2 words, got {len(self)}")
        order = huffman_order(self.counts)
        codes, points, lengths = _huffman(self.counts[order])
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return codes[back], points[back], lengths[back]


def huffman_order(counts: np.ndarray) -> np.ndarray:
    """The words (int64 ``[V]``) by decreasing count, equal counts in reverse vocabulary
    order: the leaves of :meth:`Vocabulary.huffman`, heap positions ``0..V-1``."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.lexsort((-np.arange(len(counts)), -counts)).astype(np.int64)


@njit(cache=True)
def _rise(heap: np.ndarray, count: np.ndarray, top: int, pos: int) -> None:  # pragma: no cover
    """Move ``heap[pos]`` up towards ``top`` while its count is below its parent's."""
    node = heap[pos]
    while pos > top:
        up = (pos - 1) // 2
        if count[node] >= count[heap[up]]:
            break
        heap[pos] = heap[up]
        pos = up
    heap[pos] = node


@njit(cache=True)
def _sink(heap: np.ndarray, size: int, count: np.ndarray, pos: int) -> None:  # pragma: no cover
    """Reheap below ``pos``: the hole goes down to the bottom along the smaller child (the
    right one when both are equal), then ``heap[pos]``'s node rises back from there."""
    node, top = heap[pos], pos
    child = 2 * pos + 1
    while child < size:
        if child + 1 < size and count[heap[child]] >= count[heap[child + 1]]:
            child += 1
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = node
    _rise(heap, count, top, pos)


@njit(cache=True)
def _pop(heap: np.ndarray, size: int, count: np.ndarray) -> int:  # pragma: no cover
    """Take the top of a heap of ``size`` nodes (the last node refills it)."""
    node: int = heap[0]
    if size > 1:
        heap[0] = heap[size - 1]
        _sink(heap, size - 1, count, 0)
    return node


@njit(cache=True)
def _merges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Parent (``V..2V-2``, inner node ``V+k`` the ``k``-th merge) and code bit of every
    node of the heap construction over ``counts`` (leaf ``i`` at heap position ``i``)."""
    v = counts.shape[0]
    count = np.zeros(2 * v, dtype=np.int64)
    count[:v] = counts
    heap = np.arange(v).astype(np.int64)
    for pos in range(v // 2 - 1, -1, -1):
        _sink(heap, v, count, pos)
    parent = np.zeros(2 * v, dtype=np.int64)
    binary = np.zeros(2 * v, dtype=np.int8)
    size = v
    for k in range(v - 1):
        first = _pop(heap, size, count)
        second = _pop(heap, size - 1, count)
        count[v + k] = count[first] + count[second]
        parent[first] = parent[second] = v + k
        binary[second] = 1
        heap[size - 2] = v + k
        _rise(heap, count, 0, size - 2)
        size -= 1
    return parent, binary


@njit(cache=True)
def _huffman(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Codes, points (root first) and lengths of the heap tree over ``counts``."""
    v = counts.shape[0]
    parent, binary = _merges(counts)
    root = 2 * v - 2
    lengths = np.zeros(v, dtype=np.int32)
    for w in range(v):
        b, n = w, 0
        while b != root:
            n += 1
            b = parent[b]
        lengths[w] = n
    depth = lengths.max()
    codes = np.zeros((v, depth), dtype=np.int8)
    points = np.zeros((v, depth), dtype=np.int32)
    for w in range(v):
        b, i = w, lengths[w] - 1
        while b != root:  # walk up, filling from the end: root first in the arrays
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
