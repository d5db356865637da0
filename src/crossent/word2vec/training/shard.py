"""One rank's share of the corpus in a data-parallel run: sentence ranges of the same files.

The plain text files, taken end to end as one sequence of ``B`` bytes, are cut into
``world`` byte ranges ``[r·B/world, (r+1)·B/world)``; a line belongs to the rank whose range
holds its first byte, so every line is read (and tokenised, and trained) by exactly one
rank, and rank ``r`` seeks to its range instead of reading what comes before. Taken in
rank order the shards are the corpus's sentences in order: counting them rank by rank
and merging the counts in rank order gives the single process's counts and first-seen
order, hence its vocabulary. A gzip stream cannot be entered in the middle: every rank
decompresses a ``.gz`` file, and keeps its sentences ``i`` with ``i mod world = rank``;
token lists (the Python API's sentences) are shared out the same way.

:func:`corpus_identity` is what ranks compare before any work (the files' sizes and a
digest of their first and last 64 KiB; for token lists their number and a digest of them),
so that ranks given different corpora fail before counting.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from crossent.word2vec.formats.corpus import (
    Corpus,
    CorpusError,
    ReadStats,
    TextFiles,
    TokenLists,
    _file_sentences,
)
from crossent.word2vec.formats.files import open_input

_EDGE = 1 << 16  # bytes of each end of a file digested for its identity


class _Window:
    """A read-only stream of bytes ``[start, stop)`` of an open file."""

    def __init__(self, raw: IO[bytes], start: int, stop: int) -> None:
        raw.seek(start)
        self.raw, self.left = raw, stop - start

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.raw.read(n)
        self.left -= len(data)
        return data


def line_start_at_or_after(raw: IO[bytes], offset: int, size: int) -> int:
    """The first byte offset ``≥ offset`` where a line starts (``size`` if none)."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    raw.seek(offset - 1)
    raw.readline()  # to just past the newline ending the line that holds byte offset-1
    return min(raw.tell(), size)


@dataclass(frozen=True)
class ShardedFiles(TextFiles):
    """Rank ``rank`` of ``world``'s lines of text files (see the module docstring)."""

    rank: int = 0
    world: int = 1

    def sentences(self, lowercase: bool, stats: ReadStats) -> Iterator[list[str]]:
        sizes = [_size(p) for p in self.paths]
        total = sum(sizes)
        lo, hi = self.rank * total // self.world, (self.rank + 1) * total // self.world
        base = 0
        for path, size in zip(self.paths, sizes, strict=True):
            first, last = max(lo - base, 0), min(hi - base, size)
            base += size
            if path.suffix == ".gz":
                yield from self._interleaved(path, lowercase, stats)
            elif first < last:
                yield from self._range(path, size, (first, last), lowercase, stats)

    def _range(
        self, path: Path, size: int, span: tuple[int, int], lowercase: bool, stats: ReadStats
    ) -> Iterator[list[str]]:
        with open_input(path, "corpus", "text file", CorpusError) as raw:
            start = line_start_at_or_after(raw, span[0], size)
            stop = line_start_at_or_after(raw, span[1], size)
            if start < stop:
                window: Any = _Window(raw, start, stop)
                yield from _file_sentences(window, path, lowercase, stats)

    def _interleaved(self, path: Path, lowercase: bool, stats: ReadStats) -> Iterator[list[str]]:
        for i, tokens in enumerate(TextFiles((path,)).sentences(lowercase, stats)):
            if i % self.world == self.rank:
                yield tokens

    def describe(self) -> str:
        return f"{super().describe()} (rank {self.rank} of {self.world}'s share)"


@dataclass(frozen=True)
class ShardedTokens(TokenLists):
    """Rank ``rank`` of ``world``'s sentences of token lists: those ``i ≡ rank (mod world)``."""

    rank: int = 0
    world: int = 1

    def sentences(self, lowercase: bool, stats: ReadStats) -> Iterator[list[str]]:
        for i, tokens in enumerate(super().sentences(lowercase, stats)):
            if i % self.world == self.rank:
                yield tokens


def shard(corpus: Corpus, rank: int, world: int) -> Corpus:
    """Rank ``rank`` of ``world``'s share of ``corpus``."""
    if isinstance(corpus, TextFiles):
        return ShardedFiles(corpus.paths, rank, world)
    return ShardedTokens(corpus.source, rank, world)


def corpus_identity(corpus: Corpus) -> dict[str, Any]:
    """What ranks compare: per file its size and a digest of its ends (names may differ
    between machines); for token lists their number and a digest of them all."""
    if isinstance(corpus, TextFiles):
        return {"files": [_file_identity(p) for p in corpus.paths]}
    h, n = hashlib.blake2b(digest_size=16), 0
    for tokens in corpus.sentences(False, ReadStats()):
        h.update("\x00".join(tokens).encode("utf-8", "surrogatepass") + b"\x01")
        n += 1
    return {"sentences": n, "digest": h.hexdigest()}


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise CorpusError(f"corpus: cannot read {path}: {exc.strerror}") from None


def _file_identity(path: Path) -> str:
    with open_input(path, "corpus", "text file", CorpusError) as raw:
        size = os.fstat(raw.fileno()).st_size
        h = hashlib.blake2b(raw.read(_EDGE), digest_size=16)
        raw.seek(max(size - _EDGE, 0))
        h.update(raw.read(_EDGE))
    return f"{size} bytes, {h.hexdigest()}"
