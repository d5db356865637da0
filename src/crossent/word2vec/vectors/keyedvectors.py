r"""Word vectors with gensim 4's ``KeyedVectors`` API: lookup, neighbours, distances, files.

Code written for gensim runs unchanged on these vectors:

>>> import numpy as np
>>> kv = KeyedVectors(["king", "queen", "man", "woman"], np.eye(4, dtype=np.float32) + 0.1)
>>> kv["king"].shape, kv[["king", "man"]].shape, kv.vector_size, kv.key_to_index["man"]
((4,), (2, 4), 4, 2)
>>> [w for w, _ in kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)]
['queen']
>>> kv.most_similar(kv["king"], topn=None).shape  # a vector query; topn=None: every score
(4,)

Similarities are cosines :math:`\cos(x, y) = x^\top y / (\lVert x\rVert\,\lVert y\rVert)`;
``most_similar`` ranks every row ``w`` by :math:`\cos(v_w, m)` with ``m`` the weighted mean
of the unit vectors of the query keys (raw query vectors are used as given), as gensim and
word2vec.c's ``distance`` do; query keys are left out of the answer.

Deliberate differences from gensim 4.4: a zero vector has cosine 0 with everything (gensim:
NaN); ``most_similar_cosmul`` honours ``restrict_vocab`` (gensim ignores it) and normalises
query vectors (gensim uses them raw, so its scores leave [0, 1]); empty inputs raise
``ValueError`` (gensim: ``ZeroDivisionError`` in ``n_similarity``). Unknown keys raise
:class:`UnknownWordError`, a ``KeyError`` like gensim's, listing close matches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias, cast, overload

import numpy as np

from crossent.word2vec.formats.io import load_word2vec, save_word2vec
from crossent.word2vec.vectors import intrinsic
from crossent.word2vec.vectors.vectortable import (
    Key,
    Term,
    UnknownWordError,
    VectorTable,
    unit_vector,
)

__all__ = ["KeyedVectors", "UnknownWordError"]

Query: TypeAlias = Term | Sequence[Term | tuple[Term, float]] | None
"""One term, a matrix ``[k, D]`` of vectors, or a list of terms or ``(term, weight)`` pairs."""
Neighbours: TypeAlias = list[tuple[str, float]]


class _Ranking(Protocol):
    """The call of ``most_similar`` and ``most_similar_cosmul``: ``(key, score)`` pairs for
    an int ``topn``, the scores ``[restrict_vocab or V]`` of every row for ``topn=None``."""

    @overload
    def __call__(
        self,
        positive: Query = ...,
        negative: Query = ...,
        topn: int = ...,
        restrict_vocab: int | None = ...,
    ) -> Neighbours: ...
    @overload
    def __call__(
        self, positive: Query, negative: Query, topn: None, restrict_vocab: int | None = ...
    ) -> np.ndarray: ...
    @overload
    def __call__(
        self,
        positive: Query = ...,
        negative: Query = ...,
        *,
        topn: None,
        restrict_vocab: int | None = ...,
    ) -> np.ndarray: ...


class _RankingMethod(Protocol):
    """What :func:`_ranking` returns, for type checkers: a function whose bound form is
    a :class:`_Ranking`."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[..., Neighbours | np.ndarray]: ...
    @overload
    def __get__(self, obj: KeyedVectors, owner: type[Any]) -> _Ranking: ...


_Scorer: TypeAlias = Callable[
    ["KeyedVectors", Query, Query, "int | None"], tuple[np.ndarray, list[Any]]
]


