"""The storage under :class:`~crossent.word2vec.KeyedVectors`: rows, keys, norms, means.

gensim 4's names and conventions: ``index_to_key`` / ``key_to_index``, integer keys address
rows, ``get_vector(key, norm=True)`` is the unit vector, ``norms`` is filled on demand.
Cosine :math:`\\cos(x, y) = x^\\top y / (\\lVert x\\rVert\\,\\lVert y\\rVert)`, 0 for a zero vector.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

Key: TypeAlias = str | int | np.integer
"""A word, or (gensim's convention) an integer row index."""
Term: TypeAlias = Key | np.ndarray
"""A key or a raw vector ``[D]``."""


class UnknownWordError(KeyError):
    """A word that is not in the vocabulary; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class VectorTable:
    """``vectors [V, D]`` (float32) for ``words``, most frequent first.

    ``index_to_key`` / ``key_to_index`` are gensim's names for ``words`` / ``index``;
    ``norms [V]`` is filled on demand (:meth:`fill_norms`) and reset by :meth:`add_vectors`.
    """

    words: list[str]
    vectors: np.ndarray
    index: dict[str, int] = field(default_factory=dict)
    norms: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(
                f"vectors: expected shape [{len(self.words)}, D] for {len(self.words)} words, "
                f"got {self.vectors.shape}"
            )
        if not self.index:
            self.index = {w: i for i, w in enumerate(self.words)}
        self.norms = None

    # --- gensim's names -------------------------------------------------------------------
    @property
    def index_to_key(self) -> list[str]:
        return self.words

    @property
    def key_to_index(self) -> dict[str, int]:
        return self.index

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, key: object) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key: object) -> bool:
        """Whether ``key`` is a word of the vocabulary (or, as gensim, a valid row index)."""
        if isinstance(key, str):
            return key in self.index
        return isinstance(key, (int, np.integer)) and 0 <= int(key) < len(self)

    def get_index(self, key: Key, default: int | None = None) -> int:
        """The row of ``key`` (a word, or an int row index); ``default`` if given, else
        :class:`UnknownWordError`."""
        if isinstance(key, str) and key in self.index:
            return self.index[key]
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= int(key) < len(self):
                return int(key)
        elif not isinstance(key, str):
            raise TypeError(f"key: expected a str or an int, got {type(key).__name__}")
        if default is not None:
            return default
        raise self._unknown(key)

    def _unknown(self, key: Key) -> UnknownWordError:
        if not isinstance(key, str):
            return UnknownWordError(f"index {key} is out of range for {len(self)} vectors")
        close = difflib.get_close_matches(key, self.words[:50_000], n=5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return UnknownWordError(f"word {key!r} is not in the vocabulary of {len(self)} words{hint}")

    def __getitem__(self, key_or_keys: Key | Iterable[Key]) -> np.ndarray:
        """The vector ``[D]`` of one key, or ``[k, D]`` for a list of keys."""
        if isinstance(key_or_keys, (str, int, np.integer)):
            return self.get_vector(key_or_keys)
        rows = [self.get_index(k) for k in key_or_keys]
        stacked: np.ndarray = self.vectors[rows]
        return stacked

    def __setitem__(self, keys: Key | list[Key], weights: np.ndarray) -> None:
        """Add or replace vectors (gensim: ``add_vectors(..., replace=True)``)."""
        self.add_vectors(keys, weights, replace=True)

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The vector ``[D]`` of ``key`` (unit length if ``norm``), read-only."""
        i = self.get_index(key)
        vector: np.ndarray = self.vectors[i] / self._divisors()[i] if norm else self.vectors[i]
        vector.setflags(write=False)
        return vector

    # --- norms ----------------------------------------------------------------------------
    def fill_norms(self, force: bool = False) -> None:
        """Compute ``norms [V]`` (float32 Euclidean lengths) if absent or ``force``."""
        if self.norms is None or force:
            self.norms = np.linalg.norm(self.vectors, axis=1)

    def _divisors(self) -> np.ndarray:
        """The norms with 0 replaced by 1: a zero vector stays zero when normalised."""
        self.fill_norms()
        assert self.norms is not None
        return np.where(self.norms == 0, np.float32(1), self.norms)

    def get_normed_vectors(self) -> np.ndarray:
        """Every vector scaled to unit length: ``[V, D]``."""
        normed: np.ndarray = self.vectors / self._divisors()[:, None]
        return normed

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """:math:`\\cos(x, y_i)` of ``vector_1 [D]`` with each row of ``vectors_all [N, D]``."""
        norms = np.linalg.norm(vectors_all, axis=1) * np.linalg.norm(vector_1)
        sims: np.ndarray = (vectors_all @ vector_1) / np.where(norms == 0, 1, norms)
        return sims

    # --- adding vectors -------------------------------------------------------------------
    def add_vectors(
        self, keys: Key | list[Key], weights: np.ndarray | list[np.ndarray], replace: bool = False
    ) -> None:
        """Append new keys with their vectors ``weights [k, D]``; existing keys keep their
        vectors unless ``replace``."""
        key_list = [keys] if isinstance(keys, (str, int, np.integer)) else list(keys)
        rows = np.asarray(weights, dtype=np.float32).reshape(len(key_list), -1)
        if rows.shape[1] != self.vector_size:
            raise ValueError(
                f"weights: expected {len(key_list)} vectors of size {self.vector_size}, "
                f"got shape {np.shape(weights)}"
            )
        new = [k for k in key_list if not self.has_index_for(k)]
        if any(not isinstance(k, str) for k in new):
            raise TypeError("keys: new keys must be str (ints address existing rows)")
        fresh = np.asarray([not self.has_index_for(k) for k in key_list], dtype=bool)
        for k in new:
            self.index[str(k)] = len(self.words)
            self.words.append(str(k))
        self.vectors = np.concatenate([self.vectors, rows[fresh]])
        if replace and not fresh.all():
            old = [self.get_index(k) for k, f in zip(key_list, fresh, strict=True) if not f]
            self.vectors[old] = rows[~fresh]
        self.norms = None

    def add_vector(self, key: str, vector: np.ndarray) -> int:
        """Add one vector; returns its row (gensim keeps an existing key's vector)."""
        self.add_vectors([key], np.asarray(vector)[None, :])
        return self.get_index(key)

    # --- means and similarities -----------------------------------------------------------
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

    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two keys."""
        return float(self.get_vector(w1, norm=True) @ self.get_vector(w2, norm=True))

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        """Cosine of the mean (raw) vectors of two sets of keys (unknown keys ignored)."""
        if not (len(ws1) and len(ws2)):
            raise ValueError("ws1, ws2: expected two non-empty lists of keys")
        a = self.get_mean_vector(ws1, pre_normalize=False)
        b = self.get_mean_vector(ws2, pre_normalize=False)
        return float(unit_vector(a) @ unit_vector(b))

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance :math:`1 - \\cos` of two keys."""
        return 1.0 - self.similarity(w1, w2)

    def distances(self, word_or_vector: Term, other_words: Sequence[Key] = ()) -> np.ndarray:
        """Cosine distances ``[N]`` from a key or vector to ``other_words`` (all if empty)."""
        if isinstance(word_or_vector, np.ndarray):
            source = self._check_vector(word_or_vector, "word_or_vector")
        else:
            source = self.get_vector(word_or_vector)
        others = self.vectors[[self.get_index(k) for k in other_words]] if other_words else None
        sims = self.cosine_similarities(source, self.vectors if others is None else others)
        return 1 - sims


def unit_vector(x: np.ndarray) -> np.ndarray:
    """``x / |x|`` (``x`` itself when zero)."""
    norm = float(np.linalg.norm(x))
    return x / np.float32(norm) if norm > 0 else x
