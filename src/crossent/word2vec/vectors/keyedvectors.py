r"""Word vectors with gensim 4's ``KeyedVectors`` API: lookup, neighbours, distances, files.

Code written for gensim runs unchanged on these vectors:

    >>> import numpy as np
    >>> kv = KeyedVectors(["king", "queen", "man", "woman"], np.eye(4, dtype=np.float32) + 0.1)
    >>> kv["king"].shape, kv[["king", "man"]].shape, kv.vector_size, kv.key_to_index["man"]
    ((4,), (2, 4), 4, 2)
    >>> kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
    'queen'
    >>> kv.most_similar(kv["king"], topn=None).shape  # a vector query; topn=None: every score
    (4,)
    >>> empty = KeyedVectors(3)  # gensim's constructor: an empty table of dimension 3
    >>> empty.add_vectors(["a", "b"], np.eye(2, 3)); empty["c"] = np.ones(3); str(empty)
    'KeyedVectors<vector_size=3, 3 keys>'

Similarities are cosines :math:`\cos(x, y) = x^\top y / (\lVert x\rVert\,\lVert y\rVert)`;
``most_similar`` ranks every row ``w`` by :math:`\cos(v_w, m)` with ``m`` the weighted mean
of the unit vectors of the query keys (raw query vectors are used as given), as gensim and
word2vec.c's ``distance`` do; query keys are left out of the answer. ``similarity``,
``distance`` and ``n_similarity`` are computed in float64 and returned as ``np.float32``
(so ``similarity(w, w) == 1`` and ``distance(w, w) == 0`` exactly).

Deliberate differences from gensim 4.4: a zero vector has cosine 0 with everything (gensim:
NaN) and stays zero in ``unit_normalize_all``; ``most_similar_cosmul`` honours
``restrict_vocab`` (gensim ignores it) and normalises query vectors (gensim uses them raw,
so its scores leave [0, 1]); empty inputs raise ``ValueError`` (gensim:
``ZeroDivisionError`` in ``n_similarity``); ``evaluate_word_analogies`` answers with
3CosMul for ``similarity_function="most_similar_cosmul"`` (gensim ignores the argument);
``load_word2vec_format(binary=None)``, our default, reads either format (gensim's default
``False`` reads text only); ``wmdistance`` is 0, not ``inf``, when all costs are 0; a
``count`` given to the constructor reserves room rather than adding empty keys; new keys
must be str; ``get_vector`` returns a read-only view; ``save_word2vec_format(append=True)``
is refused (files are written whole, atomically) and a text file's values are written as
gensim writes them (shortest float32 decimals), binary records end in a newline as
word2vec.c's do. Unknown keys raise :class:`UnknownWordError`, a ``KeyError`` like gensim's,
listing close matches.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np

from crossent.word2vec.formats.io import load_word2vec, save_word2vec
from crossent.word2vec.vectors import intrinsic, w2vformat, wmd
from crossent.word2vec.vectors.ranking import (
    Neighbours,
    Query,
    as_list,
    limit_rows,
    ranking,
    weighted_terms,
)
from crossent.word2vec.vectors.similarities import CosineTable
from crossent.word2vec.vectors.vectortable import Key, Term, UnknownWordError, unit_vector

__all__ = [
    "REAL",
    "KeyedVectors",
    "UnknownWordError",
    "load_word2vec_format",
    "pseudorandom_weak_vector",
]

REAL = np.float32
"""gensim's name for the vectors' default dtype."""


class KeyedVectors(CosineTable):
    """Word vectors with gensim 4's KeyedVectors methods (see the module docstring)."""

    def closer_than(self, key1: Key, key2: Key) -> list[str]:
        """Keys closer to ``key1`` than ``key2`` is (``key1`` itself left out)."""
        dist = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.flatnonzero(dist < dist[i2]) if i != i1]

    def words_closer_than(self, word1: Key, word2: Key) -> list[str]:
        """Deprecated (as in gensim 4): :meth:`closer_than`."""
        warnings.warn(
            "Call to deprecated `words_closer_than` (use closer_than instead, as in gensim 4)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.closer_than(word1, word2)

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
    @ranking
    def most_similar(
        self, positive: Query, negative: Query, restrict_vocab: int | None
    ) -> tuple[np.ndarray, list[Any]]:
        """The ``topn`` keys nearest (cosine) to the weighted mean of the unit vectors of
        ``positive`` (weight +1) and ``negative`` (weight −1) keys or raw vectors; items may
        be ``(term, weight)``. Among the first ``restrict_vocab`` rows if given; ``topn=None``
        returns the cosines ``[restrict_vocab or V]`` of every row instead."""
        terms, weights = weighted_terms(positive, negative)
        limit = limit_rows(self, restrict_vocab)
        mean = self.get_mean_vector(terms, weights, post_normalize=True, ignore_missing=False)
        scores: np.ndarray = (self.vectors[:limit] @ mean) / self._divisors()[:limit]
        return scores, terms

    @ranking
    def most_similar_cosmul(
        self, positive: Query, negative: Query, restrict_vocab: int | None
    ) -> tuple[np.ndarray, list[Any]]:
        """3CosMul (Levy & Goldberg 2014): rank rows ``w`` by
        :math:`\\prod_{p} s_{wp} / (\\prod_{n} s_{wn} + 10^{-6})`, :math:`s = (1 + \\cos)/2`."""
        pos, neg = as_list(positive), as_list(negative)
        if not pos:
            raise ValueError("positive: expected at least one key or vector, got none")
        limit = limit_rows(self, restrict_vocab)
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

    @overload
    def similar_by_word(
        self, word: Key, topn: int = ..., restrict_vocab: int | None = ...
    ) -> Neighbours: ...
    @overload
    def similar_by_word(
        self, word: Key, topn: None, restrict_vocab: int | None = ...
    ) -> np.ndarray: ...
    def similar_by_word(
        self, word: Key, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> Neighbours | np.ndarray:
        """gensim's alias of :meth:`similar_by_key`."""
        return self.most_similar([word], None, topn, restrict_vocab)

    def relative_cosine_similarity(self, wa: Key, wb: Key, topn: int = 10) -> float:
        """Relative cosine similarity (Leeuwenberg et al. 2016):
        :math:`\\cos(a, b) / \\sum_{w \\in N_k(a)} \\cos(a, w)` over the ``topn`` nearest
        neighbours :math:`N_k(a)` of ``wa``."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError(f"topn: expected neighbours of {wa!r} to compare with, got none")
        return float(self.similarity(wa, wb)) / sum(s for _, s in sims)

    def vectors_for_all(
        self, keys: Iterable[Key], allow_inference: bool = True, copy_vecattrs: bool = False
    ) -> KeyedVectors:
        """A new table of the known ``keys`` (each once, in the given order); their
        attributes copied if ``copy_vecattrs``, else made-up decreasing counts as gensim.
        ``allow_inference`` is gensim's (for FastText): nothing is inferred here."""
        rows = list(dict.fromkeys(self.get_index(k) for k in keys if self.has_index_for(k)))
        words = [self.index_to_key[r] for r in rows]
        table = KeyedVectors(words, self.vectors[rows], counts=len(rows) - np.arange(len(rows)))
        table.vectors = self.vectors[rows]  # the same dtype as ours
        if copy_vecattrs:
            table.expandos.update({a: v[rows] for a, v in self.expandos.items()})
        return table

    wmdistance = wmd.wmdistance

    # --- files and evaluation -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str], *, binary: bool | None = None) -> KeyedVectors:
        """Read a word2vec binary or text file (gensim's and word2vec.c's included); a word
        that is not valid UTF-8 (word2vec.c cuts long words) gets U+FFFD in place."""
        words, vectors = load_word2vec(path, binary=binary)
        return w2vformat.from_records(cls, words, vectors)

    def save(self, path: str | os.PathLike[str], *, binary: bool = True) -> None:
        """Write in word2vec binary (default) or text format, atomically, in row order."""
        save_word2vec(path, self.index_to_key, self.vectors, binary=binary)

    # gensim's file methods: :mod:`crossent.word2vec.vectors.w2vformat`, on our validating
    # reader and atomic writer.
    @classmethod
    def load_word2vec_format(
        cls,
        fname: str | os.PathLike[str],
        fvocab: str | os.PathLike[str] | None = None,
        binary: bool | None = None,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype: Any = REAL,
        no_header: bool = False,
    ) -> KeyedVectors:
        """gensim's loader (arguments in gensim's order): see
        :func:`~crossent.word2vec.vectors.w2vformat.load_word2vec_format`."""
        return w2vformat.load_word2vec_format(
            cls, fname, fvocab, binary, encoding, unicode_errors, limit, datatype, no_header
        )

    save_word2vec_format = w2vformat.save_word2vec_format
    intersect_word2vec_format = w2vformat.intersect_word2vec_format

    # gensim's evaluation methods: the functions of :mod:`crossent.word2vec.vectors.intrinsic`,
    # bound (``self`` is their ``kv``), so that their signatures and results are the same.
    evaluate_word_pairs = intrinsic.evaluate_word_pairs
    evaluate_word_analogies = intrinsic.evaluate_word_analogies


def _load_word2vec_format(
    cls: type[KeyedVectors] = KeyedVectors,
    fname: str | os.PathLike[str] = "",
    fvocab: str | os.PathLike[str] | None = None,
    binary: bool | None = None,
    encoding: str = "utf8",
    unicode_errors: str = "strict",
    limit: int | None = None,
    datatype: Any = REAL,
    no_header: bool = False,
    binary_chunk_size: int = 100 * 1024,
) -> KeyedVectors:
    """gensim's module-level loader, for code that calls it: as
    :meth:`KeyedVectors.load_word2vec_format` (``binary_chunk_size`` is accepted and unused:
    the file is memory-mapped)."""
    del binary_chunk_size
    return w2vformat.load_word2vec_format(
        cls, fname, fvocab, binary, encoding, unicode_errors, limit, datatype, no_header
    )


def load_word2vec_format(*args: Any, **kwargs: Any) -> KeyedVectors:
    """gensim's module-level alias of :meth:`KeyedVectors.load_word2vec_format`."""
    kv: KeyedVectors = KeyedVectors.load_word2vec_format(*args, **kwargs)
    return kv


def pseudorandom_weak_vector(
    size: int, seed_string: str | None = None, hashfxn: Any = hash
) -> np.ndarray:
    """gensim's small random vector ``[size]``: uniform in :math:`[-0.5, 0.5) / size`,
    float32; from ``hashfxn(seed_string)`` when given, else from fresh entropy."""
    seed = hashfxn(seed_string) & 0xFFFFFFFF if seed_string else None
    vector: np.ndarray = (np.random.default_rng(seed).random(size, dtype=np.float32) - 0.5) / size
    return vector