def _ranking(score: _Scorer) -> _RankingMethod:
    """The public method ``(positive=None, negative=None, topn=10, restrict_vocab=None)``
    made of ``score(self, positive, negative, restrict_vocab)`` → ``(scores [limit], query
    terms)``: the ``topn`` best rows as :meth:`KeyedVectors._ranked` picks them. It keeps
    ``score``'s name and docstring."""

    def method(
        self: KeyedVectors,
        positive: Query = None,
        negative: Query = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> Neighbours | np.ndarray:
        scores, terms = score(self, positive, negative, restrict_vocab)
        return self._ranked(scores, terms, topn)

    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(method, attr, getattr(score, attr))
    return cast(_RankingMethod, method)


class KeyedVectors(VectorTable):
    """Word vectors with gensim 4's KeyedVectors methods (see the module docstring)."""

    def closer_than(self, key1: Key, key2: Key) -> list[str]:
        """Keys closer to ``key1`` than ``key2`` is (``key1`` itself left out)."""
        dist = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.words[i] for i in np.flatnonzero(dist < dist[i2]) if i != i1]

    words_closer_than = closer_than

    def rank(self, key1: Key, key2: Key) -> int:
        """1 + the number of keys closer to ``key1`` than ``key2``."""
        return len(self.closer_than(key1, key2)) + 1

    def rank_by_centrality(
        self, words: Sequence[str], use_norm: bool = True
    ) -> list[tuple[float, str]]:
        """``(cosine to the centroid, word)`` of the known ``words``, most central first."""
        used = [w for w in words if w in self]
        if not used:
            raise ValueError(f"words: none of {list(words)[:5]} is in the vocabulary")
        vectors = np.stack([self.get_vector(w, norm=use_norm) for w in used])
        centre = unit_vector(vectors.mean(axis=0))
        return sorted(zip((float(x) for x in vectors @ centre), used, strict=True), reverse=True)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the centroid of the (unit) vectors of ``words``."""
        return self.rank_by_centrality(words)[-1][1]

    # --- neighbours -----------------------------------------------------------------------
    @_ranking
    def most_similar(
        self, positive: Query, negative: Query, restrict_vocab: int | None
    ) -> tuple[np.ndarray, list[Any]]:
        """The ``topn`` keys nearest (cosine) to the weighted mean of the unit vectors of
        ``positive`` (weight +1) and ``negative`` (weight −1) keys or raw vectors; items may
        be ``(term, weight)``. Among the first ``restrict_vocab`` rows if given; ``topn=None``
        returns the cosines ``[restrict_vocab or V]`` of every row instead."""
        terms, weights = _weighted_terms(positive, negative)
        limit = self._limit(restrict_vocab)
        mean = self.get_mean_vector(terms, weights, post_normalize=True, ignore_missing=False)
        scores: np.ndarray = (self.vectors[:limit] @ mean) / self._divisors()[:limit]
        return scores, terms

    @_ranking
    def most_similar_cosmul(
        self, positive: Query, negative: Query, restrict_vocab: int | None
    ) -> tuple[np.ndarray, list[Any]]:
        """3CosMul (Levy & Goldberg 2014): rank rows ``w`` by
        :math:`\\prod_{p} s_{wp} / (\\prod_{n} s_{wn} + 10^{-6})`, :math:`s = (1 + \\cos)/2`."""
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos:
            raise ValueError("positive: expected at least one key or vector, got none")
        limit = self._limit(restrict_vocab)
        unit = self.vectors[:limit] / self._divisors()[:limit, None]

        def shifted(term: Term) -> np.ndarray:
            if isinstance(term, np.ndarray):
                vec = unit_vector(self._check_vector(term, "positive"))
            else:
                vec = self.get_vector(term, norm=True)
            shift: np.ndarray = (1 + unit @ vec) / 2
            return shift

        scores = np.prod([shifted(t) for t in pos], axis=0)
        if neg:
            scores = scores / (np.prod([shifted(t) for t in neg], axis=0) + 1e-6)
        return scores.astype(np.float32), pos + neg

    @overload
    def similar_by_key(
        self, key: Key, topn: int = ..., restrict_vocab: int | None = ...
    ) -> Neighbours: ...
    @overload
    def similar_by_key(
        self, key: Key, topn: None, restrict_vocab: int | None = ...
    ) -> np.ndarray: ...
    def similar_by_key(
        self, key: Key, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> Neighbours | np.ndarray:
        """``most_similar(positive=[key], ...)``."""
        return self.most_similar([key], None, topn, restrict_vocab)

    @overload
    def similar_by_vector(
        self, vector: np.ndarray, topn: int = ..., restrict_vocab: int | None = ...
    ) -> Neighbours: ...
    @overload
    def similar_by_vector(
        self, vector: np.ndarray, topn: None, restrict_vocab: int | None = ...
    ) -> np.ndarray: ...
    def similar_by_vector(
        self, vector: np.ndarray, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> Neighbours | np.ndarray:
        """``most_similar(positive=[vector], ...)``: nothing is left out."""
        return self.most_similar([vector], None, topn, restrict_vocab)

    similar_by_word = similar_by_key

    def _limit(self, restrict_vocab: int | None) -> int:
        if restrict_vocab is None or restrict_vocab == 0:
            return len(self)
        if not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab < 0:
            raise ValueError(
                f"restrict_vocab: expected a positive int or None, got {restrict_vocab!r}"
            )
        return min(int(restrict_vocab), len(self))

    def _ranked(
        self, scores: np.ndarray, terms: Sequence[Any], topn: int | None
    ) -> Neighbours | np.ndarray:
        """``topn`` best rows by decreasing score, the rows of key ``terms`` left out."""
        if topn is None:
            return scores
        if not isinstance(topn, (int, np.integer)) or isinstance(topn, bool):
            raise TypeError(f"topn: expected an int or None, got {topn!r}")
        if topn < 1:
            return []
        skip = {self.get_index(t) for t in terms if not isinstance(t, np.ndarray)}
        k = min(int(topn) + len(skip), len(scores))
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in best if i not in skip][:topn]

    # --- files and evaluation -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str], *, binary: bool | None = None) -> KeyedVectors:
        """Read a word2vec binary or text file (gensim's and word2vec.c's included)."""
        words, vectors = load_word2vec(path, binary=binary)
        return cls(words, vectors)

    @classmethod
    def load_word2vec_format(
        cls, fname: str | os.PathLike[str], binary: bool | None = None, limit: int | None = None
    ) -> KeyedVectors:
        """gensim's loader: the first ``limit`` vectors of a text or binary file (``.gz``
        too); ``binary=None`` detects the format from the content."""
        words, vectors = load_word2vec(fname, binary=binary, limit=limit)
        return cls(words, vectors)

    def save(self, path: str | os.PathLike[str], *, binary: bool = True) -> None:
        """Write in word2vec binary (default) or text format, atomically."""
        save_word2vec(path, self.words, self.vectors, binary=binary)

    def save_word2vec_format(self, fname: str | os.PathLike[str], binary: bool = False) -> None:
        """gensim's writer (text by default, as gensim), atomically."""
        save_word2vec(fname, self.words, self.vectors, binary=binary)

    # gensim's evaluation methods: the functions of :mod:`crossent.word2vec.vectors.intrinsic`,
    # bound (``self`` is their ``kv``), so that their signatures and results are the same.
    evaluate_word_pairs = intrinsic.evaluate_word_pairs
    evaluate_word_analogies = intrinsic.evaluate_word_analogies


def _as_list(value: Query) -> list[Any]:
    """gensim's convention: one key or vector, a matrix of vectors, or a list of items."""
    if value is None:
        return []
    if isinstance(value, (str, int, np.integer)):
        return [value]
    if isinstance(value, np.ndarray):
        return [value] if value.ndim == 1 else list(value)
    return list(value)


def _weighted_terms(positive: Query, negative: Query) -> tuple[list[Term], np.ndarray]:
    """The query's terms and weights (+1 positive, −1 negative, unless given)."""
    pos, neg = _as_list(positive), _as_list(negative)
    if not pos and not neg:
        raise ValueError("positive, negative: expected at least one key or vector, got none")
    terms: list[Term] = []
    weights = np.concatenate([np.ones(len(pos)), -np.ones(len(neg))])
    for i, item in enumerate(pos + neg):
        if isinstance(item, tuple):
            terms.append(item[0])
            weights[i] = item[1]
        else:
            terms.append(item)
    return terms, weights
