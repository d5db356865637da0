"""The storage under :class:`~crossent.word2vec.KeyedVectors`: rows, keys, per-key attributes,
norms.

gensim 4's names and conventions: ``index_to_key`` / ``key_to_index``, integer keys address
rows, ``get_vector(key, norm=True)`` is the unit vector, ``norms`` is filled on demand,
per-key attributes (word counts) through ``get_vecattr`` / ``set_vecattr``. Two
constructors: ours, ``VectorTable(words, vectors)``, and gensim's empty table,
``VectorTable(vector_size, count=0, dtype=np.float32)``, filled with ``add_vector(s)``
(``count`` reserves room: appending one key at a time costs amortised :math:`O(D)`).
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

Key: TypeAlias = str | int | np.integer
"""A word, or (gensim's convention) an integer row index."""
Term: TypeAlias = Key | np.ndarray
"""A key or a raw vector ``[D]``."""


class UnknownWordError(KeyError):
    """A word that is not in the vocabulary; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class VectorTable:
    """``vectors [V, D]`` for the keys ``index_to_key`` (``key_to_index`` the reverse map),
    most frequent first; ``expandos`` holds per-key attribute arrays ``[V]`` (gensim's
    name), ``norms [V]`` is filled on demand (:meth:`fill_norms`) and reset by changes.

    ``VectorTable(words, vectors, index=None, counts=None)``: the table of ``vectors``
    (float32) for ``words``, with word ``counts`` (the ``"count"`` attribute) if given.
    ``VectorTable(vector_size, count=0, dtype=np.float32, mapfile_path=None)``: gensim's
    empty table of dimension ``vector_size``, with room reserved for ``count`` keys.
    """

    index_to_key: list[str]
    key_to_index: dict[str, int]
    vectors: np.ndarray
    norms: np.ndarray | None
    expandos: dict[str, np.ndarray]
    mapfile_path: str | None

    @overload
    def __init__(
        self,
        words: Sequence[str],
        vectors: ArrayLike,
        index: Mapping[str, int] | None = None,
        *,
        counts: ArrayLike | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        vector_size: int,
        count: int = 0,
        dtype: DTypeLike = np.float32,
        mapfile_path: str | None = None,
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.norms, self.expandos, self.mapfile_path = None, {}, None
        self._buffer: np.ndarray | None = None  # room for rows appended later
        if (args and _is_int(args[0])) or "vector_size" in kwargs:
            self._init_empty(*args, **kwargs)
        else:
            self._init_table(*args, **kwargs)

    def _init_empty(
        self,
        vector_size: int,
        count: int = 0,
        dtype: DTypeLike = np.float32,
        mapfile_path: str | None = None,
    ) -> None:
        if not _is_int(vector_size) or vector_size < 1:
            raise ValueError(f"vector_size: expected a positive int, got {vector_size!r}")
        if not _is_int(count) or count < 0:
            raise ValueError(f"count: expected a non-negative int, got {count!r}")
        kind = np.dtype(dtype)
        if kind.kind != "f":
            raise ValueError(f"dtype: expected a floating-point type, got {kind}")
        self.index_to_key, self.key_to_index = [], {}
        self._buffer = np.zeros((int(count), int(vector_size)), dtype=kind)
        self.vectors = self._buffer[:0]
        self.mapfile_path = mapfile_path

    def _init_table(
        self,
        words: Sequence[str],
        vectors: ArrayLike,
        index: Mapping[str, int] | None = None,
        *,
        counts: ArrayLike | None = None,
    ) -> None:
        self.index_to_key = list(words)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.index_to_key):
            raise ValueError(
                f"vectors: expected shape [{len(self.index_to_key)}, D] for "
                f"{len(self.index_to_key)} words, got {self.vectors.shape}"
            )
        bad = next((w for w in self.index_to_key if not isinstance(w, str)), None)
        if bad is not None:
            raise TypeError(f"words: expected str keys, got {bad!r} ({type(bad).__name__})")
        given = dict(index) if index is not None else None
        self.key_to_index = given or {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError(
                f"words: expected distinct words, {_first_repeat(self.index_to_key)!r} "
                "appears twice"
            )
        if counts is not None:
            self._set_attr("count", np.asarray(counts, dtype=np.int64), "counts")

    # --- gensim's names -------------------------------------------------------------------
    @property
    def words(self) -> list[str]:
        """``index_to_key``: the keys, row by row."""
        return self.index_to_key

    @words.setter
    def words(self, value: list[str]) -> None:
        self.index_to_key = value

    @property
    def index(self) -> dict[str, int]:
        """``key_to_index``: the row of each key."""
        return self.key_to_index

    @index.setter
    def index(self, value: dict[str, int]) -> None:
        self.key_to_index = value

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def next_index(self) -> int:
        """The row the next added key takes (gensim's name)."""
        return len(self.index_to_key)

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __str__(self) -> str:
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    __repr__ = __str__

    def __contains__(self, key: object) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key: object) -> bool:
        """Whether ``key`` is a word of the vocabulary (or, as gensim, a valid row index)."""
        if isinstance(key, str):
            return key in self.key_to_index
        return _is_int(key) and 0 <= int(key) < len(self)  # type: ignore[call-overload]

    def get_index(self, key: Key, default: int | None = None) -> int:
        """The row of ``key`` (a word, or an int row index); ``default`` if given, else
        :class:`UnknownWordError`."""
        if isinstance(key, str) and key in self.key_to_index:
            return self.key_to_index[key]
        if _is_int(key):
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
        close = difflib.get_close_matches(key, self.index_to_key[:50_000], n=5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return UnknownWordError(f"word {key!r} is not in the vocabulary of {len(self)} words{hint}")

    def __getitem__(self, key_or_keys: Key | Iterable[Key]) -> np.ndarray:
        """The vector ``[D]`` of one key, or ``[k, D]`` for a list of keys."""
        if isinstance(key_or_keys, (str, int, np.integer)):
            return self.get_vector(key_or_keys)
        rows = [self.get_index(k) for k in key_or_keys]
        stacked: np.ndarray = self.vectors[rows]
        return stacked

    def __setitem__(self, keys: Key | list[Key], weights: ArrayLike) -> None:
        """Add or replace vectors (gensim: ``add_vectors(..., replace=True)``)."""
        self.add_vectors(keys, weights, replace=True)

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The vector ``[D]`` of ``key`` (unit length if ``norm``), read-only."""
        i = self.get_index(key)
        vector: np.ndarray = self.vectors[i] / self._divisors()[i] if norm else self.vectors[i]
        vector.setflags(write=False)
        return vector

    word_vec = get_vector  # gensim's alias

    # --- per-key attributes ---------------------------------------------------------------
    def set_vecattr(self, key: Key, attr: str, val: Any) -> None:
        """Store ``val`` as attribute ``attr`` of ``key`` (``"count"``: its corpus count).
        An attribute's array takes the type of its first value (int → int64, str →
        object); a later value must cast to it."""
        i = self.get_index(key)
        kind = np.asarray(val).dtype if not isinstance(val, str) else np.dtype(object)
        kind = np.dtype(np.int64) if kind.kind in "iu" and kind.itemsize < 8 else kind
        current = self.expandos.get(attr)
        if current is None:
            current = self.expandos[attr] = np.zeros(len(self), dtype=kind)
        elif not np.can_cast(kind, current.dtype, casting="same_kind"):
            raise TypeError(
                f"val: attribute {attr!r} holds {current.dtype} values, got {val!r} ({kind})"
            )
        current[i] = val

    def get_vecattr(self, key: Key, attr: str) -> Any:
        """Attribute ``attr`` of ``key`` (a NumPy scalar); ``KeyError`` if none is stored."""
        i = self.get_index(key)
        if attr not in self.expandos:
            stored = ", ".join(map(repr, self.expandos)) or "none"
            raise KeyError(f"attr: no per-key attribute {attr!r} is stored (stored: {stored})")
        return self.expandos[attr][i]

    def allocate_vecattrs(
        self, attrs: Sequence[str] | None = None, types: Sequence[DTypeLike] | None = None
    ) -> None:
        """gensim's: make sure the arrays of ``attrs`` (of ``types``) exist, one value per
        key (new rows 0); without arguments, resize every stored array."""
        for attr, kind in zip(attrs or [], types or [], strict=True):
            if attr not in self.expandos:
                self.expandos[attr] = np.zeros(len(self), dtype=kind)
        for attr, values in self.expandos.items():
            if len(values) != len(self):
                grown = np.zeros(len(self), dtype=values.dtype)
                grown[: min(len(values), len(self))] = values[: len(self)]
                self.expandos[attr] = grown

    def _set_attr(self, attr: str, values: np.ndarray, name: str) -> None:
        if values.shape != (len(self),):
            raise ValueError(f"{name}: expected {len(self)} values, got shape {values.shape}")
        self.expandos[attr] = values

    def sort_by_descending_frequency(self) -> None:
        """Reorder the rows by decreasing ``"count"`` attribute, ties as gensim orders them
        (the later row first); ``KeyError`` without counts."""
        if not len(self):
            return
        if "count" not in self.expandos:
            raise KeyError("sort_by_descending_frequency: no 'count' attribute is stored")
        counts = self.expandos["count"].astype(np.int64)
        order = np.lexsort((-np.arange(len(self)), -counts))
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = self.vectors[order]
        self.expandos = {attr: values[order] for attr, values in self.expandos.items()}
        self._buffer, self.norms = None, None

    # --- norms ----------------------------------------------------------------------------
    def fill_norms(self, force: bool = False) -> None:
        """Compute ``norms [V]`` (Euclidean lengths) if absent, stale or ``force``."""
        if self.norms is None or force or len(self.norms) != len(self.vectors):
            self.norms = np.linalg.norm(self.vectors, axis=1)

    def _divisors(self) -> np.ndarray:
        """The norms with 0 replaced by 1: a zero vector stays zero when normalised."""
        self.fill_norms()
        assert self.norms is not None
        return np.where(self.norms == 0, np.ones((), self.norms.dtype), self.norms)

    def get_normed_vectors(self) -> np.ndarray:
        """Every vector scaled to unit length: ``[V, D]`` (a zero vector stays zero)."""
        normed: np.ndarray = self.vectors / self._divisors()[:, None]
        return normed

    def init_sims(self, replace: bool = False) -> None:
        """Deprecated (as in gensim 4): :meth:`fill_norms`, and with ``replace``
        :meth:`unit_normalize_all`."""
        warnings.warn(
            "Call to deprecated `init_sims` (as in gensim 4: norms are computed when needed; "
            "use fill_norms(), or unit_normalize_all() for replace=True)",
            DeprecationWarning,
            stacklevel=2,
        )
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length in place (a zero vector stays zero); training
        cannot sensibly continue on such vectors."""
        self.vectors /= self._divisors()[:, None]
        self.norms = (np.linalg.norm(self.vectors, axis=1) > 0).astype(self.vectors.dtype)

    # --- adding vectors -------------------------------------------------------------------
    def add_vectors(
        self,
        keys: Key | Sequence[Key],
        weights: ArrayLike,
        extras: Mapping[str, ArrayLike] | None = None,
        replace: bool = False,
    ) -> None:
        """Append new keys with their vectors ``weights [k, D]`` (or one key and ``[D]``);
        existing keys keep their vectors (and ``extras``, per-key attributes ``[k]``) unless
        ``replace``. New keys must be str (ints address existing rows)."""
        key_list = [keys] if isinstance(keys, (str, int, np.integer)) else list(keys)
        rows = np.asarray(weights).reshape(len(key_list), -1)
        if rows.shape[1] != self.vector_size:
            raise ValueError(
                f"weights: expected {len(key_list)} vectors of size {self.vector_size}, "
                f"got shape {np.shape(weights)}"
            )
        if len(set(key_list)) != len(key_list):
            raise ValueError(f"keys: expected distinct keys, got {key_list[:10]!r}")
        fresh = np.asarray([not self.has_index_for(k) for k in key_list], dtype=bool)
        new = [k for k, f in zip(key_list, fresh, strict=True) if f]
        bad = next((k for k in new if not isinstance(k, str)), None)
        if bad is not None:
            raise TypeError(f"keys: new keys must be str (ints address existing rows), got {bad!r}")
        old = [self.get_index(k) for k, f in zip(key_list, fresh, strict=True) if not f]
        for k in new:
            self.key_to_index[str(k)] = len(self.index_to_key)
            self.index_to_key.append(str(k))
        self._append_rows(rows[fresh])
        self.allocate_vecattrs()
        for attr, values in (extras or {}).items():
            column = np.asarray(values)
            self.allocate_vecattrs([attr], [column.dtype])
            self.expandos[attr][len(self) - int(fresh.sum()) :] = column[fresh]
            if replace:
                self.expandos[attr][old] = column[~fresh]
        if replace and old:
            self.vectors[old] = rows[~fresh]
        self.norms = None

    def add_vector(self, key: str, vector: ArrayLike) -> int:
        """Add one vector; returns its row (gensim keeps an existing key's vector)."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.get_index(key)

    def _append_rows(self, rows: np.ndarray) -> None:
        """``vectors`` grown by ``rows``, in reserved room when there is some (doubling it
        when not), so that appending one row at a time is amortised :math:`O(D)`."""
        n, k = len(self.vectors), len(rows)
        buffer = self._buffer
        if k == 0:
            return
        shared = buffer is not None and self.vectors.base is buffer and self._at_start(buffer)
        if not shared or buffer is None or len(buffer) < n + k:
            buffer = np.empty((max(n + k, 2 * n, 16), self.vector_size), self.vectors.dtype)
            buffer[:n] = self.vectors
            self._buffer = buffer
        buffer[n : n + k] = rows
        self.vectors = buffer[: n + k]

    def _at_start(self, buffer: np.ndarray) -> bool:
        pointer: int = self.vectors.__array_interface__["data"][0]
        return bool(pointer == buffer.__array_interface__["data"][0])


def unit_vector(x: np.ndarray) -> np.ndarray:
    """``x / |x|`` (``x`` itself when zero)."""
    norm = float(np.linalg.norm(x))
    return x / np.asarray(norm, dtype=x.dtype) if norm > 0 else x


def _first_repeat(words: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for word in words:
        if word in seen:
            return word
        seen.add(word)
    return None
