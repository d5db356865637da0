"""The corpus: text files (plain or .gz, one sentence per line, whitespace tokens) or an
iterable of token lists, read in bounded memory.

:func:`as_corpus` accepts what users have: a path (a plain string is a path), a list of
paths, or a re-iterable of token lists (gensim's ``sentences``); the same tokens give the
same sentences whichever form. Files are read in chunks of ``CHUNK_BYTES``, cut at
whitespace, never line by line: one line of 150 MB costs no more memory than the same words
on many lines, and sentences longer than ``MAX_SENTENCE`` words are cut while reading.
A file that is not text (a NUL byte, mostly undecodable bytes) is refused; undecodable
bytes in text are replaced (U+FFFD) and counted, with one warning.

A first pass counts words (:func:`count_words`); a second writes the in-vocabulary word
indices of every sentence to an unnamed temporary file (:func:`encode_corpus`) that the
epochs read through a memory map, and that no interruption can leave behind. Training a new
model does both in one pass instead (:func:`~.counted.read_once`, the same results).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import os
import tempfile
import warnings
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

import numpy as np

from crossent.word2vec.formats.files import open_input

MAX_SENTENCE = 10_000  # word2vec.c's MAX_SENTENCE_LENGTH: longer sentences are cut
CHUNK_BYTES = 1 << 20
_SPACES = (b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_MAX_REPLACED = 0.3  # fraction of undecodable bytes in a file's first chunk: not text

PathLike: TypeAlias = "str | os.PathLike[str]"
CorpusLike: TypeAlias = "str | os.PathLike[str] | Sequence[PathLike] | Iterable[Sequence[str]]"
"""A path (a plain string is a path), a list of paths, or a re-iterable of token lists."""


class CorpusError(ValueError):
    """A corpus that cannot be read or is unusable (missing, not text, empty)."""


@dataclass
class ReadStats:
    """What a pass over the corpus saw."""

    words: int = 0
    replaced_bytes: int = 0


@dataclass(frozen=True)
class TextFiles:
    """Text files, plain or gzip-compressed (``.gz``), one sentence per line."""

    paths: tuple[Path, ...]

    def check(self) -> None:
        """Each file exists and is a readable regular file (nothing is read yet)."""
        for path in self.paths:
            open_input(path, "corpus", "text file", CorpusError).close()

    def sentences(self, lowercase: bool, stats: ReadStats) -> Iterator[list[str]]:
        for path in self.paths:
            with (
                open_input(path, "corpus", "text file", CorpusError) as raw,
                _decompressed(raw, path) as stream,
            ):
                yield from _file_sentences(stream, path, lowercase, stats)

    def describe(self) -> str:
        return ", ".join(map(str, self.paths))


@dataclass(frozen=True)
class TokenLists:
    """A re-iterable of sentences, each a sequence of str tokens (gensim's ``sentences``)."""

    source: Iterable[Sequence[str]]

    def check(self) -> None:
        """Nothing to check before reading: tokens are checked as they come."""

    def sentences(self, lowercase: bool, stats: ReadStats) -> Iterator[list[str]]:
        for i, sentence in enumerate(self.source):
            tokens = _checked_tokens(i, sentence)
            if lowercase:
                tokens = [t.lower() for t in tokens]
            stats.words += len(tokens)
            for start in range(0, len(tokens), MAX_SENTENCE):
                yield tokens[start : start + MAX_SENTENCE]

    def describe(self) -> str:
        return "the given sentences"


Corpus: TypeAlias = "TextFiles | TokenLists"


def as_corpus(corpus: CorpusLike | Corpus) -> Corpus:
    """The corpus behind a path, a list of paths or a re-iterable of token lists."""
    if isinstance(corpus, (TextFiles, TokenLists)):
        return corpus
    if isinstance(corpus, (str, os.PathLike)):
        return TextFiles((Path(corpus),))
    if isinstance(corpus, bytes) or not isinstance(corpus, Iterable):
        raise TypeError(
            "corpus: expected a path, a list of paths or a re-iterable of token lists, "
            f"got {type(corpus).__name__}"
        )
    if iter(corpus) is corpus:
        raise TypeError(
            f"corpus: expected a re-iterable (training reads it twice), got an iterator "
            f"({type(corpus).__name__}); pass a list, or an object whose __iter__ starts over"
        )
    first = next(iter(corpus), None)
    if first is None:
        raise CorpusError("corpus: expected at least one text file or sentence, got none")
    if isinstance(first, (str, os.PathLike)):
        paths: list[Path] = []
        for p in corpus:
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"corpus: expected a list of paths, got {type(p).__name__} in it")
            paths.append(Path(p))
        return TextFiles(tuple(paths))
    sentences: Iterable[Sequence[str]] = corpus  # type: ignore[assignment]  # checked as read
    return TokenLists(sentences)


