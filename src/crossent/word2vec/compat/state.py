"""The facade's helpers: callbacks that see the facade, gensim's trim rules, pickles
refused, ``predict_output_word``."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from crossent.word2vec.training.callbacks import HOOKS
from crossent.word2vec.training.checkpoint import CheckpointError
from crossent.word2vec.training.config import ConfigError
from crossent.word2vec.training.model import SkipGram

if TYPE_CHECKING:
    from crossent.word2vec.compat.model import Word2Vec

RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2  # gensim.utils' trim-rule answers


class EpochHooks:
    """One callback for :func:`crossent.word2vec.train` that calls gensim-style callbacks
    with the facade (so ``model.get_latest_training_loss()``, ``model.wv``, ``model.save``
    work inside them) and keeps the facade's running loss."""

    def __init__(self, facade: Word2Vec, callbacks: Sequence[Any]) -> None:
        for cb in callbacks:
            missing = [h for h in HOOKS if not callable(getattr(cb, h, None))]
            if missing:
                raise TypeError(
                    f"callbacks: {type(cb).__name__} lacks {', '.join(missing)}; subclass "
                    "crossent.word2vec.CallbackAny2Vec to inherit the hooks you do not need"
                )
        self.facade, self.callbacks = facade, list(callbacks)

    def _call(self, hook: str, model: SkipGram) -> None:
        self.facade.stop_training = False
        for cb in self.callbacks:
            getattr(cb, hook)(self.facade)
        model.stop_training = bool(self.facade.stop_training)

    def on_train_begin(self, model: SkipGram) -> None:
        self._call("on_train_begin", model)

    def on_epoch_begin(self, model: SkipGram) -> None:
        self._call("on_epoch_begin", model)

    def on_epoch_end(self, model: SkipGram) -> None:
        if model.last_epoch is not None:
            self.facade.running_training_loss += model.last_epoch.loss_sum
        self._call("on_epoch_end", model)

    def on_train_end(self, model: SkipGram) -> None:
        self._call("on_train_end", model)


def trimmed_vocabulary(
    counts: Counter[str], min_count: int, trim_rule: Callable[[str, int, int], int]
) -> Counter[str]:
    """The counts of the words gensim's ``trim_rule(word, count, min_count)`` keeps:
    ``RULE_KEEP`` (2) always, ``RULE_DISCARD`` (1) never, ``RULE_DEFAULT`` (0) at
    ``min_count``."""
    if not callable(trim_rule):
        raise ConfigError("trim_rule", f"expected a callable, got {trim_rule!r}")
    kept: Counter[str] = Counter()
    for word, count in counts.items():
        rule = trim_rule(word, count, min_count)
        if rule not in (RULE_DEFAULT, RULE_DISCARD, RULE_KEEP):
            raise ConfigError(
                "trim_rule", f"expected 0, 1 or 2 (RULE_DEFAULT/DISCARD/KEEP), got {rule!r}"
            )
        if rule == RULE_KEEP or (rule == RULE_DEFAULT and count >= min_count):
            kept[word] = count
    return kept


class NotAModelError(CheckpointError, AttributeError):
    """Word vectors where a model was expected (gensim raises an ``AttributeError``)."""


def check_not_model(fname: str | os.PathLike[str]) -> None:
    """Refuse a pickle (gensim's ``save``) in one line that says how to convert it, and
    a word2vec vector file with the line that loads it."""
    try:
        with open(fname, "rb") as f:
            head = f.read(64)
    except OSError:
        return  # the checkpoint reader reports it, with its reason
    fields = head.split(b"\n", 1)[0].split()
    if len(fields) == 2 and all(x.isdigit() for x in fields):
        raise NotAModelError(
            f"fname: {os.fspath(fname)} holds word vectors, not a model: load them with "
            "KeyedVectors.load_word2vec_format(path) (binary=True for a .bin file)"
        )
    if head[:1] == b"\x80":
        raise CheckpointError(
            f"fname: {os.fspath(fname)} is a pickle (gensim's save), which crossent never "
            "loads (unpickling runs code); convert its vectors with gensim: "
            "gensim.models.Word2Vec.load(path).wv.save_word2vec_format('vectors.bin', "
            "binary=True), then KeyedVectors.load_word2vec_format('vectors.bin', binary=True)"
        )


def predict_output(
    facade: Word2Vec, context_words_list: Sequence[str], topn: int
) -> list[tuple[str, float]] | None:
    """:meth:`Word2Vec.predict_output_word`."""
    model = facade.model
    if model.config.loss == "hs":
        raise RuntimeError(
            "predict_output_word needs the output vectors of negative sampling or softmax "
            "(this model trains hierarchical softmax only)"
        )
    if isinstance(context_words_list, str):
        raise TypeError("context_words_list: expected a list of words, got a str")
    found = [_row(model, w) for w in context_words_list]
    rows = [i for i in found if i is not None]
    if not rows:
        warnings.warn(
            "All the input context words are out-of-vocabulary for the current model.",
            UserWarning,
            stacklevel=3,
        )
        return None
    hidden = model.syn0[rows].astype(np.float64).sum(axis=0)
    if model.config.cbow_mean:
        hidden /= len(rows)
    output = model.syn1neg if model.syn1neg is not None else model.syn1
    logits = output.astype(np.float64) @ hidden
    prob = np.exp(logits - logits.max())
    prob /= prob.sum()
    top = np.argsort(-prob, kind="stable")[: max(int(topn), 0)]
    return [(model.vocab.words[i], float(prob[i])) for i in top]


def _row(model: SkipGram, key: object) -> int | None:
    """The row of a word, or of an int index as gensim accepts; None when unknown."""
    if isinstance(key, str):
        return model.vocab.index.get(key)
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key) if 0 <= int(key) < len(model.vocab) else None
    raise TypeError(f"context_words_list: expected words or int indices, got {key!r}")
