"""Training callbacks: gensim's hooks in order, per-epoch numbers, stopping early."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossent.word2vec import CallbackAny2Vec, SkipGram, TrainConfig, train

from .test_training import corpus  # noqa: F401  (the shared toy-corpus fixture)


def _config(**kw: object) -> TrainConfig:
    base = {"dim": 8, "epochs": 3, "min_count": 2, "sample": 0.0, "threads": 1, "seed": 3}
    return TrainConfig(**(base | kw))  # type: ignore[arg-type]


class Recorder(CallbackAny2Vec):
    def __init__(self, stop_after: int | None = None, stop_at_begin: bool = False) -> None:
        self.calls: list[str] = []
        self.seen: list[tuple[float, float, int, int, float]] = []
        self.stop_after, self.stop_at_begin = stop_after, stop_at_begin

    def on_train_begin(self, model: SkipGram) -> None:
        self.calls.append("train_begin")

    def on_epoch_begin(self, model: SkipGram) -> None:
        self.calls.append(f"epoch_begin {model.position.epoch}")
        model.stop_training = self.stop_at_begin

    def on_epoch_end(self, model: SkipGram) -> None:
        stats = model.last_epoch
        assert stats is not None
        self.calls.append(f"epoch_end {stats.epoch}")
        self.seen.append((stats.loss, stats.loss_sum, stats.examples, stats.words,
                          stats.words_per_second))  # fmt: skip
        assert model.get_latest_training_loss() == stats.loss_sum
        if self.stop_after is not None and stats.epoch + 1 >= self.stop_after:
            model.stop_training = True

    def on_train_end(self, model: SkipGram) -> None:
        self.calls.append("train_end")


@pytest.mark.parametrize("model_kind", ["skipgram", "cbow"])
def test_hooks_in_order_with_epoch_numbers(corpus: Path, model_kind: str) -> None:  # noqa: F811
    rec = Recorder()
    model = train([corpus], _config(model=model_kind), callbacks=[rec, CallbackAny2Vec()])
    assert rec.calls == ["train_begin", "epoch_begin 0", "epoch_end 0", "epoch_begin 1",
                         "epoch_end 1", "epoch_begin 2", "epoch_end 2", "train_end"]  # fmt: skip
    words = sum(len(line.split()) for line in corpus.read_text().splitlines())
    for (loss, loss_sum, examples, read, wps), mean in zip(
        rec.seen, model.position.epoch_losses, strict=True
    ):
        assert loss == mean
        assert loss_sum == pytest.approx(loss * examples, rel=1e-12)
        assert examples > 1000 and read == words and wps > 0
    assert rec.seen[-1][0] < rec.seen[0][0]


def test_a_callback_stops_training_and_training_continues_later(corpus: Path) -> None:  # noqa: F811
    rec = Recorder(stop_after=2)
    model = train([corpus], _config(), callbacks=[rec])
    assert rec.calls[-3:] == ["epoch_begin 1", "epoch_end 1", "train_end"]
    assert model.position.epoch == 2 and len(model.position.epoch_losses) == 2
    full = train([corpus], _config())
    again = Recorder()
    model = train([corpus], model=model, callbacks=[again])  # the third epoch
    assert again.calls == ["train_begin", "epoch_begin 2", "epoch_end 2", "train_end"]
    assert model.position.epoch_losses == pytest.approx(full.position.epoch_losses, rel=1e-12)


def test_stop_before_an_epoch_runs(corpus: Path) -> None:  # noqa: F811
    rec = Recorder(stop_at_begin=True)
    model = train([corpus], _config(), callbacks=[rec])
    assert rec.calls == ["train_begin", "epoch_begin 0", "train_end"]
    assert model.position.epoch == 0 and model.last_epoch is None


def test_gensims_own_callbacks_fit(corpus: Path) -> None:  # noqa: F811
    gensim_callbacks = pytest.importorskip("gensim.models.callbacks")

    class EpochLogger(gensim_callbacks.CallbackAny2Vec):  # type: ignore[misc]
        def __init__(self) -> None:
            self.losses: list[float] = []

        def on_epoch_end(self, model: SkipGram) -> None:
            self.losses.append(model.get_latest_training_loss())

    logger = EpochLogger()
    train([corpus], _config(epochs=2), callbacks=[logger])
    assert len(logger.losses) == 2 and logger.losses[0] > 0


def test_a_callback_without_hooks_is_refused(corpus: Path) -> None:  # noqa: F811
    with pytest.raises(TypeError, match="callbacks: object lacks on_train_begin, on_epoch_begin"):
        train([corpus], _config(), callbacks=[object()])  # type: ignore[list-item]