def _checked_tokens(i: int, sentence: object) -> list[str]:
    if isinstance(sentence, (str, bytes)) or not isinstance(sentence, Iterable):
        raise TypeError(
            f"corpus: sentence {i}: expected a list of str tokens, got {type(sentence).__name__}"
        )
    tokens = list(sentence)
    try:
        joined = " ".join(tokens)
    except TypeError:
        kind = next(type(t).__name__ for t in tokens if not isinstance(t, str))
        raise TypeError(f"corpus: sentence {i}: expected str tokens, got {kind}") from None
    if joined.split() != tokens:
        bad = next(t for t in tokens if t.split() != [t])
        raise ValueError(
            f"corpus: sentence {i}: token {bad[:40]!r} is empty or contains whitespace"
        )
    return tokens


def _decompressed(raw: IO[bytes], path: Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    if path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return contextlib.nullcontext(raw)


def _file_sentences(
    stream: IO[bytes], path: Path, lowercase: bool, stats: ReadStats
) -> Iterator[list[str]]:
    """Sentences of one file, read ``CHUNK_BYTES`` at a time and cut at whitespace bytes
    (never inside a UTF-8 character: its bytes are all ≥ 0x80)."""
    current: list[str] = []
    carry = b""
    first = True
    while True:
        chunk = _read(stream, path)
        if first:
            _check_text(chunk, path)
            first = False
        data = carry + chunk
        lines = data.split(b"\n")
        carry = lines.pop() if chunk else b""  # the last piece continues in the next chunk
        for line in lines:
            current.extend(_tokens(line, lowercase, stats))
            yield from _full_sentences(current)
            if current:
                yield current
                current = []
        cut = max(carry.rfind(space) for space in _SPACES)
        if cut >= 0:
            current.extend(_tokens(carry[:cut], lowercase, stats))
            carry = carry[cut + 1 :]
            yield from _full_sentences(current)
        if not chunk:
            return


def _read(stream: IO[bytes], path: Path) -> bytes:
    try:
        return stream.read(CHUNK_BYTES)
    except (OSError, EOFError, zlib.error) as exc:  # gzip errors are OSError subclasses
        raise CorpusError(f"corpus: cannot read {path}: {exc}") from None


def _full_sentences(current: list[str]) -> Iterator[list[str]]:
    """Cut ``MAX_SENTENCE``-word sentences off the front of ``current`` (in place)."""
    while len(current) >= MAX_SENTENCE:
        yield current[:MAX_SENTENCE]
        del current[:MAX_SENTENCE]


def _tokens(piece: bytes, lowercase: bool, stats: ReadStats) -> list[str]:
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        text = piece.decode("utf-8", errors="replace")
        stats.replaced_bytes += text.count("\ufffd") - piece.count("\ufffd".encode())
    tokens = (text.lower() if lowercase else text).split()
    stats.words += len(tokens)
    return tokens


def _check_text(head: bytes, path: Path) -> None:
    """Refuse binary data: a NUL byte, or mostly bytes that are not UTF-8, in the first chunk."""
    hint = ""
    if head[:2] == b"PK":
        hint = "; it looks like a crossent checkpoint (a zip archive)"
    elif head[:2] == b"\x1f\x8b":
        hint = "; it looks gzip-compressed: name it *.gz"
    nul = head.find(b"\x00")
    if nul >= 0:
        raise CorpusError(f"corpus: {path} is not text (a NUL byte at byte {nul}){hint}")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    replaced = decoder.decode(head, final=False).count("\ufffd")  # a cut last char is fine
    if head and replaced > _MAX_REPLACED * len(head):
        raise CorpusError(
            f"corpus: {path} is not UTF-8 text ({replaced} undecodable bytes in its first "
            f"{len(head)}){hint}"
        )


def iter_sentences(
    corpus: CorpusLike | Corpus,
    *,
    lowercase: bool = False,
    stats: ReadStats | None = None,
    warn: bool = True,
) -> Iterator[list[str]]:
    """Token lists, one per line or given sentence (over 10,000 words: several); empty
    lines and sentences skipped."""
    stats = stats if stats is not None else ReadStats()
    for tokens in as_corpus(corpus).sentences(lowercase, stats):
        if tokens:
            yield tokens
    if warn and stats.replaced_bytes:
        warnings.warn(
            f"corpus: {stats.replaced_bytes} undecodable byte(s) were not UTF-8 and were "
            "replaced by U+FFFD",
            UnicodeWarning,
            stacklevel=2,
        )


def count_words(
    corpus: CorpusLike | Corpus, *, lowercase: bool = False
) -> tuple[Counter[str], ReadStats]:
    """Word counts over the whole corpus (first pass)."""
    stats = ReadStats()
    counts: Counter[str] = Counter()
    for tokens in iter_sentences(corpus, lowercase=lowercase, stats=stats):
        counts.update(tokens)
    return counts, stats


@dataclass
class EncodedCorpus:
    """In-vocabulary word indices of every sentence (a memory map of an unnamed file).

    ``words[offsets[s]:offsets[s + 1]]`` is sentence ``s`` (at most ``MAX_SENTENCE`` words).
    """

    words: np.ndarray  # int32 [total]
    offsets: np.ndarray  # int64 [sentences + 1]

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the encoded corpus: sizes and a digest of words and offsets."""
        digest = hashlib.blake2b(digest_size=16)
        for start in range(0, len(self.words), 1 << 24):
            digest.update(np.ascontiguousarray(self.words[start : start + (1 << 24)]).data)
        digest.update(np.ascontiguousarray(self.offsets).data)
        return {
            "words": len(self.words),
            "sentences": len(self.offsets) - 1,
            "digest": digest.hexdigest(),
        }


def encode_corpus(
    corpus: CorpusLike | Corpus,
    index: dict[str, int],
    *,
    lowercase: bool = False,
    block: int = 1 << 20,
    warn: bool = True,
) -> EncodedCorpus:
    """Second pass: each sentence's in-vocabulary indices, in an unnamed temporary file.

    ``warn=False`` when the first pass has already warned about undecodable bytes."""
    offsets, total, buf = [0], 0, []
    get = index.get
    with tempfile.TemporaryFile(prefix="crossent-corpus-") as out:  # unnamed on Linux
        for tokens in iter_sentences(corpus, lowercase=lowercase, warn=warn):
            ids = [i for i in map(get, tokens) if i is not None]
            if not ids:
                continue
            buf.extend(ids)
            total += len(ids)
            offsets.append(total)
            if len(buf) >= block:
                np.asarray(buf, dtype=np.int32).tofile(out)
                buf.clear()
        np.asarray(buf, dtype=np.int32).tofile(out)
        out.flush()
        words = np.memmap(out, dtype=np.int32, mode="r") if total else np.zeros(0, np.int32)
    return EncodedCorpus(words, np.asarray(offsets, dtype=np.int64))


@dataclass(frozen=True)
class Job:
    """One unit of training: sentences ``offsets[s]..offsets[s+1]`` of ``words`` (``offsets``
    a slice of the corpus's), the subsampling keep-probabilities ``keep [V]``, the job's seed,
    and the learning rate going linearly from ``alpha0`` to ``alpha1`` over the job."""

    words: np.ndarray
    offsets: np.ndarray
    keep: np.ndarray
    seed: int
    alpha0: float
    alpha1: float


def job_bounds(offsets: np.ndarray, job_words: int) -> list[tuple[int, int]]:
    """Sentence ranges ``[s0, s1)`` of about ``job_words`` words each."""
    targets = np.arange(job_words, offsets[-1] + job_words, job_words)
    cuts = np.unique(np.clip(np.searchsorted(offsets, targets), 1, len(offsets) - 1))
    starts = np.concatenate([[0], cuts[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, cuts, strict=True) if b > a]
