"""Vector files: word2vec.c / gensim binary and text formats, plain or gzip-compressed.

Binary format: header ``"V D\\n"``, then per word ``word + " "`` followed by ``D``
little-endian float32 (and, from word2vec.c, ``"\\n"``). Text format: the same header,
then ``word f1 … fD`` per line, each value written as the shortest decimal that reads back
as the same float32 (gensim's ``str(np.float32)``), so text files round-trip exactly; GloVe's
text files have no header (``no_header=True``). Writes are atomic (:func:`.files.atomic_write`).

Reading proves the file before trusting it: only regular files; the header against the
records (count, dimension, nothing missing, nothing after the last record); tokens of any
length; finite values (a NaN or inf is reported with its word); words decoded with the
given ``encoding`` (ASCII-compatible) and ``unicode_errors`` (``"strict"``: a word that does
not decode is an error, also a ``UnicodeDecodeError``, as in gensim). A file that ends
before the records its header announces raises :class:`TruncatedVectorFileError`, both a
``ValueError`` and gensim's ``EOFError``. The format is decided by the first record, not by
a fixed-size sniff: text when it is one line of a word and numbers, binary otherwise
(``binary=`` forces it). Memory is the vectors themselves: a plain file is memory-mapped,
and rows are allocated no faster than the file can fill them.
"""

from __future__ import annotations

import codecs
import gzip
import mmap
import os
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy as np

from crossent.word2vec.formats.files import open_input
from crossent.word2vec.formats.writing import (  # writing lives there, exported here
    save_word2vec as save_word2vec,
)
from crossent.word2vec.formats.writing import (
    save_word_counts as save_word_counts,
)


class VectorFileError(ValueError):
    """A vector file or checkpoint that cannot be parsed; the message says where."""


class MissingHeaderError(VectorFileError):
    """A vector file whose first line is not the ``V D`` header but reads as a record: a
    text file without header (GloVe's), which ``no_header=True`` reads. ``fact`` is the
    message without that Python remedy, for callers that word their own (the CLI)."""

    def __init__(self, fact: str) -> None:
        super().__init__(f"{fact} (a file without header? no_header=True reads it)")
        self.fact = fact


class TruncatedVectorFileError(VectorFileError, EOFError):
    """A vector file that ends before the records its header announces (gensim raises
    ``EOFError`` there: this is both)."""


class VectorFileDecodeError(VectorFileError, UnicodeDecodeError):
    """A word that is not valid text in the file's encoding with ``unicode_errors="strict"``
    (gensim raises ``UnicodeDecodeError`` there: this is both)."""

    def __init__(self, message: str, cause: UnicodeDecodeError) -> None:
        UnicodeDecodeError.__init__(
            self, cause.encoding, cause.object, cause.start, cause.end, cause.reason
        )
        self.message = message

    def __str__(self) -> str:
        return self.message


Decoder = Callable[[bytes, str], str]
"""``decode(raw word, where)``: the word as text, or :class:`VectorFileDecodeError`."""


