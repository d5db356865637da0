"""``Word2Vec`` with gensim 4's interface, on crossent's trainer.

Code written for ``gensim.models.Word2Vec`` runs with the import changed:

>>> from crossent.word2vec import Word2Vec
>>> sentences = [["cat", "say", "meow"], ["dog", "say", "woof"]] * 50
>>> model = Word2Vec(sentences, vector_size=10, min_count=1, sg=1, workers=1, epochs=2)
>>> model.wv["cat"].shape, model.corpus_count, len(model.wv)
((10,), 100, 5)

Underneath, one implementation: the settings become a :class:`TrainConfig`
(:mod:`.settings`), the weights a :class:`SkipGram`, and ``train`` is
:func:`crossent.word2vec.train` — every ``train`` call a fresh schedule of ``epochs``
epochs from ``start_alpha`` to ``end_alpha``, as gensim's. Differences from gensim 4.4:

- ``workers`` defaults to all cores (gensim: 3); the loss is always computed;
  ``get_latest_training_loss()`` is the float64 sum over this ``train`` call so far (gensim's
  running sum, in our units: nats summed over examples);
- ``save``/``load`` write and read crossent's validated checkpoint, never a pickle; a gensim
  pickle is refused with the one-line recipe to convert its vectors;
- ``train`` needs ``epochs`` and ``total_examples`` or ``total_words``, as gensim's, but
  reads the corpus's true size (the values only have to be given); ``trim_rule`` applies to
  a first ``build_vocab`` only;
- ``sentences`` that are plain strings (or a list of them) are a ``TypeError`` (gensim
  warns and trains on letters); paths may be given as ``pathlib.Path``;
- ``max_vocab_size`` is ignored with a warning (we count exactly, no pruning);
  ``max_final_vocab`` keeps the most frequent words (gensim drops a whole tie);
- ``syn1`` (hierarchical softmax) is a read-only ``[V, D]`` copy; there is no
  ``vectors_lockf``, ``score``, ``prepare_vocab`` or per-word ``code``/``point``;
- after ``build_vocab(update=True)`` the run subsamples by the new text's counts, as gensim's
  (:mod:`~crossent.word2vec.training.update`), and the vocabulary stays sorted by count.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from crossent.word2vec.compat.corpora import (
    corpus_file_source,
    count_corpus,
    sentences_source,
)
from crossent.word2vec.compat.settings import for_training, to_config
from crossent.word2vec.compat.state import (
    EpochHooks,
    check_not_model,
    trimmed_vocabulary,
)
from crossent.word2vec.formats.corpus import Corpus
from crossent.word2vec.training.config import ConfigError, TrainConfig, default_threads
from crossent.word2vec.training.model import Position, SkipGram
from crossent.word2vec.training.train import build_model, train
from crossent.word2vec.training.update import update_vocabulary
from crossent.word2vec.training.vocab import Vocabulary
from crossent.word2vec.vectors.keyedvectors import KeyedVectors

MAX_WORDS_IN_BATCH = 10_000


class _class_only:
    """A classmethod that refuses to be called on an instance: gensim's ``load`` does, as
    ``model.load(path)`` returns a new model and leaves ``model`` unchanged."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: object, owner: type) -> Any:
        if obj is not None:
            raise AttributeError(
                "load: call it on the class (model = Word2Vec.load(path)); it returns a new "
                "model and would leave this one unchanged"
            )
        return functools.partial(self.func, owner)


