"""Training end to end: corpus handling, determinism, resume, objectives, held-out loss."""

from __future__ import annotations

import gzip
import importlib
import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from crossent.word2vec import (
    CorpusError,
    Progress,
    SkipGram,
    TrainConfig,
    TrainingDiverged,
    TrainingInterrupted,
    train,
)
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.formats.corpus import (
    MAX_SENTENCE,
    count_words,
    encode_corpus,
    iter_sentences,
)

TOPICS = [
    ["the", "cat", "sat", "on", "the", "mat", "with", "a", "small", "dog"],
    ["a", "dog", "and", "a", "cat", "play", "in", "the", "garden", "every", "day"],
    ["stocks", "fell", "as", "the", "market", "closed", "lower", "on", "monday"],
    ["investors", "sold", "shares", "when", "the", "market", "dropped", "sharply"],
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("corpus") / "toy.txt"
    lines = []
    for _ in range(600):
        words = TOPICS[rng.integers(4)]
        lines.append(" ".join(rng.permutation(words)))
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(**kw: object) -> TrainConfig:
    base = {"dim": 16, "epochs": 3, "min_count": 2, "sample": 0.0, "threads": 1, "seed": 3}
    return TrainConfig(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", ["ns", "hs", "softmax"])
def test_objectives_learn_topics(corpus: Path, loss: str) -> None:
    model = train([corpus], _config(loss=loss, epochs=4, alpha=0.05 if loss != "softmax" else 0.02))
    losses = model.position.epoch_losses
    assert len(losses) == 4
    assert losses[-1] < losses[0]
    kv = model.keyed_vectors()
    assert kv.similarity("cat", "dog") > kv.similarity("cat", "stocks")
    assert kv.similarity("market", "shares") > kv.similarity("market", "garden")


def test_single_thread_is_bit_identical(corpus: Path) -> None:
    a = train([corpus], _config(sample=1e-2))
    b = train([corpus], _config(sample=1e-2))
    c = train([corpus], _config(sample=1e-2, seed=4))
    assert np.array_equal(a.syn0, b.syn0)
    assert np.array_equal(a.syn1, b.syn1)
    assert a.position.epoch_losses == b.position.epoch_losses
    assert not np.array_equal(a.syn0, c.syn0)


def test_threads_train_too(corpus: Path) -> None:
    model = train([corpus], _config(threads=2, job_words=500))
    assert model.position.epoch_losses[-1] < model.position.epoch_losses[0]


def test_interrupt_and_resume_equal_uninterrupted_run(corpus: Path, tmp_path: Path) -> None:
    full = train([corpus], _config(job_words=700))
    calls = {"n": 0}

    def stop_midway(_: object) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as info:
        train([corpus], _config(job_words=700), progress=stop_midway)
    partial = info.value.model
    assert partial.position.epoch == 0
    assert partial.position.job in (5, 6)  # job 5 is kept if it had started (one worker)
    partial.save(tmp_path / "ckpt.npz")
    resumed = train([corpus], model=SkipGram.load(tmp_path / "ckpt.npz"))
    np.testing.assert_array_equal(resumed.syn0, full.syn0)
    assert resumed.position.epoch_losses == pytest.approx(full.position.epoch_losses, rel=1e-12)


def test_heldout_softmax_matches_naive(corpus: Path) -> None:
    model = train([corpus], _config(loss="ns"))
    report = heldout_loss(model, [corpus], window=2)
    enc = encode_corpus([corpus], model.vocab.index)
    words, offs = np.asarray(enc.words), enc.offsets
    cs, os_ = [], []
    for s in range(len(offs) - 1):
        sent = words[offs[s] : offs[s + 1]]
        for i in range(len(sent)):
            for j in range(max(0, i - 2), min(len(sent), i + 3)):
                if i != j:
                    cs.append(sent[i])
                    os_.append(sent[j])
    logits = torch.from_numpy(model.syn0).double()[cs] @ torch.from_numpy(model.syn1).double().T
    naive = F.cross_entropy(logits, torch.tensor(os_, dtype=torch.long)).item()
    assert report["pairs"] == len(cs)
    assert report["loss"] == pytest.approx(naive, rel=1e-10)
    assert report["perplexity"] == pytest.approx(math.exp(naive))


def test_heldout_hs_is_a_normalised_distribution(corpus: Path) -> None:
    model = train([corpus], _config(loss="hs"))
    codes, points, lengths = model.vocab.huffman()
    v = torch.from_numpy(model.syn0[0]).double()
    total = 0.0
    for o in range(len(model.vocab)):  # Σ_o p(o | c) over the tree must be 1
        p = 1.0
        for q in range(lengths[o]):
            f = float(v @ torch.from_numpy(model.syn1[points[o, q]]).double())
            p *= 1 / (1 + math.exp(-f)) if codes[o, q] == 0 else 1 / (1 + math.exp(f))
        total += p
    assert total == pytest.approx(1.0, rel=1e-9)
    assert heldout_loss(model, [corpus])["objective"] == "hierarchical softmax"


def test_corpus_reading(tmp_path: Path) -> None:
    gz = tmp_path / "a.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("Hello World\n\nhello again\n")
    long = tmp_path / "long.txt"
    long.write_text(" ".join(["w"] * (MAX_SENTENCE + 5)) + "\n")
    sentences = list(iter_sentences([gz, long], lowercase=True))
    assert sentences[0] == ["hello", "world"]
    assert sentences[1] == ["hello", "again"]
    assert [len(s) for s in sentences[2:]] == [MAX_SENTENCE, 5]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 ok\nfine \xff\xfe line\n")
    with pytest.warns(UnicodeWarning, match="3 undecodable byte"):
        counts, _ = count_words([bad])
    assert counts["ok"] == 1


@pytest.mark.parametrize(
    ("setup", "pattern"),
    [
        ("missing", "corpus: file not found"),
        ("empty", "corpus: no words"),
        ("rare", "none of its 3 distinct words occurs at least min_count=5 times"),
        ("dir", "expected a text file, got a directory"),
    ],
)
def test_bad_corpus(tmp_path: Path, setup: str, pattern: str) -> None:
    path = tmp_path / "c.txt"
    if setup == "empty":
        path.write_text("\n  \n")
    elif setup == "rare":
        path.write_text("a b c\n")
    elif setup == "dir":
        path.mkdir()
    with pytest.raises(CorpusError, match=pattern):
        train([path], TrainConfig())


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"dim": 0}, "dim: expected a positive integer, got 0"),
        ({"window": -1}, "window: expected a positive integer"),
        ({"epochs": 0}, "epochs"),
        ({"threads": 0}, "threads"),
        ({"loss": "cbow"}, "loss: expected one of"),
        ({"alpha": 0.0}, "alpha"),
        ({"sample": 2.0}, "sample"),
        ({"negative": 0}, "negative sampling needs negative >= 1"),
    ],
)
def test_bad_config(kw: dict[str, object], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        TrainConfig(**kw)  # type: ignore[arg-type]


def test_undecodable_bytes_warn_once_per_training(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 a b c\n" * 20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train([path], _config(min_count=1, epochs=1))
    unicode = [w for w in caught if issubclass(w.category, UnicodeWarning)]
    assert len(unicode) == 1
    assert "20 undecodable byte(s)" in str(unicode[0].message)


@pytest.mark.parametrize("threads", [1, 3])
def test_interrupt_never_trains_a_job_twice(
    corpus: Path, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs still running at Ctrl-C finish, are counted, and are not trained again."""
    cfg = _config(threads=threads, job_words=300, epochs=2)
    reports: list[Progress] = []
    train([corpus], cfg, progress=reports.append)  # uninterrupted: words and pairs per job

    train_module = importlib.import_module("crossent.word2vec.training.train")
    runs: list[tuple[int, int]] = []
    job = train_module._Trainer._job

    def counted(self: object, epoch: int, j: int, words_before: int) -> tuple[float, int, int]:
        runs.append((epoch, j))
        return job(self, epoch, j, words_before)  # type: ignore[no-any-return]

    monkeypatch.setattr(train_module._Trainer, "_job", counted)
    started = 4 + 2 * threads - 1  # jobs 0-3 reported, the queue behind them started
    seen = {"n": 0}

    def stop(_: Progress) -> None:
        seen["n"] += 1
        if seen["n"] == 4:
            deadline = time.monotonic() + 30
            while len(runs) < started and time.monotonic() < deadline:
                time.sleep(0.001)
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as info:
        train([corpus], cfg, progress=stop)
    pos = info.value.model.position
    assert len(runs) == started and pos.job == started  # every started job was kept
    assert pos.words_done == reports[started - 1].words_done
    assert pos.partial_pairs == reports[started - 1].pairs
    resumed = train([corpus], model=info.value.model)
    n_jobs = max(j for _, j in runs) + 1
    assert sorted(runs) == [(e, j) for e in range(2) for j in range(n_jobs)]  # each once
    assert len(resumed.position.epoch_losses) == 2


@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_heldout_in_blocks_equals_one_block(corpus: Path, loss: str) -> None:
    model = train([corpus], _config(loss=loss, epochs=1))
    whole = heldout_loss(model, [corpus], block_words=10**9)
    blocks = heldout_loss(model, [corpus], block_words=37)  # sentences never split
    assert blocks["pairs"] == whole["pairs"]
    assert blocks["loss"] == pytest.approx(whole["loss"], rel=1e-12)


@pytest.mark.parametrize(("loss", "alpha"), [("softmax", 50.0), ("ns", 1e6), ("hs", 1e6)])
def test_divergence_is_a_clear_error(corpus: Path, loss: str, alpha: float) -> None:
    """A learning rate far too high: an error naming alpha, never NaN vectors (or a crash)."""
    with pytest.raises(TrainingDiverged, match=r"alpha: training diverged .* smaller --alpha"):
        train([corpus], _config(loss=loss, alpha=alpha))


def test_a_finite_but_absurd_loss_is_divergence_too(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights that blow up without overflowing give a huge finite loss: an error, not a model."""
    train_module = importlib.import_module("crossent.word2vec.training.train")
    real = train_module.run_job

    def exploding(*args: object) -> tuple[float, int, int]:
        loss, pairs, words = real(*args)
        return 2e28 * max(pairs, 1), pairs, words

    monkeypatch.setattr(train_module, "run_job", exploding)
    with pytest.raises(TrainingDiverged, match=r"nats per pair, above 10000\) with alpha="):
        train([corpus], _config(loss="ns"))


def test_finite_check_finds_one_bad_entry() -> None:
    train_module = importlib.import_module("crossent.word2vec.training.train")
    a = np.ones((50, 8), dtype=np.float32)
    assert train_module._finite(a, a)
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[37, 5] = bad
        assert not train_module._finite(a, b)
