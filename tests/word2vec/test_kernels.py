"""The numba kernels against the float64 Python oracle, and the vocabulary tables."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any

import numpy as np
import pytest

from crossent.word2vec.training import kernels
from crossent.word2vec.training.sampling import sigmoid_and_log
from crossent.word2vec.training.vocab import Vocabulary

from .oracle import cbow_job_reference, train_job_reference


def _corpus(rng: np.random.Generator, vocab: int, sentences: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = rng.integers(1, 12, size=sentences)
    zipf = rng.zipf(1.3, size=int(lengths.sum())) % vocab
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return zipf.astype(np.int32), offsets


def _problem(
    seed: int, sample: float, exponent: float = 0.75, vocab_size: int = 40
) -> tuple[tuple[Any, ...], tuple[Any, ...], list[np.ndarray]]:
    """A random job over ``vocab_size`` words sorted by count, its tables, and float32
    weights (syn0, syn1 of the tree, syn1neg) with non-trivial outputs."""
    rng = np.random.default_rng(seed)
    dim = 16
    words, offsets = _corpus(rng, vocab_size, 30 if vocab_size <= 40 else 120)
    counts = np.bincount(words, minlength=vocab_size) + 1
    order = np.argsort(-counts, kind="stable")
    vocab = Vocabulary([f"w{i}" for i in order], counts[order].astype(np.int64))
    words = np.argsort(order)[words].astype(np.int32)  # re-index by decreasing count
    data = (words, offsets, vocab.keep_probabilities(sample))
    tables = (*vocab.alias_table(exponent), *vocab.huffman())
    weights = [
        ((rng.random((vocab_size, dim)) - 0.5) / dim).astype(np.float32),
        (rng.normal(size=(vocab_size - 1, dim)) * 0.1).astype(np.float32),
        (rng.normal(size=(vocab_size, dim)) * 0.1).astype(np.float32),
    ]
    return data, tables, weights


def _run_both(kernel: Any, oracle: Any, weights: list[np.ndarray], args: tuple[Any, ...],
              hs: bool, negative: int) -> None:  # fmt: skip
    """The kernel on float32 weights and the oracle on float64 copies agree; exactly the
    output matrices in use (tree if ``hs``, syn1neg if ``negative``) have changed."""
    refs = [w.astype(np.float64) for w in weights]
    initial = [w.copy() for w in weights]
    loss, examples, done = kernel(*weights, *args)
    rloss, rexamples, rdone = oracle(*refs, *args)
    assert (examples, done) == (rexamples, rdone)
    assert examples > 50
    assert loss == pytest.approx(rloss, rel=1e-5)
    for w, r in zip(weights, refs, strict=True):
        np.testing.assert_allclose(w, r, rtol=1e-4, atol=1e-6)
    assert (not np.array_equal(weights[1], initial[1])) == hs
    assert (not np.array_equal(weights[2], initial[2])) == (negative > 0)


@pytest.mark.parametrize(
    ("hs", "negative", "shrink", "window", "sample"),
    [
        (False, 3, True, 3, 0.0),
        (True, 0, True, 2, 0.0),
        (False, 3, False, 5, 1e-2),
        (True, 0, True, 4, 1e-2),
        (True, 2, True, 3, 1e-2),  # word2vec.c's -hs 1 -negative 2: both summed
    ],
)
def test_train_job_matches_python_oracle(
    hs: bool, negative: int, shrink: bool, window: int, sample: float
) -> None:
    data, tables, weights = _problem(7, sample)
    args = (*data, window, 0.05, 0.01, 12345, hs, negative, *tables, shrink, True)
    _run_both(kernels.train_job, train_job_reference, weights, args, hs, negative)


@pytest.mark.parametrize("negative", [0, 2])
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_hierarchical_softmax_beyond_the_buffered_top_of_the_tree(
    model: str, negative: int
) -> None:
    """A tree of 299 inner nodes: the top HOT_NODES are buffered per job (.hotrows), the
    rest updated in place; both agree with the oracle, which updates every node in place."""
    from crossent.word2vec.training.hotrows import FLUSH_WINDOWS, HOT_NODES

    vocab_size = 300
    assert vocab_size - 1 > HOT_NODES
    data, tables, weights = _problem(11, 0.0, vocab_size=vocab_size)
    if model == "skipgram":
        args = (*data, 3, 0.05, 0.01, 4321, True, negative, *tables, True, True)
        _run_both(kernels.train_job, train_job_reference, weights, args, True, negative)
    else:
        args = (*data, 3, 0.05, 0.01, 4321, True, negative, *tables, True, True, True, 4)
        _run_both(kernels.cbow_job, cbow_job_reference, weights, args, True, negative)
    lengths = tables[4]
    assert int(lengths.sum()) > 4 * FLUSH_WINDOWS  # several flushes in the job


def test_huffman_paths_descend_from_the_root() -> None:
    """Node ids fall strictly along every path (a parent is made after its children), so
    the highest ids — the buffered top of the tree — are a prefix of every path."""
    rng = np.random.default_rng(3)
    counts = np.sort(rng.zipf(1.5, size=500))[::-1].astype(np.int64)
    vocab = Vocabulary([f"w{i}" for i in range(len(counts))], counts)
    _, points, lengths = vocab.huffman()
    for w in range(len(counts)):
        path = points[w, : lengths[w]]
        assert path[0] == len(counts) - 2  # the root
        assert np.all(np.diff(path) < 0)


@pytest.mark.parametrize(
    ("hs", "negative", "cbow_mean", "shrink", "window", "sample"),
    [
        (False, 3, True, True, 3, 0.0),
        (True, 0, True, True, 2, 0.0),
        (True, 2, True, False, 4, 1e-2),
        (False, 4, False, True, 5, 1e-2),
        (True, 3, False, False, 1, 0.0),
    ],
)
def test_cbow_job_matches_python_oracle(
    hs: bool, negative: int, cbow_mean: bool, shrink: bool, window: int, sample: float
) -> None:
    data, tables, weights = _problem(8, sample, exponent=0.6)
    args = (*data, window, 0.05, 0.01, 99, hs, negative, *tables, cbow_mean, shrink, True,
            kernels.CBOW_BATCH)  # fmt: skip
    _run_both(kernels.cbow_job, cbow_job_reference, weights, args, hs, negative)


@pytest.mark.parametrize(("batch", "hs", "negative"), [(1, True, 3), (3, False, 5), (64, True, 2)])
def test_cbow_blocks_of_any_size_match_the_oracle(batch: int, hs: bool, negative: int) -> None:
    """batch 1 is word2vec.c's CBOW; 64 puts whole sentences in one block."""
    data, tables, weights = _problem(9, 1e-2)
    args = (*data, 3, 0.05, 0.01, 5, hs, negative, *tables, True, True, True, batch)
    _run_both(kernels.cbow_job, cbow_job_reference, weights, args, hs, negative)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_loss_is_bookkeeping_only_and_runs_repeat_bit_for_bit(model: str) -> None:
    """Without the loss the weights are the same bits (it never feeds the update); the
    same seed gives the same bits again."""
    data, tables, weights = _problem(10, 1e-2)
    kernel = kernels.cbow_job if model == "cbow" else kernels.train_job
    flags = (True, True) if model == "cbow" else (True,)
    batch = (kernels.CBOW_BATCH,) if model == "cbow" else ()
    results = []
    for with_loss in (True, True, False):
        w = [x.copy() for x in weights]
        args = (*data, 4, 0.05, 0.01, 7, True, 3, *tables, *flags, with_loss, *batch)
        loss, n, _ = kernel(*w, *args)
        results.append((loss, n, w))
    (loss1, n1, w1), (loss2, n2, w2), (loss0, n0, w0) = results
    assert loss1 == loss2 > 0 and loss0 == 0.0 and n1 == n2 == n0 > 50
    for a, b, c in zip(w1, w2, w0, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_sigmoid_tables_are_exact_to_float32() -> None:
    x = np.linspace(-20, 20, 100_001)[::97]
    sig, logsig = np.array([sigmoid_and_log(v) for v in x]).T
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(logsig, -np.logaddexp(0, -x), atol=1e-6)
    p, log_p = sigmoid_and_log(float("nan"))  # diverged weights: in the loss, no bad index
    assert p == 0.0 and np.isnan(log_p)


def test_job_pairs_full_window() -> None:
    words = np.array([0, 1, 2, 3, 4, 5], dtype=np.int32)
    offsets = np.array([0, 4, 6], dtype=np.int64)
    centres, contexts = kernels.job_pairs(words, offsets, np.ones(6, np.float32), 2, 0, False)
    expected = {
        (i, j)
        for s, e in ((0, 4), (4, 6))
        for i in range(s, e)
        for j in range(s, e)
        if i != j and abs(i - j) <= 2
    }
    assert set(zip(centres.tolist(), contexts.tolist(), strict=True)) == expected
    assert len(centres) == len(expected)


def test_vocabulary_order_and_limits() -> None:
    counts = Counter({"b": 3, "a": 3, "c": 10, "d": 1})
    vocab = Vocabulary.build(counts, min_count=2)
    assert vocab.words == ["c", "b", "a"]  # by count, ties in first-seen order
    assert vocab.counts.tolist() == [10, 3, 3]
    assert Vocabulary.build(counts, min_count=1, max_size=2).words == ["c", "b"]


def test_keep_probabilities_formula() -> None:
    vocab = Vocabulary(["x", "y"], np.array([900, 100]))
    keep = vocab.keep_probabilities(1e-2)
    t = 1e-2 * 1000
    expected = [min(1.0, (np.sqrt(f / t) + 1) * t / f) for f in (900, 100)]
    np.testing.assert_allclose(keep, expected, rtol=1e-6)
    assert vocab.keep_probabilities(0).tolist() == [1.0, 1.0]


def test_alias_table_reproduces_unigram_power() -> None:
    rng = np.random.default_rng(0)
    counts = np.sort(rng.integers(1, 10_000, size=500))[::-1]
    vocab = Vocabulary([str(i) for i in range(500)], counts.astype(np.int64))
    prob, alias = vocab.alias_table()
    mass = prob.astype(np.float64).copy()
    np.add.at(mass, alias, 1.0 - prob)
    target = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(mass / 500, target, rtol=1e-5, atol=1e-9)


def test_huffman_is_optimal_prefix_code() -> None:
    rng = np.random.default_rng(1)
    counts = np.sort(rng.integers(1, 1000, size=60))[::-1].astype(np.int64)
    vocab = Vocabulary([str(i) for i in range(60)], counts)
    codes, points, lengths = vocab.huffman()
    words = ["".join(map(str, codes[i, : lengths[i]])) for i in range(60)]
    assert len(set(words)) == 60
    for a in words:
        assert not any(b != a and b.startswith(a) for b in words)  # prefix-free
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    optimal = 0
    while len(heap) > 1:
        x, y = heapq.heappop(heap), heapq.heappop(heap)
        optimal += x + y
        heapq.heappush(heap, x + y)
    assert int((counts * lengths).sum()) == optimal
    assert (points[:, 0] == 58).all()  # root first
    assert points.max() <= 58
    with pytest.raises(ValueError, match="at least 2 words"):
        Vocabulary(["x"], np.array([3])).huffman()
