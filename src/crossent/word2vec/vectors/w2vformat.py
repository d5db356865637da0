"""gensim's word2vec-format methods of :class:`~crossent.word2vec.KeyedVectors`, on the
validating reader and the atomic writer of :mod:`crossent.word2vec.formats.io`.

- :func:`load_word2vec_format`: gensim's arguments in gensim's order; word counts from
  ``fvocab`` (word2vec.c's ``-save-vocab`` file) or, as gensim, made up in decreasing order
  (:math:`V, V-1, \\dots, 1`, ``V`` the records read) so that the file order is kept; a word
  repeated in the file keeps its first vector (a warning says so, as gensim logs it).
- :func:`save_word2vec_format`: rows in decreasing ``sort_attr`` (word count) when the table
  has that attribute, else in row order, as gensim; ``fvocab`` gets ``word count`` lines.
- :func:`intersect_word2vec_format`: a file's vectors copied onto the keys both share.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from crossent.word2vec.formats.io import (
    decoder,
    load_word2vec,
    read_word_counts,
    save_word2vec,
    save_word_counts,
)

if TYPE_CHECKING:
    from crossent.word2vec.vectors.vectortable import VectorTable

    Table = TypeVar("Table", bound=VectorTable)

PathLike = str | os.PathLike[str]


def load_word2vec_format(
    cls: type[Table],
    fname: PathLike,
    fvocab: PathLike | None = None,
    binary: bool | None = None,
    encoding: str = "utf8",
    unicode_errors: str = "strict",
    limit: int | None = None,
    datatype: Any = np.float32,
    no_header: bool = False,
) -> Table:
    """gensim's ``KeyedVectors.load_word2vec_format``: the vectors of a word2vec.c / gensim
    text or binary file (``.gz`` too), the first ``limit`` only if given (0 or None: all,
    as gensim); ``binary=None`` (our default) decides from the content, ``True``/``False``
    force it. Words decode with ``encoding`` and ``unicode_errors``; ``datatype`` is the
    vectors' dtype; ``no_header``: a text file without its ``V D`` line (GloVe's)."""
    decode = decoder(encoding, unicode_errors)
    counts = read_word_counts(fvocab, decode) if fvocab is not None else None
    words, vectors = load_word2vec(
        fname,
        binary=binary,
        limit=limit or None,
        encoding=encoding,
        unicode_errors=unicode_errors,
        no_header=no_header,
        datatype=datatype,
    )
    return from_records(cls, words, vectors, counts, fvocab)


def from_records(
    cls: type[Table],
    words: list[str],
    vectors: np.ndarray,
    counts: dict[str, int] | None = None,
    fvocab: PathLike | None = None,
) -> Table:
    """A table of the records read from a file: repeated words dropped (the first kept),
    ``"count"`` from ``counts`` (0 and a warning for a word it lacks) or made up."""
    read = len(words)
    index: dict[str, int] = {}
    for i, w in enumerate(words):
        index.setdefault(w, i)
    if len(index) < read:
        keep = np.asarray(sorted(index.values()), dtype=np.int64)  # first occurrences
        kept = set(keep.tolist())
        repeated = next(w for i, w in enumerate(words) if i not in kept)
        warnings.warn(
            f"{read - len(keep)} repeated words in the vectors file (e.g. {repeated!r}); "
            "each keeps its first vector",
            UserWarning,
            stacklevel=3,
        )
        words, vectors = [words[i] for i in keep], vectors[keep]
        index = {w: i for i, w in enumerate(words)}
    if counts is None:
        values = read - np.arange(len(words), dtype=np.int64)
    else:
        values = np.asarray([counts.get(w, 0) for w in words], dtype=np.int64)
        missing = [w for w in words if w not in counts]
        if missing:
            warnings.warn(
                f"fvocab: {os.fspath(fvocab or '')} lacks {len(missing)} of the file's words "
                f"(e.g. {missing[0]!r}); their count is 0",
                UserWarning,
                stacklevel=3,
            )
    table = cls(words, vectors, index, counts=values)
    if vectors.dtype != table.vectors.dtype:
        table.vectors = vectors  # datatype other than float32
    return table


def save_word2vec_format(
    kv: VectorTable,
    fname: PathLike,
    fvocab: PathLike | None = None,
    binary: bool = False,
    total_vec: int | None = None,
    write_header: bool = True,
    prefix: str = "",
    append: bool = False,
    sort_attr: str = "count",
) -> None:
    """gensim's ``KeyedVectors.save_word2vec_format``, written atomically: text (default)
    or binary, rows by decreasing ``sort_attr`` if stored (else row order); ``fvocab``:
    also the ``word count`` file; ``total_vec``: the header's count (default ``V``);
    ``write_header=False``: no header; ``prefix`` before each word. ``append`` is refused
    (a file is replaced whole or not at all)."""
    if append:
        raise NotImplementedError(
            "append: files are written whole and atomically here; write a new file instead"
        )
    if fvocab is not None and sort_attr not in kv.expandos:
        raise ValueError(
            f"fvocab: the table has no {sort_attr!r} attribute to write (word counts come "
            f"from training or from set_vecattr(key, {sort_attr!r}, n))"
        )
    order: np.ndarray | None = None
    if sort_attr in kv.expandos:
        order = np.argsort(-kv.expandos[sort_attr], kind="stable")
        if (order == np.arange(len(order))).all():
            order = None  # already in that order: no copy of the vectors
    rows = kv.vectors if order is None else kv.vectors[order]
    keys = kv.index_to_key if order is None else [kv.index_to_key[i] for i in order]
    words = [prefix + k for k in keys] if prefix else keys
    save_word2vec(fname, words, rows, binary=binary, total_vec=total_vec, write_header=write_header)
    if fvocab is not None:
        values = kv.expandos[sort_attr]
        save_word_counts(fvocab, words, values if order is None else values[order])


def intersect_word2vec_format(
    kv: VectorTable,
    fname: PathLike,
    lockf: float = 0.0,
    binary: bool | None = None,
    encoding: str = "utf8",
    unicode_errors: str = "strict",
) -> int:
    """gensim's ``KeyedVectors.intersect_word2vec_format``: each key of the table that the
    file also holds takes the file's vector; no key is added. ``vectors_lockf [V]`` (made of
    ones if absent) gets ``lockf`` on those rows, for a trainer that honours it (gensim's
    0.0: frozen). Returns how many rows were replaced (gensim: None)."""
    words, vectors = load_word2vec(
        fname, binary=binary, encoding=encoding, unicode_errors=unicode_errors
    )
    if vectors.shape[1] != kv.vector_size:
        raise ValueError(
            f"fname: {os.fspath(fname)} holds vectors of size {vectors.shape[1]}, "
            f"the table's are of size {kv.vector_size}"
        )
    pairs = [(kv.key_to_index[w], i) for i, w in enumerate(words) if w in kv.key_to_index]
    rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
    kv.vectors[rows] = vectors[[i for _, i in pairs]]
    lock = getattr(kv, "vectors_lockf", None)
    if not isinstance(lock, np.ndarray) or lock.shape != (len(kv),):
        lock = np.ones(len(kv), dtype=np.float32)
    lock[rows] = lockf
    kv.vectors_lockf = lock  # type: ignore[attr-defined]
    kv.norms = None
    return len(rows)
