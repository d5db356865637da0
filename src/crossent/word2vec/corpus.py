"""Corpus reading: text files (plain or .gz), one sentence per line, whitespace tokens.

Everything streams: a first pass counts words (:func:`count_words`), a second encodes the
in-vocabulary words of every sentence as int32 indices into a file-backed array
(:func:`encode_corpus`), which the training epochs read through a memory map. Memory stays
bounded by the vocabulary, whatever the corpus size; the text is tokenised twice in all,
not once per epoch. Undecodable bytes are replaced (U+FFFD) and counted, with one warning.
"""

from __future__ import annotations

import gzip
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_SENTENCE = 10_000  # word2vec.c's MAX_SENTENCE_LENGTH: longer lines are cut into pieces


class CorpusError(ValueError):
    """A corpus that cannot be read or is unusable (missing, unreadable, empty)."""


@dataclass
class ReadStats:
    """What a pass over the corpus saw."""

    words: int = 0
    replaced_bytes: int = 0


def check_readable(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The corpus paths, each checked to exist and be a readable file."""
    if not paths:
        raise CorpusError("corpus: expected at least one text file, got none")
    for p in map(Path, paths):
        if not p.exists():
            raise CorpusError(f"corpus: file not found: {p}")
        if not p.is_file():
            raise CorpusError(f"corpus: expected a text file, got a directory or device: {p}")
        if not os.access(p, os.R_OK):
            raise CorpusError(f"corpus: file is not readable (permissions): {p}")
    return [Path(p) for p in paths]


def iter_sentences(
    paths: Sequence[str | os.PathLike[str]],
    *,
    lowercase: bool = False,
    stats: ReadStats | None = None,
    warn: bool = True,
) -> Iterator[list[str]]:
    """Token lists, one per line (lines over 10,000 words become several); empty lines skipped."""
    stats = stats if stats is not None else ReadStats()
    for path in check_readable(paths):
        for line in _lines(path, stats):
            tokens = (line.lower() if lowercase else line).split()
            stats.words += len(tokens)
            for start in range(0, len(tokens), MAX_SENTENCE):
                yield tokens[start : start + MAX_SENTENCE]
    if warn and stats.replaced_bytes:
        warnings.warn(
            f"corpus: {stats.replaced_bytes} undecodable byte(s) were not UTF-8 and were "
            "replaced by U+FFFD",
            UnicodeWarning,
            stacklevel=2,
        )


def _lines(path: Path, stats: ReadStats) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as raw:
            for raw_line in raw:
                try:
                    yield raw_line.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw_line.decode("utf-8", errors="replace")
                    stats.replaced_bytes += text.count("\ufffd") - raw_line.count("\ufffd".encode())
                    yield text
    except (OSError, EOFError) as exc:  # gzip errors are OSError subclasses
        raise CorpusError(f"corpus: cannot read {path}: {exc}") from exc


def count_words(
    paths: Sequence[str | os.PathLike[str]], *, lowercase: bool = False
) -> tuple[Counter[str], ReadStats]:
    """Word counts over the whole corpus (first pass)."""
    stats = ReadStats()
    counts: Counter[str] = Counter()
    for tokens in iter_sentences(paths, lowercase=lowercase, stats=stats):
        counts.update(tokens)
    return counts, stats


@dataclass
class EncodedCorpus:
    """In-vocabulary word indices of every sentence (a memory-mapped file).

    ``words[offsets[s]:offsets[s + 1]]`` is sentence ``s``.
    """

    words: np.ndarray  # int32 [total]
    offsets: np.ndarray  # int64 [sentences + 1]


def encode_corpus(
    paths: Sequence[str | os.PathLike[str]],
    index: dict[str, int],
    directory: Path,
    *,
    lowercase: bool = False,
    block: int = 1 << 20,
    warn: bool = True,
) -> EncodedCorpus:
    """Second pass: write each sentence's in-vocabulary indices to ``directory``.

    ``warn=False`` when the first pass has already warned about undecodable bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    words_path, offsets = directory / "words.int32", [0]
    total, buf = 0, []
    get = index.get
    with open(words_path, "wb") as out:
        for tokens in iter_sentences(paths, lowercase=lowercase, warn=warn):
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
    words = np.memmap(words_path, dtype=np.int32, mode="r") if total else np.zeros(0, np.int32)
    return EncodedCorpus(words, np.asarray(offsets, dtype=np.int64))


def job_bounds(offsets: np.ndarray, job_words: int) -> list[tuple[int, int]]:
    """Sentence ranges ``[s0, s1)`` of about ``job_words`` words each."""
    targets = np.arange(job_words, offsets[-1] + job_words, job_words)
    cuts = np.unique(np.clip(np.searchsorted(offsets, targets), 1, len(offsets) - 1))
    starts = np.concatenate([[0], cuts[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, cuts, strict=True) if b > a]
