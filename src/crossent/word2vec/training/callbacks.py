"""Training callbacks with gensim 4's ``CallbackAny2Vec`` hooks.

A callback is any object with the four hooks below (subclass :class:`CallbackAny2Vec` to
inherit no-ops); each receives the model being trained. ``on_epoch_end`` finds the finished
epoch's numbers in ``model.last_epoch`` (:class:`~crossent.word2vec.training.model.EpochStats`: mean
and summed loss, examples, words, seconds, words/s); gensim's
``model.get_latest_training_loss()`` gives the summed loss. Setting
``model.stop_training = True`` in any hook ends training after that hook: the model is
returned (and can be saved or trained further), ``on_train_end`` still runs.

>>> from crossent.word2vec import TrainConfig, train
>>> class Stop(CallbackAny2Vec):
...     def on_epoch_end(self, model):
...         print(f"epoch {model.last_epoch.epoch + 1}: loss {model.last_epoch.loss:.2f}")
...         model.stop_training = model.last_epoch.loss < 10
>>> from crossent.word2vec.formats.data import data_file  # doctest: +SKIP
>>> model = train([data_file("wikitext2-test.txt")], TrainConfig(epochs=3),
...               callbacks=[Stop()])  # doctest: +SKIP
epoch 1: loss 2.85
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from crossent.word2vec.training.model import EpochStats

if TYPE_CHECKING:
    from crossent.word2vec.training.model import SkipGram

HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


class TrainingCallback(Protocol):
    """What ``train(callbacks=...)`` calls (gensim's callbacks fit it too)."""

    def on_train_begin(self, model: SkipGram) -> None: ...
    def on_epoch_begin(self, model: SkipGram) -> None: ...
    def on_epoch_end(self, model: SkipGram) -> None: ...
    def on_train_end(self, model: SkipGram) -> None: ...


class CallbackAny2Vec:
    """Base class: override the hooks you need (gensim's name and hooks)."""

    def on_train_begin(self, model: SkipGram) -> None:
        """Before the first epoch of this call to ``train``."""

    def on_epoch_begin(self, model: SkipGram) -> None:
        """Before each epoch."""

    def on_epoch_end(self, model: SkipGram) -> None:
        """After each epoch; ``model.last_epoch`` holds its numbers."""

    def on_train_end(self, model: SkipGram) -> None:
        """After the last epoch, or after a hook set ``model.stop_training``."""


class Hooks:
    """The callbacks of one training run, called in order."""

    def __init__(self, callbacks: Iterable[TrainingCallback]) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            missing = [h for h in HOOKS if not callable(getattr(cb, h, None))]
            if missing:
                raise TypeError(
                    f"callbacks: {type(cb).__name__} lacks {', '.join(missing)}; subclass "
                    "crossent.word2vec.CallbackAny2Vec to inherit the hooks you do not need"
                )

    def __call__(self, hook: str, model: SkipGram) -> bool:
        """Call ``hook`` on every callback; whether one of them asked training to stop."""
        for cb in self.callbacks:
            getattr(cb, hook)(model)
        return model.stop_training


def epoch_stats(model: SkipGram, seconds: float, words_before: int) -> EpochStats:
    """The numbers of the epoch that just ended (``model.position`` not yet reset)."""
    pos = model.position
    words = pos.words_done - words_before
    return EpochStats(
        epoch=pos.epoch,
        loss=pos.partial_loss / max(pos.partial_pairs, 1),
        loss_sum=pos.partial_loss,
        examples=pos.partial_pairs,
        words=words,
        seconds=seconds,
        words_per_second=words / max(seconds, 1e-9),
    )
