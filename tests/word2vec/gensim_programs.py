"""Typical gensim user programs, written once against a namespace ``lib`` that holds
``Word2Vec``, ``LineSentence`` and ``CallbackAny2Vec``: gensim's modules or
``crossent.word2vec`` — the only change a user makes is the import."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

import crossent.word2vec as crossent_w2v

CROSSENT = types.SimpleNamespace(
    Word2Vec=crossent_w2v.Word2Vec,
    LineSentence=crossent_w2v.LineSentence,
    CallbackAny2Vec=crossent_w2v.CallbackAny2Vec,
)


def gensim_namespace() -> types.SimpleNamespace:
    models = pytest.importorskip("gensim.models")
    word2vec = pytest.importorskip("gensim.models.word2vec")
    callbacks = pytest.importorskip("gensim.models.callbacks")
    return types.SimpleNamespace(
        Word2Vec=models.Word2Vec,
        LineSentence=word2vec.LineSentence,
        CallbackAny2Vec=callbacks.CallbackAny2Vec,
    )


def tutorial(lib: Any, path: Path, tmp: Path, **settings: Any) -> dict[str, Any]:
    """gensim's tutorial: build_vocab + train with a per-epoch loss callback, save, load,
    most_similar, predict_output_word, a vector."""

    class LossLogger(lib.CallbackAny2Vec):  # type: ignore[misc]
        def __init__(self) -> None:
            self.losses: list[float] = []
            self.previous = 0.0

        def on_epoch_end(self, model: Any) -> None:
            loss = model.get_latest_training_loss()
            self.losses.append(loss - self.previous)
            self.previous = loss

    sentences = lib.LineSentence(str(path))
    model = lib.Word2Vec(compute_loss=True, **settings)
    model.build_vocab(sentences)
    logger = LossLogger()
    model.train(
        sentences,
        total_examples=model.corpus_count,
        epochs=model.epochs,
        compute_loss=True,
        callbacks=[logger],
    )
    model.save(str(tmp / "word2vec.model"))
    loaded = lib.Word2Vec.load(str(tmp / "word2vec.model"))
    return {
        "model": model,
        "loaded": loaded,
        "losses": logger.losses,
        "similar": loaded.wv.most_similar("city", topn=5),
        "predicted": loaded.predict_output_word(["the", "city", "of"], topn=5),
        "vector": loaded.wv["city"],
    }


def one_call(lib: Any, sentences: list[list[str]], **settings: Any) -> Any:
    """The shortest program: ``Word2Vec(sentences, ...)`` trains at once."""
    return lib.Word2Vec(sentences, **settings)


def online_update(lib: Any, old: list[list[str]], new: list[list[str]], **settings: Any) -> Any:
    """gensim's online training: train, grow the vocabulary with new text, train on it."""
    model = lib.Word2Vec(old, **settings)
    model.build_vocab(new, update=True)
    model.train(new, total_examples=len(new), epochs=model.epochs)
    return model
