"""The numba kernels against the float64 Python oracle, and the vocabulary tables."""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np
import pytest

from crossent.word2vec import _kernels
from crossent.word2vec.vocab import Vocabulary

from .oracle import train_job_reference


def _corpus(rng: np.random.Generator, vocab: int, sentences: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = rng.integers(1, 12, size=sentences)
    zipf = rng.zipf(1.3, size=int(lengths.sum())) % vocab
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return zipf.astype(np.int32), offsets


@pytest.mark.parametrize(
    ("hs", "window", "sample"), [(False, 3, 0.0), (True, 2, 0.0), (False, 5, 1e-2), (True, 4, 1e-2)]
)
def test_train_job_matches_python_oracle(hs: bool, window: int, sample: float) -> None:
    rng = np.random.default_rng(7)
    vocab_size, dim = 40, 16
    words, offsets = _corpus(rng, vocab_size, 30)
    counts = np.bincount(words, minlength=vocab_size) + 1
    order = np.argsort(-counts, kind="stable")
    vocab = Vocabulary([f"w{i}" for i in order], counts[order].astype(np.int64))
    words = np.argsort(order)[words].astype(np.int32)  # re-index by decreasing count
    keep = vocab.keep_probabilities(sample)
    prob, alias = vocab.alias_table()
    codes, points, lengths = vocab.huffman()
    syn0 = ((rng.random((vocab_size, dim)) - 0.5) / dim).astype(np.float32)
    syn1 = (rng.normal(size=(vocab_size - 1 if hs else vocab_size, dim)) * 0.1).astype(np.float32)
    ref0, ref1 = syn0.astype(np.float64), syn1.astype(np.float64)
    args = (
        words,
        offsets,
        keep,
        window,
        0.05,
        0.01,
        12345,
        hs,
        3,
        prob,
        alias,
        codes,
        points,
        lengths,
    )
    loss, pairs, done = _kernels.train_job(syn0, syn1, *args)
    rloss, rpairs, rdone = train_job_reference(ref0, ref1, *args)
    assert (pairs, done) == (rpairs, rdone)
    assert pairs > 50
    assert loss == pytest.approx(rloss, rel=1e-5)
    np.testing.assert_allclose(syn0, ref0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1, ref1, rtol=1e-4, atol=1e-6)


def test_sigmoid_tables_are_exact_to_float32() -> None:
    x = np.linspace(-20, 20, 100_001)
    sig = np.array([_kernels._lookup(_kernels.SIGMOID_TABLE, v, 0.0, 1.0) for v in x[::97]])
    logsig = np.array([_kernels._lookup(_kernels.LOG_SIGMOID_TABLE, v, v, 0.0) for v in x[::97]])
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x[::97])), atol=1e-6)
    np.testing.assert_allclose(logsig, -np.logaddexp(0, -x[::97]), atol=1e-6)


def test_job_pairs_full_window() -> None:
    words = np.array([0, 1, 2, 3, 4, 5], dtype=np.int32)
    offsets = np.array([0, 4, 6], dtype=np.int64)
    centres, contexts = _kernels.job_pairs(words, offsets, np.ones(6, np.float32), 2, 0, False)
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
