"""The shared shape of gensim's ranking methods (``most_similar``, ``most_similar_cosmul``):
``(positive=None, negative=None, topn=10, restrict_vocab=None)``, with gensim's ways of
giving the query — one key or vector, a matrix of vectors, a list of keys, vectors or
``(term, weight)`` pairs — and its answer: ``(key, score)`` pairs for an int ``topn``, every
row's score for ``topn=None``. The typing here lets mypy tell the two answers apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast, overload

import numpy as np

from crossent.word2vec.vectors.vectortable import Term

if TYPE_CHECKING:
    from crossent.word2vec.vectors.keyedvectors import KeyedVectors

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
    """What :func:`ranking` returns, for type checkers: a function whose bound form is
    a :class:`_Ranking`."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[..., Neighbours | np.ndarray]: ...
    @overload
    def __get__(self, obj: KeyedVectors, owner: type[Any]) -> _Ranking: ...


_Scorer: TypeAlias = Callable[
    ["KeyedVectors", Query, Query, "int | None"], tuple[np.ndarray, list[Any]]
]


def ranking(score: _Scorer) -> _RankingMethod:
    """The public method ``(positive=None, negative=None, topn=10, restrict_vocab=None)``
    made of ``score(self, positive, negative, restrict_vocab)`` → ``(scores [limit], query
    terms)``: the ``topn`` best rows as :func:`ranked` picks them. It keeps
    ``score``'s name and docstring."""

    def method(
        self: KeyedVectors,
        positive: Query = None,
        negative: Query = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> Neighbours | np.ndarray:
        scores, terms = score(self, positive, negative, restrict_vocab)
        return ranked(self, scores, terms, topn)

    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(method, attr, getattr(score, attr))
    return cast(_RankingMethod, method)


def as_list(value: Query) -> list[Any]:
    """gensim's convention: one key or vector, a matrix of vectors, or a list of items."""
    if value is None:
        return []
    if isinstance(value, (str, int, np.integer)):
        return [value]
    if isinstance(value, np.ndarray):
        return [value] if value.ndim == 1 else list(value)
    return list(value)


def weighted_terms(positive: Query, negative: Query) -> tuple[list[Term], np.ndarray]:
    """The query's terms and weights (+1 positive, −1 negative, unless given)."""
    pos, neg = as_list(positive), as_list(negative)
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


def ranked(
    kv: KeyedVectors, scores: np.ndarray, terms: Sequence[Any], topn: int | None
) -> Neighbours | np.ndarray:
    """The ``topn`` best rows of ``kv`` by decreasing score, the rows of key ``terms`` left
    out (``scores`` itself for ``topn=None``)."""
    if topn is None:
        return scores
    if not isinstance(topn, (int, np.integer)) or isinstance(topn, bool):
        raise TypeError(f"topn: expected an int or None, got {topn!r}")
    if topn < 1:
        return []
    skip = {kv.get_index(t) for t in terms if not isinstance(t, np.ndarray)}
    k = min(int(topn) + len(skip), len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(kv.index_to_key[i], float(scores[i])) for i in best if i not in skip][:topn]


def limit_rows(kv: KeyedVectors, restrict_vocab: int | None) -> int:
    """How many rows a query ranks: the first ``restrict_vocab`` (all for None or 0)."""
    if restrict_vocab is None or restrict_vocab == 0:
        return len(kv)
    if not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab < 0:
        raise ValueError(f"restrict_vocab: expected a positive int or None, got {restrict_vocab!r}")
    return min(int(restrict_vocab), len(kv))
