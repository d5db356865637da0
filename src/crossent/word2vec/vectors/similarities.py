r"""Cosines between the rows of a :class:`~.vectortable.VectorTable`: pairs, sets, means.

:math:`\cos(x, y) = x^\top y / (\lVert x\rVert\,\lVert y\rVert)`, 0 when either vector is
zero. The one-pair scores (``similarity``, ``distance``, ``n_similarity``) are computed in
float64 as :math:`x^\top y / \sqrt{(x^\top x)(y^\top y)}` and returned as ``np.float32``
(gensim's type): a key's similarity with itself is exactly 1 and its distance exactly 0.
The bulk scores (``distances``, ``cosine_similarities``) stay in the vectors' dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from crossent.word2vec.vectors.vectortable import Key, Term, VectorTable, unit_vector


def cosine64(x: np.ndarray, y: np.ndarray) -> float:
    """:math:`\\cos(x, y)` of two vectors ``[D]`` in float64 (0 if either is zero); equal
    vectors give exactly 1, since :math:`\\sqrt{s^2} = s` in floating point."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    squares = float(a @ a) * float(b @ b)
    if squares == 0.0:
        return 0.0
    return max(-1.0, min(1.0, float(a @ b) / math.sqrt(squares)))


class CosineTable(VectorTable):
    """A :class:`VectorTable` with gensim's similarity methods (see the module docstring)."""

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """:math:`\\cos(x, y_i)` of ``vector_1 [D]`` with each row of ``vectors_all [N, D]``."""
        norms = np.linalg.norm(vectors_all, axis=1) * np.linalg.norm(vector_1)
        sims: np.ndarray = (vectors_all @ vector_1) / np.where(norms == 0, 1, norms)
        return sims

    def similarity(self, w1: Key, w2: Key) -> np.float32:
        """Cosine similarity of two keys (float64 inside, ``np.float32`` as gensim)."""
        cosine: np.float32 = np.float32(cosine64(self.get_vector(w1), self.get_vector(w2)))
        return cosine

    def distance(self, w1: Key, w2: Key) -> np.float32:
        """Cosine distance :math:`1 - \\cos` of two keys: ``1 - similarity(w1, w2)``."""
        gap: np.float32 = np.float32(1) - self.similarity(w1, w2)
        return gap

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> np.float32:
        """Cosine of the mean (raw) vectors of two sets of keys (unknown keys ignored)."""
        if not (len(ws1) and len(ws2)):
            raise ValueError("ws1, ws2: expected two non-empty lists of keys")
        a = self.get_mean_vector(ws1, pre_normalize=False)
        b = self.get_mean_vector(ws2, pre_normalize=False)
        cosine: np.float32 = np.float32(cosine64(a, b))
        return cosine

    def distances(self, word_or_vector: Term, other_words: Sequence[Key] = ()) -> np.ndarray:
        """Cosine distances ``[N]`` from a key or vector to ``other_words`` (all if empty)."""
        if isinstance(word_or_vector, np.ndarray):
            source = self._check_vector(word_or_vector, "word_or_vector")
        else:
            source = self.get_vector(word_or_vector)
        others = self.vectors[[self.get_index(k) for k in other_words]] if other_words else None
        sims = self.cosine_similarities(source, self.vectors if others is None else others)
        return 1 - sims

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[Key]) -> Key:
        """The key of ``keys_list`` most similar to ``key1`` (the first of ties)."""
        if not len(keys_list):
            raise ValueError("keys_list: expected at least one key, got none")
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def get_mean_vector(
        self,
        keys: Sequence[Term],
        weights: Sequence[float] | np.ndarray | None = None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """:math:`\\sum_i w_i x_i / \\sum_i |w_i|` over the keys' vectors (unit vectors if
        ``pre_normalize``) or raw vectors given in ``keys``; ``[D]``."""
        if len(keys) == 0:
            raise ValueError("keys: expected at least one key or vector, got none")
        w = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(keys),):
            raise ValueError(f"weights: expected {len(keys)} weights, got shape {w.shape}")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        total = 0.0
        for key, weight in zip(keys, w, strict=True):
            if isinstance(key, np.ndarray):
                vec = self._check_vector(key, "keys")
            elif self.has_index_for(key):
                vec = self.get_vector(key, norm=pre_normalize)
            elif ignore_missing:
                continue
            else:
                raise self._unknown(key)
            mean += np.float32(weight) * vec
            total += abs(float(weight))
        if total > 0:
            mean /= np.float32(total)
        return unit_vector(mean) if post_normalize else mean

    def _check_vector(self, vector: np.ndarray, name: str) -> np.ndarray:
        if vector.shape != (self.vector_size,):
            raise ValueError(
                f"{name}: expected a vector of shape ({self.vector_size},), got {vector.shape}"
            )
        return np.asarray(vector, dtype=np.float32)