def decoder(encoding: str = "utf-8", unicode_errors: str = "strict") -> Decoder:
    """The word decoder for ``encoding`` (an ASCII-compatible codec: the format's spaces,
    digits and newlines are ASCII) and ``unicode_errors`` (``"strict"``, ``"replace"``,
    ``"ignore"`` or any registered error handler)."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError(f"encoding: expected a known text encoding, got {encoding!r}") from None
    if "a 1.5e-3\n".encode(encoding) != b"a 1.5e-3\n":
        raise ValueError(f"encoding: expected an ASCII-compatible encoding, got {encoding!r}")
    try:
        codecs.lookup_error(unicode_errors)
    except (LookupError, TypeError):
        raise ValueError(
            "unicode_errors: expected 'strict', 'replace', 'ignore' or another error handler, "
            f"got {unicode_errors!r}"
        ) from None

    def decode(raw: bytes, where: str) -> str:
        try:
            return raw.decode(encoding, unicode_errors)
        except UnicodeDecodeError as exc:
            raise VectorFileDecodeError(
                f"{where}: word {raw[:40]!r} is not valid {encoding} ({exc.reason} at byte "
                f"{exc.start} of the word); unicode_errors='replace' or 'ignore' reads it anyway",
                exc,
            ) from None

    return decode


def read_word_counts(path: str | os.PathLike[str], decode: Decoder) -> dict[str, int]:
    """The ``word count`` lines of a vocabulary file (gensim's ``fvocab``), validated:
    two fields, a non-negative integer count, no word twice."""
    name = os.fspath(path)
    counts: dict[str, int] = {}
    with open_input(path, "fvocab", "vocabulary file", VectorFileError) as f:
        for number, raw in enumerate(f, start=1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit():
                raise VectorFileError(
                    f"fvocab: {name}: line {number}: expected 'word count' with a non-negative "
                    f"integer count, got {raw[:80]!r}"
                )
            word = decode(fields[0], f"fvocab: {name}: line {number}")
            if word in counts:
                raise VectorFileError(f"fvocab: {name}: line {number}: {word!r} repeated")
            counts[word] = int(fields[1])
    return counts


def load_word2vec(
    path: str | os.PathLike[str],
    *,
    binary: bool | None = None,
    limit: int | None = None,
    encoding: str = "utf-8",
    unicode_errors: str = "replace",
    no_header: bool = False,
    datatype: Any = np.float32,
) -> tuple[list[str], np.ndarray]:
    """Read a word2vec binary or text file, plain or ``.gz`` (``binary=None``: decided
    from the first record); only its first ``limit`` vectors if given (gensim's ``limit``);
    ``no_header``: a text file without the ``V D`` line (GloVe's). Words are decoded with
    ``encoding`` and ``unicode_errors`` (here ``"replace"`` by default: word2vec.c cuts
    long words inside a character). Returns the words and their vectors ``[V, D]`` of
    ``datatype`` (float32 by default; values beyond its range are refused)."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit: expected a non-negative int or None, got {limit!r}")
    if no_header and binary:
        raise NotImplementedError("no_header: only text files come without a header, binary=True")
    dtype = np.dtype(datatype)
    if dtype.kind != "f":
        raise ValueError(
            f"datatype: expected a floating-point type such as np.float32, got {dtype}"
        )
    decode = decoder(encoding, unicode_errors)
    name = os.fspath(path)
    with open_input(path, "vectors") as raw:
        if name.endswith(".gz"):
            data: bytes | mmap.mmap = _gunzip(raw, name)
        elif os.fstat(raw.fileno()).st_size == 0:
            raise VectorFileError(f"{name}: line 1: the file is empty (expected a header 'V D')")
        else:
            data = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _parse(data, name, binary, limit, decode, no_header, dtype)
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
    data: bytes | mmap.mmap,
    name: str,
    binary: bool | None,
    limit: int | None,
    decode: Decoder,
    no_header: bool,
    dtype: np.dtype[Any],
) -> tuple[list[str], np.ndarray]:
    count, dim, start = _headerless(data, name) if no_header else _header(data, name)
    whole = limit is None or limit >= count  # else: the first ``limit`` records, rest unread
    count = count if whole or limit is None else limit
    if binary is None:
        binary = count > 0 and not _looks_text(data, start, min(count, 3), dim)
    record = 4 * dim + 2 if binary else 2 * dim + 1  # the fewest bytes a record can take
    rows = min(count, (len(data) - start) // record)  # never more than the file can fill
    vectors = np.empty((rows, dim), dtype=np.float32 if binary else dtype)
    if binary:
        words = _read_binary(data, start, count, vectors, name, whole, decode)
        with np.errstate(over="ignore"):  # float16: checked below
            cast = vectors.astype(dtype, copy=False)
        for i in np.flatnonzero(~np.isfinite(cast).all(axis=1))[:1]:  # float16: may overflow
            check_finite(vectors[i], words[i], f"{name}: word {i + 1}", dtype)
        return words, cast
    first_line = 1 if no_header else 2
    return _read_text(data, start, count, vectors, name, whole, decode, first_line), vectors


def _header(data: bytes | mmap.mmap, name: str) -> tuple[int, int, int]:
    end = data.find(b"\n", 0, 4096)
    line = bytes(data[: end if end >= 0 else 60])
    try:
        count, dim = (int(x) for x in line.split())
    except ValueError:
        hint = " (a crossent checkpoint? it holds vectors too)" if line[:2] == b"PK" else ""
        if line[:1] == b"\x80":  # pickle protocol 2+: gensim's KeyedVectors.save
            hint = (
                " (a Python pickle, as gensim's save() writes: never unpickled here, it can run"
                " code; convert it with gensim: KeyedVectors.load(path)"
                ".save_word2vec_format('vectors.bin', binary=True))"
            )
        got = f"{name}: line 1: expected a header 'V D', got {line.rstrip()[:60]!r}"
        if not hint and is_text_record(line):
            raise MissingHeaderError(got) from None
        raise VectorFileError(got + hint) from None
    if count < 0 or dim <= 0 or end < 0:
        raise VectorFileError(f"{name}: line 1: invalid header: {count} words of dimension {dim}")
    return count, dim, end + 1


def _headerless(data: bytes | mmap.mmap, name: str) -> tuple[int, int, int]:
    """``(records, dimension, 0)`` of a text file without header: its non-blank lines,
    and the numbers on the first."""
    count, dim = 0, 0
    for _, line in _lines(data, 0, first=1):
        if line.strip():
            count += 1
            dim = dim or len(line.rstrip().split(b" ")) - 1
    if dim < 1:
        raise VectorFileError(f"{name}: no_header: expected lines 'word f1 … fD', found none")
    return count, dim, 0


def _looks_text(data: bytes | mmap.mmap, start: int, records: int, dim: int) -> bool:
    """Whether the file's first ``records`` records from ``start`` are text. A binary
    record's float bytes can hold a newline and read as a text line (``'word 4'``), so both
    layouts are walked: text unless only the binary one holds (if neither does, text when
    the first line reads as a record: the text reader then says what is wrong)."""
    if _walk(data, start, records, dim, binary=False):
        return True
    if _walk(data, start, records, dim, binary=True):
        return False
    end = data.find(b"\n", start)
    return is_text_record(data[start : end if end >= 0 else len(data)])


def _walk(data: bytes | mmap.mmap, pos: int, records: int, dim: int, *, binary: bool) -> bool:
    """Whether ``records`` records of the given layout follow ``pos`` (words and sizes only)."""
    for _ in range(records):
        if binary:
            while data[pos : pos + 1] in (b"\n", b"\r"):  # between records, as _read_binary
                pos += 1
            space = data.find(b" ", pos, pos + 4096)
            if space <= pos or b"\n" in data[pos:space]:
                return False
            pos = space + 1 + 4 * dim
            if pos > len(data):
                return False
        else:
            end = data.find(b"\n", pos)
            line = data[pos : end if end >= 0 else len(data)]
            if not is_text_record(line, dim):
                return False
            pos = end + 1 if end >= 0 else len(data)
    return True


def is_text_record(line: bytes, dim: int | None = None) -> bool:
    """Whether ``line`` is a word followed by one or more numbers (exactly ``dim`` if
    given), space-separated as in the text format. A binary record never is: its float
    bytes are not all digits."""
    fields = line.rstrip().split(b" ")
    if len(fields) < 2 or (dim is not None and len(fields) != dim + 1):
        return False
    try:
        [float(x) for x in fields[1:]]
    except ValueError:
        return False
    return True


def _read_binary(
    data: bytes | mmap.mmap,
    pos: int,
    count: int,
    vectors: np.ndarray,
    name: str,
    whole: bool,
    decode: Decoder,
) -> list[str]:
    words: list[str] = []
    width, size = 4 * vectors.shape[1], len(data)
    starts = np.empty(len(vectors), dtype=np.int64)  # of each vector: named if not finite
    for i in range(count):
        while pos < size and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.find(b" ", pos)
        if space <= pos:
            error = TruncatedVectorFileError if space < 0 else VectorFileError
            raise error(
                f"{name}: byte {pos}: word {i + 1} of {count}: no word "
                "followed by a space (truncated or corrupted file)"
            )
        if space + 1 + width > size:
            raise TruncatedVectorFileError(
                f"{name}: byte {space + 1}: word {i + 1} of {count}: "
                f"expected {width} bytes of vector, file ends "
                f"{size - space - 1} bytes later (truncated file)"
            )
        word = decode(bytes(data[pos:space]), f"{name}: byte {pos}")
        vectors[i] = np.frombuffer(data[space + 1 : space + 1 + width], dtype="<f4")
        words.append(word)
        starts[i], pos = space + 1, space + 1 + width
    for i in np.flatnonzero(~np.isfinite(vectors).all(axis=1))[:1]:  # float32: in range
        check_finite(vectors[i], words[i], f"{name}: byte {starts[i]}")
    if whole and data[pos:].strip():
        raise VectorFileError(
            f"{name}: byte {pos}: the header announces {count} vectors, more data follows"
        )
    return words


def _read_text(
    data: bytes | mmap.mmap,
    pos: int,
    count: int,
    vectors: np.ndarray,
    name: str,
    whole: bool,
    decode: Decoder,
    first_line: int,
) -> list[str]:
    words: list[str] = []
    dim = vectors.shape[1]
    line_no = first_line - 1
    for line_no, line in _lines(data, pos, first=first_line):
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
        except ValueError:
            raise VectorFileError(
                f"{name}: line {line_no}: expected a word and {dim} numbers, "
                f"got {bytes(line[:80]).decode('utf-8', errors='replace')!r}"
            ) from None
        word = decode(fields[0], f"{name}: line {line_no}")
        check_finite(row, word, f"{name}: line {line_no}", vectors.dtype)
        vectors[len(words)] = row
        words.append(word)
    if len(words) < count:
        raise TruncatedVectorFileError(
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


def check_finite(row: np.ndarray, word: str, where: str, dtype: Any = np.float32) -> None:
    """Every value finite and within the range of ``dtype`` (the vectors' dtype)."""
    ok = np.isfinite(row) & (np.abs(row) <= float(np.finfo(dtype).max))
    if not ok.all():
        bad = row[~ok][0]
        kind = np.dtype(dtype)
        what = "non-finite value" if not np.isfinite(bad) else f"value beyond {kind}'s range"
        raise VectorFileError(f"{where}: word {word[:40]!r}: {what} {bad} in its vector")