class Word2Vec:
    """gensim 4's ``Word2Vec`` (same arguments, defaults and methods); see the module."""

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike[str] | None = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int | None = None,
        min_alpha: float = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        hashfxn: Any = hash,
        epochs: int = 5,
        null_word: int = 0,
        trim_rule: Any = None,
        sorted_vocab: int = 1,
        batch_words: int = MAX_WORDS_IN_BATCH,
        compute_loss: bool = False,
        callbacks: Sequence[Any] = (),
        comment: str | None = None,
        max_final_vocab: int | None = None,
        shrink_windows: bool = True,
    ) -> None:
        self.vector_size, self.alpha, self.window = vector_size, alpha, window
        self.min_count, self.max_vocab_size, self.sample = min_count, max_vocab_size, sample
        self.seed, self.min_alpha, self.sg, self.hs = seed, min_alpha, sg, hs
        self.workers = default_threads() if workers is None else workers  # gensim's: 3
        self.negative, self.ns_exponent, self.cbow_mean = negative, ns_exponent, cbow_mean
        self.hashfxn, self.epochs, self.null_word = hashfxn, epochs, null_word
        self.sorted_vocab, self.batch_words, self.comment = sorted_vocab, batch_words, comment
        self.compute_loss, self.callbacks = compute_loss, tuple(callbacks)
        self.max_final_vocab, self.shrink_windows = max_final_vocab, shrink_windows
        self.corpus_count = self.corpus_total_words = 0
        self.raw_vocab: Counter[str] = Counter()  # scan_vocab's counts
        self.running_training_loss = 0.0
        self.train_count = 0
        self.stop_training = False  # a callback may set it: training ends after that hook
        self._model: SkipGram | None = None
        self._wv: KeyedVectors | None = None
        self.config()  # every setting checked now, named as gensim names it
        if sentences is not None and corpus_file is not None:
            raise ValueError("sentences, corpus_file: give one of them, not both")
        if sentences is not None:
            sentences_source(sentences, "sentences")  # named as the user named it
        if sentences is not None or corpus_file is not None:
            self.build_vocab(sentences, corpus_file=corpus_file, trim_rule=trim_rule)
            self.train(
                sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                total_words=self.corpus_total_words, epochs=self.epochs,
            )  # fmt: skip
        elif trim_rule is not None:
            self._trim_rule = trim_rule

    # --- settings --------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The :class:`TrainConfig` of the current settings."""
        return to_config(vars(self))

    @property
    def model(self) -> SkipGram:
        """The crossent model underneath (after ``build_vocab``)."""
        if self._model is None:
            raise RuntimeError(
                "you must first build vocabulary before training the model "
                "(build_vocab, or pass sentences to Word2Vec)"
            )
        return self._model

    @property
    def wv(self) -> KeyedVectors:
        """The word vectors (shared with the model: training updates them in place)."""
        if self._model is None:
            if self._wv is None:
                self._wv = KeyedVectors([], np.zeros((0, self.vector_size), dtype=np.float32))
            return self._wv
        if self._wv is None or self._wv.vectors is not self._model.syn0:
            self._wv = self._model.keyed_vectors()
        return self._wv

    @wv.setter
    def wv(self, vectors: KeyedVectors) -> None:
        """Vectors alone (gensim's ``model.wv = KeyedVectors.load_word2vec_format(...)``):
        queries work; training and ``predict_output_word`` need a model (a RuntimeError)."""
        if not isinstance(vectors, KeyedVectors):
            raise TypeError(f"wv: expected a KeyedVectors, got {type(vectors).__name__}")
        self._model, self._wv = None, vectors

    @property
    def layer1_size(self) -> int:
        return self.vector_size

    @property
    def effective_min_count(self) -> int:
        return self.model.config.min_count

    @property
    def syn1neg(self) -> np.ndarray:
        """gensim's output vectors of negative sampling ``[V, D]``."""
        m = self.model
        if m.syn1neg is not None:
            return m.syn1neg
        if m.config.loss == "hs":
            raise AttributeError("syn1neg: this model trains hierarchical softmax only")
        return m.syn1

    @property
    def syn1(self) -> np.ndarray:
        """gensim's inner-node vectors of hierarchical softmax, ``[V, D]`` as gensim's (the
        last row, no node's, zero): a read-only copy of the model's ``[V-1, D]``."""
        if not self.model.config.hs:
            raise AttributeError("syn1: this model has no hierarchical softmax (hs=0)")
        inner = self.model.syn1
        padded = np.concatenate([inner, np.zeros((1, inner.shape[1]), dtype=inner.dtype)])
        padded.setflags(write=False)
        return padded

    # --- vocabulary ------------------------------------------------------------------------
    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike[str] | None = None,
        update: bool = False,
        progress_per: int = 10_000,
        keep_raw_vocab: bool = False,
        trim_rule: Any = None,
        **kwargs: Any,
    ) -> None:
        """Count the corpus and build the vocabulary and weights; ``update=True`` grows a
        trained model's vocabulary with the new words
        (:mod:`~crossent.word2vec.training.update`)."""
        _no_extra("build_vocab", kwargs)
        counted = count_corpus(self._source(corpus_iterable, corpus_file))
        self._set_vocab(counted.counts, update, trim_rule)
        self.corpus_count, self.corpus_total_words = counted.sentences, counted.words

    def scan_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike[str] | None = None,
        progress_per: int = 10_000,
        workers: int | None = None,
        trim_rule: Any = None,
    ) -> tuple[int, int]:
        """Count the corpus without building the vocabulary: ``(total words, sentences)``;
        the counts stay in ``raw_vocab`` (gensim's first step of ``build_vocab``)."""
        counted = count_corpus(self._source(corpus_iterable, corpus_file))
        self.raw_vocab = counted.counts
        self.corpus_count, self.corpus_total_words = counted.sentences, counted.words
        return counted.words, counted.sentences

    def build_vocab_from_freq(
        self,
        word_freq: dict[str, int],
        keep_raw_vocab: bool = False,
        corpus_count: int | None = None,
        trim_rule: Any = None,
        update: bool = False,
    ) -> None:
        """The vocabulary from ``{word: count}`` (no corpus is read)."""
        counts: Counter[str] = Counter()
        for word, count in dict(word_freq).items():
            if not isinstance(word, str) or not isinstance(count, (int, np.integer)) or count < 0:
                raise TypeError(
                    f"word_freq: expected str words and int counts >= 0, got {word!r}: {count!r}"
                )
            if count:
                counts[word] = int(count)
        self._set_vocab(counts, update, trim_rule)
        self.corpus_count = int(corpus_count or 0)
        self.corpus_total_words = sum(counts.values())

    def reset_from(self, other_model: Word2Vec) -> None:
        """Take ``other_model``'s vocabulary and corpus sizes, with fresh weights."""
        other = other_model.model
        vocab = Vocabulary(list(other.vocab.words), other.vocab.counts.copy())
        self._model, self._wv = SkipGram.initial(self.config(), vocab), None
        self.corpus_count = other_model.corpus_count
        self.corpus_total_words = other_model.corpus_total_words

    def _set_vocab(self, counts: Counter[str], update: bool, trim_rule: Any) -> None:
        trim_rule = trim_rule if trim_rule is not None else getattr(self, "_trim_rule", None)
        if update:
            if self._model is None:
                raise RuntimeError(
                    "You cannot do an online vocabulary-update of a model which has no prior "
                    "vocabulary: build_vocab(corpus) first"
                )
            if trim_rule is not None:
                raise ConfigError("trim_rule", "not supported with update=True")
            self._model.config = for_training(self._model.config, self.config())
            self._model = update_vocabulary(self._model, counts)
        else:
            config = self.config()
            if trim_rule is not None:
                counts = trimmed_vocabulary(counts, config.min_count, trim_rule)
                config = replace(config, min_count=1)
            self._model = build_model([], config, counts=counts)
        self._wv = None

    # --- training --------------------------------------------------------------------------
    def train(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike[str] | None = None,
        total_examples: int | None = None,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
        word_count: int = 0,
        queue_factor: int = 2,
        report_delay: float = 1.0,
        compute_loss: bool = False,
        callbacks: Sequence[Any] = (),
        **kwargs: Any,
    ) -> tuple[int, int]:
        """``epochs`` epochs over the corpus, the learning rate decaying linearly from
        ``start_alpha`` (default ``alpha``) to ``end_alpha`` (default ``min_alpha``).
        Returns gensim's ``(effective words, raw words)``: in-vocabulary words trained
        on (before subsampling) and words read."""
        _no_extra("train", kwargs)
        _check_schedule(epochs, total_examples, total_words)
        model = self.model
        source = self._source(corpus_iterable, corpus_file)
        start = self.alpha if start_alpha is None else start_alpha
        end = self.min_alpha if end_alpha is None else end_alpha
        self.epochs = self.epochs if epochs is None else epochs
        wanted = to_config({**vars(self), "alpha": start, "min_alpha": end})
        model.config = for_training(model.config, wanted)
        model.position, model.corpus = Position(), None  # a fresh schedule, on any corpus
        model.warn_no_pairs = True  # a toy corpus trains (and learns nothing), as in gensim
        self.compute_loss = compute_loss or self.compute_loss
        self.running_training_loss = 0.0
        hooks = EpochHooks(self, [*self.callbacks, *callbacks])
        train(source, model=model, callbacks=[hooks])
        self.train_count += 1
        if self._wv is not None:
            self._wv.norms = None  # the vectors moved
        trained = model.position.words_done
        return trained, self.corpus_total_words * model.position.epoch

    def get_latest_training_loss(self) -> float:
        """The summed loss of this ``train`` call so far (float64; gensim's running loss)."""
        return self.running_training_loss

    def _source(self, corpus_iterable: object, corpus_file: object) -> Corpus:
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError(
                "corpus_iterable, corpus_file: give exactly one of them "
                f"(got {'both' if corpus_file is not None else 'neither'})"
            )
        if corpus_file is not None:
            return corpus_file_source(corpus_file)
        return sentences_source(corpus_iterable, "corpus_iterable")

    # --- use -------------------------------------------------------------------------------
    def predict_output_word(
        self, context_words_list: Sequence[str], topn: int = 10
    ) -> list[tuple[str, float]] | None:
        """The ``topn`` most probable centre words given context words, as gensim: the
        softmax over the output vectors of the context's mean (``cbow_mean``) or sum of
        input vectors, :math:`p = \\operatorname{softmax}(U h)`. None (with a warning)
        when no context word is in the vocabulary."""
        from crossent.word2vec.compat.state import predict_output

        return predict_output(self, context_words_list, topn)

    def save(self, fname_or_handle: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write crossent's checkpoint (atomically; never a pickle). gensim's pickling
        options (``separately``, ``sep_limit``, ``ignore``, ``pickle_protocol``) do not
        apply and are ignored."""
        if not isinstance(fname_or_handle, (str, os.PathLike)):
            raise TypeError(
                f"fname_or_handle: expected a path, got {type(fname_or_handle).__name__} "
                "(checkpoints are written atomically, by path)"
            )
        _no_extra("save", kwargs, {"separately", "sep_limit", "ignore", "pickle_protocol"})
        self.model.save(fname_or_handle)

    @_class_only
    def load(cls, fname: str | os.PathLike[str], mmap: str | None = None) -> Word2Vec:
        """A model saved by :meth:`save` (or ``crossent train --checkpoint``); called on
        a model rather than the class, an ``AttributeError`` (as gensim's)."""
        check_not_model(fname)
        return cls.from_model(SkipGram.load(fname, "fname"))

    @classmethod
    def from_model(cls, model: SkipGram) -> Word2Vec:
        """The facade over a crossent model (its settings as gensim names them)."""
        c = model.config
        self = cls(
            vector_size=c.dim, alpha=c.alpha, window=c.window, min_count=c.min_count,
            sample=c.sample, seed=c.seed, workers=c.threads, min_alpha=c.alpha * c.min_alpha_ratio,
            sg=int(c.model == "skipgram"), hs=int(c.hs), negative=c.negative if c.ns else 0,
            ns_exponent=c.ns_exponent, cbow_mean=int(c.cbow_mean), epochs=c.epochs,
            batch_words=c.job_words, max_final_vocab=c.max_vocab, shrink_windows=c.shrink_windows,
        )  # fmt: skip
        self._model = model
        self.corpus_count = model.corpus["sentences"] if model.corpus else 0
        self.corpus_total_words = model.corpus["words"] if model.corpus else 0
        return self

    def __str__(self) -> str:
        return f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, alpha={self.alpha}>"

    __repr__ = __str__


def _check_schedule(epochs: object, total_examples: object, total_words: object) -> None:
    """gensim's rule: ``train`` is told the epochs and the corpus size explicitly."""
    if epochs is None:
        raise ValueError("epochs: give it explicitly (the usual value is epochs=model.epochs)")
    if total_examples is None and total_words is None:
        raise ValueError(
            "total_examples, total_words: give one of them (the usual value is "
            "total_examples=model.corpus_count)"
        )


def _no_extra(
    method: str, kwargs: dict[str, Any], ignored: frozenset[str] | set[str] = frozenset()
) -> None:
    unknown = sorted(set(kwargs) - set(ignored))
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}")
