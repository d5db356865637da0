"""gensim 4's ``Word2Vec`` arguments, checked and mapped onto :class:`TrainConfig`.

========================  =============================================================
gensim                    crossent
========================  =============================================================
``vector_size``           ``dim``
``sg`` (default 0: CBOW)  ``model`` (``"skipgram"`` for 1, ``"cbow"`` for 0)
``hs``, ``negative``      ``loss``: ``"ns"`` (hs 0), ``"hs"`` (negative 0), ``"hs+ns"``
``min_alpha``             ``min_alpha_ratio = min_alpha / alpha``
``workers``               ``threads`` (None, our default: all cores; gensim's is 3)
``batch_words``           ``job_words``
``max_final_vocab``       ``max_vocab`` (the most frequent words; gensim drops whole ties)
``min_count=0``           ``min_count=1`` (the same vocabulary)
========================  =============================================================

``window``, ``min_count``, ``sample``, ``seed``, ``alpha``, ``epochs``, ``ns_exponent``,
``cbow_mean``, ``shrink_windows`` keep their names. Values gensim accepts that we do not
raise :class:`~crossent.word2vec.ConfigError` naming gensim's argument: ``hs=0,
negative=0`` (gensim trains nothing), ``sample >= 1`` (gensim's count shorthand),
``min_alpha > alpha``, ``sorted_vocab=0``, ``null_word=1``, another ``hashfxn``.
``max_vocab_size`` (gensim prunes rare words while counting, to bound memory) is ignored
with a warning: we count every word exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

from crossent.word2vec.training.config import ConfigError, TrainConfig, default_threads

GENSIM_NAMES = {  # our field -> gensim's argument, for error messages
    "dim": "vector_size",
    "threads": "workers",
    "max_vocab": "max_final_vocab",
    "job_words": "batch_words",
    "min_alpha_ratio": "min_alpha",
    "model": "sg",
    "loss": "hs",
}


def loss_of(hs: object, negative: object) -> str:
    """Our ``loss`` for gensim's ``hs`` and ``negative``."""
    if hs not in (0, 1):
        raise ConfigError("hs", f"expected 0 or 1, got {hs!r}")
    if not isinstance(negative, int) or isinstance(negative, bool) or negative < 0:
        raise ConfigError("negative", f"expected an integer >= 0, got {negative!r}")
    if not hs and not negative:
        raise ConfigError(
            "negative", "hs=0 and negative=0 leave no objective to train; set one of them"
        )
    return ("hs+ns" if negative else "hs") if hs else "ns"


def to_config(s: dict[str, Any]) -> TrainConfig:
    """The :class:`TrainConfig` of gensim-named settings ``s`` (a ``ConfigError`` names
    gensim's argument)."""
    _check_unsupported(s)
    alpha, min_alpha = s["alpha"], s["min_alpha"]
    ratio = min_alpha / alpha if _number(alpha) and _number(min_alpha) and alpha > 0 else None
    if ratio is not None and not 0 <= ratio <= 1:
        raise ConfigError(
            "min_alpha", f"expected a rate in [0, alpha={alpha!r}], got {min_alpha!r}"
        )
    if ratio is None and not _number(min_alpha):
        raise ConfigError("min_alpha", f"expected a number, got {min_alpha!r}")
    min_count = s["min_count"]
    if isinstance(min_count, int) and not isinstance(min_count, bool) and min_count == 0:
        min_count = 1  # every counted word occurs at least once: the same vocabulary
    if s["sg"] not in (0, 1):
        raise ConfigError("sg", f"expected 0 (CBOW) or 1 (skip-gram), got {s['sg']!r}")
    if s["cbow_mean"] not in (0, 1):
        raise ConfigError("cbow_mean", f"expected 0 or 1, got {s['cbow_mean']!r}")
    fields = dict(
        dim=s["vector_size"],
        window=s["window"],
        negative=s["negative"],
        min_count=min_count,
        max_vocab=s["max_final_vocab"],
        sample=s["sample"],
        epochs=s["epochs"],
        alpha=alpha,
        min_alpha_ratio=ratio if ratio is not None else 1e-4,
        threads=default_threads() if s["workers"] is None else s["workers"],
        seed=s["seed"],
        loss=loss_of(s["hs"], s["negative"]),
        job_words=s["batch_words"],
        model="skipgram" if s["sg"] else "cbow",
        cbow_mean=bool(s["cbow_mean"]),
        ns_exponent=s["ns_exponent"],
        shrink_windows=s["shrink_windows"],
    )
    try:
        return TrainConfig(**fields)
    except ConfigError as exc:
        raise ConfigError(GENSIM_NAMES.get(exc.field, exc.field), exc.problem) from None


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_unsupported(s: dict[str, Any]) -> None:
    if s["sorted_vocab"] not in (1, True):
        raise ConfigError(
            "sorted_vocab", "crossent always sorts the vocabulary by decreasing count; use 1"
        )
    if s["null_word"] not in (0, False):
        raise ConfigError("null_word", "crossent has no concatenative CBOW (null_word); use 0")
    if s["hashfxn"] is not hash:
        raise ConfigError(
            "hashfxn", "crossent seeds its vectors from seed alone; leave hashfxn at hash"
        )
    if _number(s["sample"]) and s["sample"] >= 1:
        raise ConfigError(
            "sample",
            f"expected a fraction in [0, 1), got {s['sample']!r} (gensim's count shorthand "
            "sample >= 1 is not supported)",
        )
    if s["max_vocab_size"] is not None:
        warnings.warn(
            f"max_vocab_size={s['max_vocab_size']!r} ignored: crossent counts every word "
            "exactly, without pruning while counting; max_final_vocab caps the vocabulary",
            UserWarning,
            stacklevel=4,
        )


STRUCTURE = ("dim", "loss", "model")


def for_training(built: TrainConfig, wanted: TrainConfig) -> TrainConfig:
    """``wanted`` (the current settings) for a model whose weights were built with
    ``built``: what shapes the weights cannot change after ``build_vocab``."""
    for name in STRUCTURE:
        if getattr(built, name) != getattr(wanted, name):
            raise ConfigError(
                GENSIM_NAMES.get(name, name),
                f"the vocabulary was built with {getattr(built, name)!r} "
                f"({name}), the model now asks {getattr(wanted, name)!r}: set it before "
                "build_vocab, or build the vocabulary again",
            )
    return replace(wanted, min_count=built.min_count, max_vocab=built.max_vocab)
