"""The Huffman tree of hierarchical softmax against two plain-Python constructions: a
binary heap keyed on the count alone (Python's ``heapq``, as gensim builds its tree) and,
where no two nodes tie, word2vec.c's two-queue CreateBinaryTree; and against gensim's own
tree on a corpus with ties."""

from __future__ import annotations

import heapq
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from crossent.word2vec.training.vocab import Vocabulary, huffman_order
from crossent.word2vec.training.vocabfile import read_vocab

Tree = tuple[list[list[int]], list[list[int]]]


def word2vec_c_tree(counts: list[int]) -> tuple[Tree, list[int]]:
    """word2vec.c's CreateBinaryTree on counts in non-increasing order: merge the two
    smallest, leaves taken from the end, an inner node preferred on a tie; codes and
    points (inner nodes ``0..V-2``) from the root down, and the counts of all nodes."""
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
    return _walk(parent, binary, v), count[: 2 * v - 1]


class _Node:
    """A heap entry ordered by its count alone, as gensim's heap items are."""

    def __init__(self, count: int, node: int) -> None:
        self.count, self.node = count, node

    def __lt__(self, other: _Node) -> bool:
        return self.count < other.count


def heap_tree(counts: list[int]) -> Tree:
    """Python's ``heapq`` over leaves ``0..V-1`` (heap positions = list order): pop the
    two smallest, the first popped gets code 0, the ``k``-th merge is inner node ``k``."""
    v = len(counts)
    heap = [_Node(c, i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent, binary = [0] * (2 * v), [0] * (2 * v)
    for k in range(v - 1):
        first, second = heapq.heappop(heap), heapq.heappop(heap)
        parent[first.node] = parent[second.node] = v + k
        binary[second.node] = 1
        heapq.heappush(heap, _Node(first.count + second.count, v + k))
    return _walk(parent, binary, v)


def _walk(parent: list[int], binary: list[int], v: int) -> Tree:
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
    return Vocabulary([f"w{i}" for i in range(len(counts))], np.asarray(counts, np.int64))


def test_without_ties_the_tree_is_word2vec_c_tree() -> None:
    rng = np.random.default_rng(5)
    counts = np.sort(rng.choice(10**12, size=300, replace=False) + 1)[::-1]
    tree, nodes = word2vec_c_tree(counts.tolist())
    assert len(set(nodes)) == len(nodes)  # no two nodes ever tie
    assert _paths(_vocab(counts)) == tree


@pytest.mark.parametrize(
    "counts",
    [
        np.sort(np.random.default_rng(6).zipf(1.6, size=400))[::-1] * 11,  # mostly ties
        np.full(64, 7),
        np.full(37, 3),
        np.array([5, 5]),
        np.array([9, 2]),
        np.array([4, 4, 4]),
        np.array([8, 4, 2, 2, 2, 2, 1, 1, 1, 1]),
    ],
    ids=["zipf-x11", "equal-64", "equal-37", "two-equal", "two", "three-equal", "halves"],
)
def test_tree_is_the_count_keyed_heap_tree(counts: np.ndarray) -> None:
    """Leaves by decreasing count, equal counts in reverse vocabulary order, into a heap
    that compares counts only: the tree is Python's heapq's, node for node."""
    v = len(counts)
    leaves = sorted(range(v), key=lambda i: (-int(counts[i]), -i))
    assert huffman_order(counts).tolist() == leaves
    codes, points = heap_tree([int(counts[i]) for i in leaves])
    expected: Tree = ([[]] * v, [[]] * v)
    for position, w in enumerate(leaves):
        expected[0][w], expected[1][w] = codes[position], points[position]
    assert _paths(_vocab(counts)) == expected


def test_ties_differ_from_word2vec_c_tree() -> None:
    """With ties the heap mixes equal-count leaves and inner nodes; word2vec.c takes the
    inner node first. Both are optimal prefix codes, but not the same tree."""
    counts = np.sort(np.random.default_rng(7).zipf(1.6, size=300))[::-1] * 11
    ours = _paths(_vocab(counts))
    order = huffman_order(counts).tolist()
    tree, _ = word2vec_c_tree([int(counts[i]) for i in order])
    assert [ours[0][w] for w in order] != tree[0]
    lengths = np.array([len(c) for c in ours[0]])
    assert (lengths * counts).sum() == sum(
        len(c) * counts[w] for w, c in zip(order, tree[0], strict=True)
    )


def test_same_tree_as_gensim(tmp_path: Path) -> None:
    """On a corpus with many equal counts, gensim 4's tree (its codes and inner-node ids
    per word) is ours, word for word; so is the tree of the vocabulary file it writes."""
    gensim_models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(8)
    words = [f"t{i}" for i in range(300)]
    base = [list(rng.choice(words, size=20, p=_zipf(300))) for _ in range(40)]
    sentences = [[str(w) for w in s] for s in base * 3]  # every count a multiple of 3
    theirs = gensim_models.Word2Vec(vector_size=4, min_count=1, hs=1, negative=0, sample=0)
    theirs.build_vocab(sentences)
    vocab = Vocabulary.build(Counter(w for s in sentences for w in s), min_count=1)
    assert len(vocab) == len(theirs.wv) and len(set(vocab.counts.tolist())) < len(vocab) // 4
    theirs.wv.save_word2vec_format(tmp_path / "vectors.txt", fvocab=tmp_path / "vocab.txt")
    from_file = Vocabulary.build(read_vocab(tmp_path / "vocab.txt"), min_count=1)
    for ours in (vocab, from_file):
        codes, points = _paths(ours)
        for i, word in enumerate(ours.words):
            assert codes[i] == theirs.wv.get_vecattr(word, "code").tolist(), word
            assert points[i] == theirs.wv.get_vecattr(word, "point").tolist(), word


def _zipf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1)
    return p / p.sum()
