"""A skip-gram model: vocabulary, input vectors ``syn0`` and output vectors ``syn1``.

``syn1`` holds the output ("context") vectors ``u_w`` for ``loss="ns"`` and
``"softmax"`` (``[V, D]``) and the inner-node vectors of the Huffman tree for ``"hs"`` and
``"hs+ns"`` (``[V−1, D]``); ``syn1neg`` the output vectors of ``"hs+ns"`` (``[V, D]``), else
``None``. The same arrays serve skip-gram and CBOW (``config.model``). The checkpoint holds
the matrices, the counts and the training position.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossent.word2vec.formats.io import VectorFileError
from crossent.word2vec.training.checkpoint import (
    CheckpointError,
    is_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.vocab import Vocabulary
from crossent.word2vec.vectors.keyedvectors import KeyedVectors


@dataclass
class Position:
    """Where training stands: completed epochs, next job in the current epoch, progress."""

    epoch: int = 0
    job: int = 0
    words_done: int = 0  # in-vocabulary words processed over all epochs (drives the lr)
    epoch_losses: list[float] = field(default_factory=list)
    partial_loss: float = 0.0  # current epoch so far (float64 sums)
    partial_pairs: int = 0


@dataclass(frozen=True)
class EpochStats:
    """One finished epoch, for callbacks (``model.last_epoch``); not saved in checkpoints."""

    epoch: int  # 0-based
    loss: float  # mean per example: a (centre, context) pair for skip-gram, a centre for CBOW
    loss_sum: float  # float64 sum over the epoch (gensim's get_latest_training_loss)
    examples: int
    words: int  # in-vocabulary words read in this call's part of the epoch
    seconds: float
    words_per_second: float


@dataclass
class SkipGram:
    """A model and where its training stands. ``corpus`` is the fingerprint of the corpus
    it was trained on (sizes and digest; None before training): a run continues only on
    the same corpus."""

    config: TrainConfig
    vocab: Vocabulary
    syn0: np.ndarray  # float32 [V, D]
    syn1: np.ndarray  # float32 [V, D] (ns, softmax) or [V-1, D] (hs, hs+ns)
    position: Position = field(default_factory=Position)
    corpus: dict[str, Any] | None = None
    syn1neg: np.ndarray | None = None  # float32 [V, D] (hs+ns)
    keep: np.ndarray | None = None  # float32 [V]: subsampling of an update's run (update.py)
    last_epoch: EpochStats | None = field(default=None, compare=False, repr=False)
    stop_training: bool = field(default=False, compare=False, repr=False)  # set by a callback
    warn_no_pairs: bool = field(default=False, compare=False, repr=False)  # else an error

    def keep_probabilities(self) -> np.ndarray:
        """Per word, the probability that training keeps an occurrence (subsampling),
        float32 [V]: ``keep`` when a vocabulary update set it, else word2vec.c's rule on
        the vocabulary's counts (:meth:`Vocabulary.keep_probabilities`)."""
        if self.keep is not None:
            return self.keep
        return self.vocab.keep_probabilities(self.config.sample)

    def get_latest_training_loss(self) -> float:
        """gensim's name: the summed loss of the last finished epoch (float64, 0 before)."""
        return self.last_epoch.loss_sum if self.last_epoch is not None else 0.0

    @classmethod
    def initial(cls, config: TrainConfig, vocab: Vocabulary) -> SkipGram:
        """word2vec.c's initialisation: syn0 uniform in [-0.5/D, 0.5/D), syn1 zero."""
        rng = np.random.default_rng(config.seed)
        v, d = len(vocab), config.dim
        syn0 = ((rng.random((v, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
        rows = v - 1 if config.hs else v
        syn1neg = np.zeros((v, d), dtype=np.float32) if config.loss == "hs+ns" else None
        syn1 = np.zeros((max(rows, 0), d), dtype=np.float32)
        return cls(config, vocab, syn0, syn1, syn1neg=syn1neg)

    def keyed_vectors(self) -> KeyedVectors:
        return KeyedVectors(
            self.vocab.words, self.syn0, dict(self.vocab.index), counts=self.vocab.counts
        )

    def save(self, path: str | os.PathLike[str], *, replace: bool = True) -> None:
        """Write a checkpoint atomically (``replace=False``: never over an existing file)."""
        meta: dict[str, Any] = {
            "config": self.config.to_dict(),
            "position": vars(self.position),
            "corpus": self.corpus,
        }
        arrays = {
            "syn0": self.syn0,
            "syn1": self.syn1,
            "counts": self.vocab.counts,
            "words": np.asarray(self.vocab.words, dtype=str),
        }
        if self.syn1neg is not None:
            arrays["syn1neg"] = self.syn1neg
        if self.keep is not None:
            arrays["keep"] = self.keep
        save_checkpoint(path, arrays, meta, replace=replace)

    @classmethod
    def load(cls, path: str | os.PathLike[str], what: str = "checkpoint") -> SkipGram:
        """Read a checkpoint, every array proved consistent (:mod:`.checkpoint`)."""
        ckpt = read_checkpoint(path, what)
        vocab = Vocabulary(ckpt.words, ckpt.counts)
        position = Position(**ckpt.position)
        return cls(
            ckpt.config, vocab, ckpt.syn0, ckpt.syn1, position, ckpt.corpus, ckpt.syn1neg, ckpt.keep
        )


def load_any(
    path: str | os.PathLike[str], what: str = "vectors"
) -> tuple[KeyedVectors, SkipGram | None]:
    """Vectors from a word2vec file, or from a checkpoint (then also its model). A file
    that is neither, but looks like a checkpoint (named ``*.ckpt*`` or ``*.npz``, or
    starting with a zip's ``PK``), is reported as an invalid checkpoint."""
    if is_checkpoint(path, what):
        model = SkipGram.load(path, what)
        return model.keyed_vectors(), model
    try:
        return KeyedVectors.load(path), None
    except VectorFileError:
        if not _looks_like_checkpoint(path):
            raise
    raise CheckpointError(
        f"{os.fspath(path)}: not a valid checkpoint (a checkpoint is a zip archive of the "
        "model's arrays; this file is not one) and not a word2vec vector file either"
    )


def _looks_like_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Named like one (``m.ckpt``, ``v.bin.ckpt.1``, ``m.npz``) or starting with ``PK``."""
    if {".ckpt", ".npz"} & {s.lower() for s in Path(path).suffixes}:
        return True
    with open(path, "rb") as f:
        return f.read(2) == b"PK"
