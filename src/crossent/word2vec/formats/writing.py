"""Writing vector files (word2vec binary or text, gzip when the name ends in ``.gz``) and
word2vec.c's vocabulary file, atomically (:func:`.files.atomic_write`). The formats are
described in :mod:`.io`, which also exports these functions."""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from crossent.word2vec.formats.files import atomic_write


def save_word2vec(
    path: str | os.PathLike[str],
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    binary: bool = True,
    total_vec: int | None = None,
    write_header: bool = True,
) -> None:
    """Write ``vectors [V, D]`` for ``words`` in word2vec binary (default) or text format,
    gzip-compressed when ``path`` ends in ``.gz``; words must be tokens (non-empty, no
    whitespace) and values finite, so that the file reads back. ``total_vec`` (gensim's)
    is the count written in the header, ``V`` unless given (at least ``V``: rows appended
    later); ``write_header=False`` writes none (GloVe's text layout)."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[1] < 1:
        raise ValueError(f"vectors: expected shape [{len(words)}, D >= 1], got {vectors.shape}")
    if total_vec is None:
        total_vec = len(words)
    if not isinstance(total_vec, (int, np.integer)) or total_vec < len(words):
        raise ValueError(f"total_vec: expected an int >= {len(words)}, got {total_vec!r}")
    bad = next((w for w in words if not isinstance(w, str) or w.split() != [w]), None)
    if bad is not None:
        raise ValueError(f"words: expected tokens without whitespace, got {bad!r}")
    if not np.isfinite(vectors).all():
        row = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise ValueError(f"vectors: word {words[row]!r} has a non-finite value")
    with _output(path) as out:
        if write_header:
            out.write(f"{int(total_vec)} {vectors.shape[1]}\n".encode())
        for word, vec in zip(words, vectors, strict=True):
            if binary:
                out.write(word.encode() + b" " + vec.tobytes() + b"\n")
            else:  # str(np.float32): the shortest decimal that reads back as the same float32
                out.write((word + " " + " ".join(str(x) for x in vec) + "\n").encode())


@contextlib.contextmanager
def _output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """``path`` written atomically, through gzip when it ends in ``.gz``."""
    with atomic_write(path) as f, contextlib.ExitStack() as stack:  # gzip closes first
        out: IO[bytes] = f
        if os.fspath(path).endswith(".gz"):
            out = stack.enter_context(gzip.GzipFile(fileobj=f, mode="wb"))  # type: ignore[arg-type]
        yield out


def save_word_counts(path: str | os.PathLike[str], words: Sequence[str], counts: Any) -> None:
    """word2vec.c's vocabulary file (gensim's ``fvocab``): a ``word count`` line per word."""
    with _output(path) as out:
        out.write("".join(f"{w} {int(c)}\n" for w, c in zip(words, counts, strict=True)).encode())
