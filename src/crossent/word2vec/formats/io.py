"""Vector files: word2vec.c / gensim binary and text formats, plain or gzip-compressed.

Binary format: header ``"V D\\n"``, then per word ``word + " "`` followed by ``D``
little-endian float32 (and, from word2vec.c, ``"\\n"``). Text format: the same header,
then ``word f1 … fD`` per line. Writes are atomic (:func:`.files.atomic_write`).

Reading proves the file before trusting it: only regular files; the header against the
records (count, dimension, nothing missing, nothing after the last record); tokens of any
length; finite values (a NaN or inf is reported with its word). The format is decided by
the first record, not by a fixed-size sniff: text when it is one line of a word and
numbers, binary otherwise (``binary=`` forces it). Memory is the vectors themselves: a
plain file is memory-mapped, and rows are allocated no faster than the file can fill them.
"""

from __future__ import annotations

import contextlib
import gzip
import mmap
import os
import zlib
from collections.abc import Iterator
from typing import IO

import numpy as np

from crossent.word2vec.formats.files import atomic_write, open_input


class VectorFileError(ValueError):
    """A vector file or checkpoint that cannot be parsed; the message says where."""


def save_word2vec(
    path: str | os.PathLike[str], words: list[str], vectors: np.ndarray, *, binary: bool = True
) -> None:
    """Write ``vectors [V, D]`` for ``words`` in word2vec binary (default) or text format,
    gzip-compressed when ``path`` ends in ``.gz``; words must be tokens (non-empty, no
    whitespace) and values finite, so that the file reads back."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[1] < 1:
        raise ValueError(f"vectors: expected shape [{len(words)}, D >= 1], got {vectors.shape}")
    bad = next((w for w in words if not isinstance(w, str) or w.split() != [w]), None)
    if bad is not None:
        raise ValueError(f"words: expected tokens without whitespace, got {bad!r}")
    if not np.isfinite(vectors).all():
        row = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise ValueError(f"vectors: word {words[row]!r} has a non-finite value")
    with atomic_write(path) as f, contextlib.ExitStack() as stack:  # gzip closes first
        gz = os.fspath(path).endswith(".gz")
        out: IO[bytes] = f
        if gz:
            out = stack.enter_context(gzip.GzipFile(fileobj=f, mode="wb"))  # type: ignore[arg-type]
        out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        for word, vec in zip(words, vectors, strict=True):
            if binary:
                out.write(word.encode() + b" " + vec.tobytes() + b"\n")
            else:
                out.write((word + " " + " ".join(f"{x:.6g}" for x in vec) + "\n").encode())


def load_word2vec(
    path: str | os.PathLike[str], *, binary: bool | None = None, limit: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Read a word2vec binary or text file, plain or ``.gz`` (``binary=None``: decided
    from the first record); only its first ``limit`` vectors if given (gensim's ``limit``).
    Returns the words and their vectors ``float32 [V, D]``."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit: expected a non-negative int or None, got {limit!r}")
    name = os.fspath(path)
    with open_input(path, "vectors") as raw:
        if name.endswith(".gz"):
            data: bytes | mmap.mmap = _gunzip(raw, name)
        elif os.fstat(raw.fileno()).st_size == 0:
            raise VectorFileError(f"{name}: line 1: the file is empty (expected a header 'V D')")
        else:
            data = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _parse(data, name, binary, limit)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()


def _gunzip(raw: IO[bytes], name: str) -> bytes:
    try:
        with gzip.open(raw) as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise VectorFileError(f"{name}: not a readable gzip file ({exc})") from None


def _parse(
    data: bytes | mmap.mmap, name: str, binary: bool | None, limit: int | None = None
) -> tuple[list[str], np.ndarray]:
    count, dim, start = _header(data, name)
    whole = limit is None or limit >= count  # else: the first ``limit`` records, rest unread
    count = count if whole or limit is None else limit
    first_end = data.find(b"\n", start)
    first = data[start : first_end if first_end >= 0 else len(data)]
    if binary is None:  # text if the first record is a word and numbers (any count: the
        binary = count > 0 and not _is_text_record(first, None)  # text reader says if wrong)
    record = 4 * dim + 2 if binary else 2 * dim + 1  # the fewest bytes a record can take
    rows = min(count, (len(data) - start) // record)  # never more than the file can fill
    vectors = np.empty((rows, dim), dtype=np.float32)
    reader = _read_binary if binary else _read_text
    words = reader(data, start, count, vectors, name, whole)
    return words, vectors


def _header(data: bytes | mmap.mmap, name: str) -> tuple[int, int, int]:
    end = data.find(b"\n", 0, 4096)
    line = bytes(data[: end if end >= 0 else 60])
    try:
        count, dim = (int(x) for x in line.split())
    except ValueError:
        hint = " (a crossent checkpoint? it holds vectors too)" if line[:2] == b"PK" else ""
        raise VectorFileError(
            f"{name}: line 1: expected a header 'V D', got {line.rstrip()[:60]!r}{hint}"
        ) from None
    if count < 0 or dim <= 0 or end < 0:
        raise VectorFileError(f"{name}: line 1: invalid header: {count} words of dimension {dim}")
    return count, dim, end + 1


def _is_text_record(line: bytes, dim: int | None) -> bool:
    """Whether ``line`` is a word followed by ``dim`` (None: one or more) numbers, as in
    the text format. A binary record never is: its float bytes are not all digits."""
    fields = line.rstrip().split(b" ")
    if len(fields) < 2 or (dim is not None and len(fields) != dim + 1):
        return False
    try:
        fields[0].decode("utf-8")
        [float(x) for x in fields[1:]]
    except ValueError:  # UnicodeDecodeError is a ValueError
        return False
    return True


def _read_binary(
    data: bytes | mmap.mmap, pos: int, count: int, vectors: np.ndarray, name: str, whole: bool
) -> list[str]:
    words: list[str] = []
    width, size = 4 * vectors.shape[1], len(data)
    for i in range(count):
        while pos < size and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.find(b" ", pos)
        if space <= pos:
            raise VectorFileError(
                f"{name}: byte {pos}: word {i + 1} of {count}: no word "
                "followed by a space (truncated or corrupted file)"
            )
        if space + 1 + width > size:
            raise VectorFileError(
                f"{name}: byte {space + 1}: word {i + 1} of {count}: "
                f"expected {width} bytes of vector, file ends "
                f"{size - space - 1} bytes later (truncated file)"
            )
        word = bytes(data[pos:space]).decode("utf-8", errors="replace")
        vectors[i] = np.frombuffer(data[space + 1 : space + 1 + width], dtype="<f4")
        _check_finite(vectors[i], word, f"{name}: byte {space + 1}")
        words.append(word)
        pos = space + 1 + width
    if whole and data[pos:].strip():
        raise VectorFileError(
            f"{name}: byte {pos}: the header announces {count} vectors, more data follows"
        )
    return words


def _read_text(
    data: bytes | mmap.mmap, pos: int, count: int, vectors: np.ndarray, name: str, whole: bool
) -> list[str]:
    words: list[str] = []
    dim = vectors.shape[1]
    line_no = 1
    for line_no, line in _lines(data, pos, first=2):
        if len(words) == count:
            if not whole:
                break
            if line.strip():
                raise VectorFileError(
                    f"{name}: line {line_no}: the header announces {count} vectors, "
                    "more lines follow"
                )
            continue
        if not line.strip():
            continue
        fields = line.rstrip().split(b" ")
        try:
            if len(fields) != dim + 1:
                raise ValueError
            row = np.array([float(x) for x in fields[1:]])  # float64: range checked below
            word = fields[0].decode("utf-8", errors="replace")
        except ValueError:
            raise VectorFileError(
                f"{name}: line {line_no}: expected a word and {dim} numbers, "
                f"got {bytes(line[:80]).decode('utf-8', errors='replace')!r}"
            ) from None
        _check_finite(row, word, f"{name}: line {line_no}")
        vectors[len(words)] = row
        words.append(word)
    if len(words) < count:
        raise VectorFileError(
            f"{name}: line {line_no + 1}: expected {count} vectors, "
            f"the file ends after {len(words)} (truncated file)"
        )
    return words


def _lines(data: bytes | mmap.mmap, pos: int, first: int) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` from byte ``pos`` on, without a copy of the whole file."""
    line_no, size = first, len(data)
    while pos < size:
        end = data.find(b"\n", pos)
        end = size if end < 0 else end
        yield line_no, bytes(data[pos:end])
        pos, line_no = end + 1, line_no + 1


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_finite(row: np.ndarray, word: str, where: str) -> None:
    """Every value finite and within float32's range (the vectors' dtype)."""
    ok = np.isfinite(row) & (np.abs(row) <= _FLOAT32_MAX)
    if not ok.all():
        bad = row[~ok][0]
        what = "non-finite value" if not np.isfinite(bad) else "value beyond float32's range"
        raise VectorFileError(f"{where}: word {word[:40]!r}: {what} {bad} in its vector")
