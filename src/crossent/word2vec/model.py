"""A skip-gram model: vocabulary, input vectors ``syn0`` and output vectors ``syn1``.

``syn1`` holds the output ("context") vectors ``u_w`` for ``loss="ns"`` and
``"softmax"`` (``[V, D]``) and the inner-node vectors of the Huffman tree for ``"hs"``
(``[V−1, D]``). The checkpoint holds both matrices, the counts and the training position.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.word2vec.config import TrainConfig
from crossent.word2vec.io import (
    VectorFileError,
    is_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from crossent.word2vec.keyedvectors import KeyedVectors
from crossent.word2vec.vocab import Vocabulary


@dataclass
class Position:
    """Where training stands: completed epochs, next job in the current epoch, progress."""

    epoch: int = 0
    job: int = 0
    words_done: int = 0  # in-vocabulary words processed over all epochs (drives the lr)
    epoch_losses: list[float] = field(default_factory=list)
    partial_loss: float = 0.0  # current epoch so far (float64 sums)
    partial_pairs: int = 0


@dataclass
class SkipGram:
    config: TrainConfig
    vocab: Vocabulary
    syn0: np.ndarray  # float32 [V, D]
    syn1: np.ndarray  # float32 [V, D] (ns, softmax) or [V-1, D] (hs)
    position: Position = field(default_factory=Position)

    @classmethod
    def initial(cls, config: TrainConfig, vocab: Vocabulary) -> SkipGram:
        """word2vec.c's initialisation: syn0 uniform in [-0.5/D, 0.5/D), syn1 zero."""
        rng = np.random.default_rng(config.seed)
        v, d = len(vocab), config.dim
        syn0 = ((rng.random((v, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
        rows = v - 1 if config.loss == "hs" else v
        return cls(config, vocab, syn0, np.zeros((max(rows, 0), d), dtype=np.float32))

    def keyed_vectors(self) -> KeyedVectors:
        return KeyedVectors(self.vocab.words, self.syn0, dict(self.vocab.index))

    def save(self, path: str | os.PathLike[str]) -> None:
        meta: dict[str, Any] = {
            "config": self.config.to_dict(),
            "position": vars(self.position),
        }
        arrays = {
            "syn0": self.syn0,
            "syn1": self.syn1,
            "counts": self.vocab.counts,
            "words": np.asarray(self.vocab.words, dtype=str),
        }
        save_checkpoint(path, arrays, meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SkipGram:
        arrays, meta = load_checkpoint(path)
        try:
            config = TrainConfig.from_dict(meta["config"])
            vocab = Vocabulary([str(w) for w in arrays["words"]], arrays["counts"])
            model = cls(
                config,
                vocab,
                arrays["syn0"],
                arrays["syn1"],
                Position(**meta["position"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VectorFileError(f"{path}: incomplete checkpoint ({exc})") from exc
        if model.syn0.shape != (len(vocab), config.dim):
            raise VectorFileError(
                f"{path}: syn0 has shape {model.syn0.shape}, expected {(len(vocab), config.dim)}"
            )
        return model


def load_any(path: str | os.PathLike[str]) -> tuple[KeyedVectors, SkipGram | None]:
    """Vectors from a word2vec file, or from a checkpoint (then also its model)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"file not found: {os.fspath(path)}")
    if is_checkpoint(path):
        model = SkipGram.load(path)
        return model.keyed_vectors(), model
    return KeyedVectors.load(path), None
