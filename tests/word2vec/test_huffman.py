"""The Huffman tree of hierarchical softmax against a plain-Python word2vec.c tree, and
how it orders words of equal count."""

from __future__ import annotations

import numpy as np
import pytest

from crossent.word2vec.training.vocab import Vocabulary, huffman_order

Tree = tuple[list[list[int]], list[list[int]]]


def word2vec_c_tree(counts: list[int]) -> Tree:
    """word2vec.c's CreateBinaryTree on counts in non-increasing order: merge the two
    smallest, leaves taken from the end, an inner node preferred on a tie; codes and
    points (inner nodes ``0..V-2``) from the root down."""
    v = len(counts)
    count = [*counts, *([1 << 62] * v)]
    parent, binary = [0] * (2 * v), [0] * (2 * v)
    pos1, pos2 = v - 1, v
    for a in range(v - 1):
        picks = []
        for _ in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                picks.append(pos1)
                pos1 -= 1
            else:
                picks.append(pos2)
                pos2 += 1
        count[v + a] = count[picks[0]] + count[picks[1]]
        parent[picks[0]] = parent[picks[1]] = v + a
        binary[picks[1]] = 1
    codes, points = [], []
    for w in range(v):
        code, point, b = [], [], w
        while b != 2 * v - 2:
            code.insert(0, binary[b])
            point.insert(0, parent[b] - v)
            b = parent[b]
        codes.append(code)
        points.append(point)
    return codes, points


def _paths(vocab: Vocabulary) -> Tree:
    codes, points, lengths = vocab.huffman()
    n = lengths.tolist()
    return (
        [codes[w, : n[w]].tolist() for w in range(len(vocab))],
        [points[w, : n[w]].tolist() for w in range(len(vocab))],
    )


def _vocab(counts: np.ndarray) -> Vocabulary:
    return Vocabulary([f"w{i}" for i in range(len(counts))], counts.astype(np.int64))


def test_distinct_counts_give_word2vec_c_tree() -> None:
    rng = np.random.default_rng(5)
    counts = np.sort(rng.choice(100_000, size=300, replace=False) + 1)[::-1]
    assert _paths(_vocab(counts)) == word2vec_c_tree(counts.tolist())


@pytest.mark.parametrize("copies", [1, 11])
def test_ties_enter_the_tree_in_the_fixed_shuffled_order(copies: int) -> None:
    """The tree is word2vec.c's over the leaves in ``huffman_order``: within a count, a
    permutation of the vocabulary order, the same on every call."""
    rng = np.random.default_rng(6)
    counts = np.sort(rng.zipf(1.6, size=400))[::-1] * copies  # mostly ties
    order = huffman_order(counts)
    assert sorted(order.tolist()) == list(range(400))
    assert (np.diff(counts[order]) <= 0).all()
    codes, points = word2vec_c_tree(counts[order].tolist())
    expected = ([[]] * 400, [[]] * 400)
    for leaf, w in enumerate(order.tolist()):
        expected[0][w], expected[1][w] = codes[leaf], points[leaf]
    assert _paths(_vocab(counts)) == expected
    assert _paths(_vocab(counts)) == _paths(_vocab(counts.copy()))  # deterministic


def test_equal_counts_are_not_siblings_in_vocabulary_order() -> None:
    """Ties keep first-seen order in the vocabulary, so the equal-count words of one
    passage are neighbours there; word2vec.c's tree over that order would pair every
    word with its neighbour (the WordSim-353 loss of skip-gram hs on a repeated corpus,
    benchmarks/RESULTS.md). Shuffled, few sibling leaves are vocabulary neighbours."""
    counts = np.concatenate([np.arange(1000, 900, -1), np.full(600, 11), np.full(300, 5)])
    _, points, lengths = _vocab(counts).huffman()
    last = {}
    neighbours = pairs = 0
    for w in range(len(counts)):
        key = (int(points[w, lengths[w] - 1]), int(lengths[w]))
        if key in last and counts[last[key]] == counts[w]:  # two tied leaves, one parent
            pairs += 1
            neighbours += abs(last[key] - w) == 1
        last[key] = w
    assert pairs > 300
    assert neighbours / pairs < 0.05  # vocabulary order: every pair of a tied run (1.0)
