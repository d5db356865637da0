"""``device=``: checked before any work; the weights on a device and back; the Triton path
of the fused op inside training (here under TRITON_INTERPRET=1 when there is no GPU)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.training.device import resolve_device, weights_on, write_back
from crossent.word2vec.training.model import SkipGram
from crossent.word2vec.training.softmax import Weights
from crossent.word2vec.training.vocab import Vocabulary

from .corpora import random_text

NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_text(tmp_path_factory.mktemp("toy") / "toy.txt", 25, 120, 11, seed=4)


def test_resolve_device_accepts_cpu_and_none() -> None:
    assert resolve_device(None, "ns") == torch.device("cpu")
    assert resolve_device("cpu", "hs") == torch.device("cpu")
    assert resolve_device(torch.device("cpu"), "softmax") == torch.device("cpu")


@pytest.mark.parametrize(
    ("device", "loss", "message"),
    [
        ("tpu", "softmax", "device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
        ("meta", "softmax", "device: expected 'cpu', 'cuda' or 'cuda:N', got 'meta'"),
        (3.5, "softmax", "device: expected 'cpu', 'cuda' or 'cuda:N', got 3.5"),
        ("cuda", "ns", "device: loss='ns' trains with CPU kernels; only loss='softmax'"),
        ("cuda:0", "hs", "device: loss='hs' trains with CPU kernels"),
    ],
)
def test_resolve_device_errors(device: Any, loss: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_device(device, loss)


@pytest.mark.skipif(not NO_CUDA, reason="CUDA is available here")
def test_cuda_without_cuda_fails_before_reading_the_corpus(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="device: 'cuda' asked for, but CUDA is not available"):
        resolve_device("cuda", "softmax")
    missing = tmp_path / "no-such-corpus.txt"  # the device error comes first
    with pytest.raises(ValueError, match="device: 'cuda:1' asked for"):
        train([missing], TrainConfig(loss="softmax"), device="cuda:1")


def _model(vocab: int = 7, dim: int = 3) -> SkipGram:
    config = TrainConfig(loss="softmax", dim=dim, min_count=1)
    counts = np.arange(vocab, 0, -1).astype(np.int64)
    model = SkipGram.initial(config, Vocabulary([f"w{i}" for i in range(vocab)], counts))
    model.syn1[:] = np.arange(vocab * dim, dtype=np.float32).reshape(vocab, dim)
    return model


def test_cpu_weights_are_views_of_the_model() -> None:
    model = _model()
    w = weights_on(model, torch.device("cpu"), rows=(2, 5))
    assert (w.start, w.vocab, tuple(w.syn1.shape)) == (2, 7, (3, 3))
    w.syn0[1, 0] = 42.0
    w.syn1[0, 0] = -1.0  # row 2 of the model's syn1
    assert model.syn0[1, 0] == 42.0 and model.syn1[2, 0] == -1.0
    before = model.syn1.copy()
    write_back(w, model)  # nothing to copy
    np.testing.assert_array_equal(model.syn1, before)


def test_write_back_copies_a_slice_into_its_rows() -> None:
    model = _model()
    syn0 = torch.full((7, 3), 0.5)
    syn1 = torch.full((2, 3), -2.0)  # rows 4 and 5, not views of the model
    untouched = model.syn1[[0, 1, 2, 3, 6]].copy()
    write_back(Weights(syn0, syn1, start=4, vocab=7), model)
    np.testing.assert_array_equal(model.syn0, np.full((7, 3), 0.5, np.float32))
    np.testing.assert_array_equal(model.syn1[4:6], np.full((2, 3), -2.0, np.float32))
    np.testing.assert_array_equal(model.syn1[[0, 1, 2, 3, 6]], untouched)


def test_explicit_cpu_device_is_the_default(toy: Path) -> None:
    config = TrainConfig(loss="softmax", dim=8, epochs=1, min_count=1, threads=1)
    a = train([toy], config)
    b = train([toy], config, device="cpu")
    np.testing.assert_array_equal(a.syn0, b.syn0)
    np.testing.assert_array_equal(a.syn1, b.syn1)


def test_training_through_the_triton_path(toy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Triton kernels the CUDA path uses (interpreted on a CPU) train the same model as
    the chunked torch path."""
    pytest.importorskip("triton")
    config = TrainConfig(
        loss="softmax", dim=8, epochs=1, min_count=1, threads=1, batch_pairs=64, job_words=400
    )
    device = "cuda" if not NO_CUDA else None
    reference = train([toy], config, device=device)

    def triton_weights(*args: Any, **kwargs: Any) -> Weights:
        w = weights_on(*args, **kwargs)
        w.impl = "triton"
        return w

    monkeypatch.setattr(
        sys.modules["crossent.word2vec.training.train"], "weights_on", triton_weights
    )
    got = train([toy], config, device=device)
    np.testing.assert_allclose(got.syn0, reference.syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got.syn1, reference.syn1, rtol=1e-4, atol=1e-6)
    assert np.abs(got.syn1).max() > 1e-3
