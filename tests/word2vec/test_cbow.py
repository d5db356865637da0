"""CBOW examples and the CBOW full-softmax job against brute force and a float64 oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crossent.word2vec.formats.corpus import Job
from crossent.word2vec.training import kernels
from crossent.word2vec.training.cbow_softmax import cbow_softmax_job
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.model import SkipGram
from crossent.word2vec.training.vocab import Vocabulary

from .oracle import cbow_softmax_reference


def _job(rng: np.random.Generator, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = rng.integers(1, 10, size=25)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return rng.integers(0, vocab, size=int(lengths.sum())).astype(np.int32), offsets


def test_cbow_examples_full_window_brute_force() -> None:
    words, offsets = _job(np.random.default_rng(0), 30)
    centres, starts, contexts = kernels.job_windows(
        words, offsets, np.ones(30, np.float32), 2, 0, False
    )
    expected = []
    for s, e in itertools.pairwise(offsets):
        for i in range(s, e):
            ctx = [int(words[j]) for j in range(max(s, i - 2), min(e, i + 3)) if j != i]
            if ctx:
                expected.append((int(words[i]), ctx))
    got = [(int(c), contexts[starts[k] : starts[k + 1]].tolist()) for k, c in enumerate(centres)]
    assert got == expected


def test_cbow_examples_follow_the_kernels_random_stream() -> None:
    """Same subsampling and shrunk windows as cbow_job (hs only draws nothing more)."""
    rng = np.random.default_rng(1)
    words, offsets = _job(rng, 30)
    counts = np.bincount(words, minlength=30).astype(np.int64) + 1
    vocab = Vocabulary([str(i) for i in range(30)], counts)
    keep = vocab.keep_probabilities(0.002)
    assert keep.min() < 0.5
    centres, starts, contexts = kernels.job_windows(words, offsets, keep, 4, 77, True)
    syn0 = np.zeros((30, 4), np.float32)
    codes, points, lengths = vocab.huffman()
    dummy = np.zeros((1, 4), np.float32)
    prob, alias = np.ones(1, np.float32), np.zeros(1, np.int32)
    _, examples, _ = kernels.cbow_job(syn0, np.zeros((29, 4), np.float32), dummy, words,
                                       offsets, keep, 4, 0.0, 0.0, 77, True, 0, prob, alias,
                                       codes, points, lengths, True, True, True,
                                       kernels.CBOW_BATCH)  # fmt: skip
    assert examples == len(centres) > 20
    assert starts[-1] == len(contexts)
    assert (np.diff(starts) >= 1).all() and (np.diff(starts) <= 8).all()


@pytest.mark.parametrize(("cbow_mean", "batch"), [(True, 7), (False, 64)])
def test_cbow_softmax_job_matches_float64_oracle(cbow_mean: bool, batch: int) -> None:
    rng = np.random.default_rng(2)
    words, offsets = _job(rng, 23)
    vocab = Vocabulary([str(i) for i in range(23)], np.full(23, 5, dtype=np.int64))
    config = TrainConfig(dim=6, window=3, loss="softmax", model="cbow", cbow_mean=cbow_mean,
                         batch_pairs=batch, min_count=1)  # fmt: skip
    syn0 = (rng.normal(size=(23, 6)) * 0.3).astype(np.float32)
    syn1 = (rng.normal(size=(23, 6)) * 0.3).astype(np.float32)
    ref0, ref1 = syn0.astype(np.float64), syn1.astype(np.float64)
    initial = syn0.copy()
    model = SkipGram(config, vocab, syn0, syn1)
    keep = np.ones(23, np.float32)
    loss, n, done = cbow_softmax_job(model, Job(words, offsets, keep, 5, 0.2, 0.1))
    examples = kernels.job_windows(words, offsets, keep, 3, 5, True)
    rloss = cbow_softmax_reference(ref0, ref1, examples, cbow_mean, batch, 0.2, 0.1)
    assert (n, done) == (len(examples[0]), len(words))
    assert loss == pytest.approx(rloss, rel=1e-5)
    np.testing.assert_allclose(model.syn0, ref0, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1, ref1, rtol=1e-4, atol=1e-5)
    assert np.abs(model.syn0 - initial).max() > 1e-3  # training moved the weights
