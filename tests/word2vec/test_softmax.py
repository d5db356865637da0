"""The full-softmax objective by windows: one logits row per centre occurrence gives the
loss and the SGD update of its pairs (float64 oracle), the window stream is word2vec's,
and training by windows equals training by pairs."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.training import kernels, softmax

from .corpora import random_text
from .oracle import job_windows_reference, softmax_step_reference


def _windows(
    rng: np.random.Generator, vocab: int, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random windows with the edge cases: one context, a repeated context, the centre word
    among its own contexts, the same centre word in two windows."""
    sizes = rng.integers(1, 9, size=count)
    sizes[0] = 1
    centres = rng.integers(0, vocab, size=count)
    centres[2] = centres[1]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    contexts = rng.integers(0, vocab, size=int(starts[-1]))
    contexts[starts[1] : starts[1] + 2] = contexts[starts[1]]  # repeated context (size ≥ 1)
    contexts[starts[3]] = centres[3]
    return centres, starts, contexts


def _oracle_pairs(
    centres: np.ndarray, starts: np.ndarray, contexts: np.ndarray
) -> list[tuple[int, int]]:
    pair_centres = np.repeat(centres, np.diff(starts)).tolist()
    return list(zip(pair_centres, contexts.tolist(), strict=True))


@pytest.mark.parametrize("step", [softmax.centre_step, softmax.pair_step])
@pytest.mark.parametrize(("vocab", "dim", "count", "scale"), [(13, 5, 6, 0.3), (37, 8, 20, 2.0)])
def test_step_equals_per_pair_update_float64(
    step: softmax.Step, vocab: int, dim: int, count: int, scale: float
) -> None:
    rng = np.random.default_rng(vocab)
    centres, starts, contexts = _windows(rng, vocab, count)
    syn0 = rng.normal(scale=scale, size=(vocab, dim))
    syn1 = rng.normal(scale=scale, size=(vocab, dim))
    ref0, ref1, before = syn0.copy(), syn1.copy(), syn1.copy()
    pairs = _oracle_pairs(centres, starts, contexts)
    expected = softmax_step_reference(ref0, ref1, pairs, 0.07)
    t0, t1 = torch.from_numpy(syn0), torch.from_numpy(syn1)  # updated in place
    idx = (torch.from_numpy(x) for x in (centres, starts, contexts))
    got = float(step(softmax.Weights(t0, t1), *idx, 0.07))
    assert got == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(syn0, ref0, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(syn1, ref1, rtol=1e-11, atol=1e-13)
    assert np.abs(syn1 - before).max() > 1e-3  # the step did move the weights


def test_centre_step_float32_matches_pair_step() -> None:
    rng = np.random.default_rng(3)
    centres, starts, contexts = _windows(rng, 500, 60)
    syn0 = (rng.normal(size=(500, 32)) * 0.5).astype(np.float32)
    syn1 = (rng.normal(size=(500, 32)) * 0.5).astype(np.float32)
    idx = [torch.from_numpy(x) for x in (centres, starts, contexts)]
    a0, a1 = torch.from_numpy(syn0.copy()), torch.from_numpy(syn1.copy())
    b0, b1 = torch.from_numpy(syn0.copy()), torch.from_numpy(syn1.copy())
    la = float(softmax.centre_step(softmax.Weights(a0, a1), *idx, 0.05))
    lb = float(softmax.pair_step(softmax.Weights(b0, b1), *idx, 0.05))
    assert la == pytest.approx(lb, rel=1e-5)
    torch.testing.assert_close(a0, b0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a1, b1, rtol=1e-5, atol=1e-6)
    assert not torch.equal(a1, torch.from_numpy(syn1))


def test_count_targets_against_bincount() -> None:
    rng = np.random.default_rng(5)
    centres, starts, contexts = _windows(rng, 29, 12)
    for lo, hi in ((0, 12), (1, 9)):  # a run of windows: offsets relative to its first
        o = contexts[starts[lo] : starts[hi]]
        rows, pair_rows = softmax.centre_rows(
            torch.from_numpy(centres[lo:hi]), torch.from_numpy(starts[lo : hi + 1]), len(o)
        )
        got = softmax.count_targets(
            pair_rows, torch.from_numpy(o), len(rows), (0, 29), torch.float64
        )
        assert rows.tolist() == sorted(set(centres[lo:hi].tolist()))
        assert len(rows) < hi - lo  # centres[1] == centres[2]: one row for both windows
        for r, word in enumerate(rows.tolist()):
            mine = [
                contexts[starts[m] : starts[m + 1]] for m in range(lo, hi) if centres[m] == word
            ]
            expected = np.bincount(np.concatenate(mine), minlength=29)
            np.testing.assert_array_equal(got[r].numpy(), expected.astype(np.float64))
        sliced = softmax.count_targets(  # a rank's columns 10..19: the rest count nowhere
            pair_rows, torch.from_numpy(o), len(rows), (10, 20), torch.float64
        )
        np.testing.assert_array_equal(sliced.numpy(), got[:, 10:20].numpy())


@pytest.mark.parametrize("batch_pairs", [1, 5, 17, 1000])
def test_batches_are_whole_windows_of_enough_pairs(batch_pairs: int) -> None:
    starts = np.concatenate([[0], np.cumsum(np.random.default_rng(0).integers(1, 9, size=40))])
    runs = list(softmax.batches(starts, batch_pairs))
    assert runs[0][0] == 0 and runs[-1][1] == 40
    assert all(b0 == a1 for (_, b0), (a1, _) in itertools.pairwise(runs))
    sizes = [starts[b] - starts[a] for a, b in runs]
    assert all(s >= batch_pairs for s in sizes[:-1]) and sizes[-1] > 0
    assert all(starts[b - 1] - starts[a] < batch_pairs for a, b in runs)  # no extra window
    assert list(softmax.batches(np.zeros(1, np.int64), 4)) == []


@pytest.mark.parametrize(
    ("window", "subsample", "dynamic"), [(3, False, True), (5, True, True), (2, True, False)]
)
def test_job_windows_match_python_oracle(window: int, subsample: bool, dynamic: bool) -> None:
    rng = np.random.default_rng(11)
    lengths = rng.integers(1, 14, size=40)
    words = (rng.zipf(1.3, size=int(lengths.sum())) % 30).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    keep = np.where(rng.random(30) < 0.5, rng.uniform(0.2, 1.0, 30), 1.0).astype(np.float32)
    if not subsample:
        keep[:] = 1.0
    centres, starts, contexts = kernels.job_windows(words, offsets, keep, window, 99, dynamic)
    expected = job_windows_reference(words, offsets, keep, window, 99, dynamic)
    got = [(int(c), contexts[starts[m] : starts[m + 1]].tolist()) for m, c in enumerate(centres)]
    assert got == expected
    assert len(expected) > 50 and any(len(o) == 1 for _, o in expected)
    pc, po = kernels.job_pairs(words, offsets, keep, window, 99, dynamic)
    assert list(zip(pc.tolist(), po.tolist(), strict=True)) == [
        (c, o) for c, os in expected for o in os
    ]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_text(tmp_path_factory.mktemp("toy") / "toy.txt", 40, 300, 14, seed=2)


def test_training_by_windows_equals_training_by_pairs(
    toy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = TrainConfig(
        dim=12, epochs=2, min_count=1, threads=1, loss="softmax", batch_pairs=40, job_words=500
    )
    by_windows = train([toy], config)
    pairs_job = functools.partial(softmax.softmax_job, step=softmax.pair_step)
    monkeypatch.setattr(softmax, "softmax_job", pairs_job)
    by_pairs = train([toy], config)
    np.testing.assert_allclose(by_windows.syn0, by_pairs.syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(by_windows.syn1, by_pairs.syn1, rtol=1e-4, atol=1e-6)
    assert by_windows.position.epoch_losses == pytest.approx(
        by_pairs.position.epoch_losses, rel=1e-5
    )
    assert by_windows.position.epoch_losses[1] < by_windows.position.epoch_losses[0]
