"""gensim's corpus readers (``LineSentence``, ``PathLineSentences``) and what the facade
accepts as ``sentences``.

``LineSentence(path)``: one sentence per line, whitespace-separated tokens, lines longer
than ``max_sentence_length`` (10,000) words cut into several sentences, empty lines skipped
(gensim's rules); ``limit``: the first
``limit`` lines only. ``PathLineSentences(directory)``: the same over every file of a
directory, in alphabetical order. Both are re-iterable; given to
:class:`~crossent.word2vec.Word2Vec`, they train through the same reader as a path
(:class:`~crossent.word2vec.formats.corpus.TextFiles`, ``.gz`` included).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "text.txt"
>>> _ = path.write_text("hello world\\n\\nhello there\\n")
>>> list(LineSentence(path))
[['hello', 'world'], ['hello', 'there']]
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from crossent.word2vec.formats.corpus import (
    MAX_SENTENCE,
    Corpus,
    CorpusError,
    ReadStats,
    TextFiles,
    TokenLists,
    as_corpus,
    iter_sentences,
)
from crossent.word2vec.formats.files import open_input

SENTENCES_HINT = (
    "expected token lists (e.g. [['hello', 'world'], ['hello', 'there']]), or paths as "
    "pathlib.Path (a plain str is a sentence in gensim, which would be split into letters)"
)


class LineSentence:
    """The sentences of a text file (a path, or a binary or text file object), one per
    non-empty line."""

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[Any],
        max_sentence_length: int = MAX_SENTENCE,
        limit: int | None = None,
    ) -> None:
        _check_positive("max_sentence_length", max_sentence_length)
        if limit is not None:
            _check_positive("limit", limit, low=0)
        if isinstance(source, (str, os.PathLike)):
            open_input(Path(source), "source", "text file", CorpusError).close()
        elif not hasattr(source, "read"):
            raise TypeError(
                f"source: expected a path or a file object, got {type(source).__name__}"
            )
        self.source, self.max_sentence_length, self.limit = source, max_sentence_length, limit

    def __iter__(self) -> Iterator[list[str]]:
        if isinstance(self.source, (str, os.PathLike)):
            with open_input(Path(self.source), "source", "text file", CorpusError) as f:
                yield from self._sentences(_lines(Path(self.source), f))
        else:
            self.source.seek(0)  # re-iterable, as gensim's: every pass starts over
            yield from self._sentences(self.source)

    def _sentences(self, lines: Iterable[bytes | str]) -> Iterator[list[str]]:
        for n, line in enumerate(lines):
            if self.limit is not None and n >= self.limit:
                return
            text = line.decode("utf-8") if isinstance(line, bytes) else line
            tokens = text.split()
            for start in range(0, len(tokens), self.max_sentence_length):
                yield tokens[start : start + self.max_sentence_length]

    def text_files(self) -> TextFiles | None:
        """The same sentences read by our fast reader, when it can (a path, all lines, the
        default length)."""
        if not isinstance(self.source, (str, os.PathLike)):
            return None
        path = Path(self.source)
        fast = path.suffix != ".bz2" and self.max_sentence_length == MAX_SENTENCE
        if fast and self.limit is None:
            return TextFiles((path,))
        return None


class PathLineSentences(LineSentence):
    """:class:`LineSentence` over a file, or every file of a directory (alphabetical)."""

    def __init__(
        self,
        source: str | os.PathLike[str],
        max_sentence_length: int = MAX_SENTENCE,
        limit: int | None = None,
    ) -> None:
        path = Path(source)
        if path.is_dir():
            self.paths = tuple(sorted(p for p in path.iterdir() if p.is_file()))
            if not self.paths:
                raise CorpusError(f"source: the directory {path} holds no files")
        elif path.is_file():
            self.paths = (path,)
        else:
            raise CorpusError(f"source: {path} is neither a file nor a directory")
        super().__init__(self.paths[0], max_sentence_length, limit)

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.paths:
            yield from LineSentence(path, self.max_sentence_length, self.limit)

    def text_files(self) -> TextFiles | None:
        bz2 = any(p.suffix == ".bz2" for p in self.paths)
        if not bz2 and self.limit is None and self.max_sentence_length == MAX_SENTENCE:
            return TextFiles(self.paths)
        return None


def _lines(path: Path, raw: IO[bytes]) -> Iterator[bytes]:
    """The lines of a plain, ``.gz`` or ``.bz2`` file (gensim's ``smart_open`` reads both)."""
    if path.suffix == ".gz":
        import gzip

        with gzip.GzipFile(fileobj=raw) as unzipped:
            yield from io.BufferedReader(unzipped)
    elif path.suffix == ".bz2":
        import bz2

        with bz2.BZ2File(raw) as unzipped:
            yield from unzipped
    else:
        yield from raw


def _check_positive(name: str, value: object, low: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        what = "a positive integer" if low == 1 else "an integer >= 0"
        raise ValueError(f"{name}: expected {what}, got {value!r}")


_NONE = object()


def sentences_source(sentences: object, name: str = "sentences") -> Corpus:
    """What the facade trains on: token lists (gensim's ``sentences``), a
    ``LineSentence``, or (our extension) paths given as ``pathlib.Path``. A plain ``str``,
    or a list of them, is refused: gensim reads it as characters, we would read it as paths."""
    if isinstance(sentences, LineSentence):
        files = sentences.text_files()
        if files is not None:
            return files
    if isinstance(sentences, (str, bytes)):
        raise TypeError(f"{name}: {SENTENCES_HINT}; got a {type(sentences).__name__}")
    if isinstance(sentences, os.PathLike):
        return as_corpus(sentences)
    if not isinstance(sentences, Iterable):
        raise TypeError(f"{name}: {SENTENCES_HINT}; got {type(sentences).__name__}")
    if iter(sentences) is sentences:
        raise TypeError(
            f"{name}: expected a re-iterable (the corpus is read more than once), got an "
            f"iterator ({type(sentences).__name__}); pass a list, or a class whose __iter__ "
            "starts over (as gensim's LineSentence)"
        )
    first = next(iter(sentences), _NONE)
    if isinstance(first, (str, bytes)):
        raise TypeError(f"{name}: {SENTENCES_HINT}; got a list of {type(first).__name__}")
    if first is _NONE:
        raise CorpusError(f"{name}: expected at least one sentence, got none")
    if not isinstance(first, (Iterable, os.PathLike)):
        raise TypeError(f"{name}: {SENTENCES_HINT}; got a {type(first).__name__} in it")
    return as_corpus(sentences)


def corpus_file_source(corpus_file: object) -> Corpus:
    """gensim's ``corpus_file``: the path of a LineSentence-format text file."""
    if not isinstance(corpus_file, (str, os.PathLike)):
        raise TypeError(f"corpus_file: expected a path, got {type(corpus_file).__name__}")
    source = TextFiles((Path(corpus_file),))
    source.check()
    return source


@dataclass
class CorpusCounts:
    """One pass over a corpus: word counts, sentences (non-empty), raw words."""

    counts: Counter[str]
    sentences: int
    words: int


def count_corpus(source: Corpus) -> CorpusCounts:
    """Word counts and sizes of ``source``, as gensim counts ``corpus_count`` and
    ``corpus_total_words``: every sentence of an iterable, empty ones included; the
    non-empty lines of files."""
    source.check()
    counts: Counter[str] = Counter()
    stats, items = ReadStats(), _Counted(source.source) if isinstance(source, TokenLists) else None
    reading = TokenLists(items) if items is not None else source
    lines = 0
    for tokens in iter_sentences(reading, stats=stats):
        counts.update(tokens)
        lines += 1
    return CorpusCounts(counts, items.n if items is not None else lines, stats.words)


class _Counted:
    """An iterable that counts the items of its last pass."""

    def __init__(self, source: Iterable[Any]) -> None:
        self.source, self.n = source, 0

    def __iter__(self) -> Iterator[Any]:
        self.n = 0
        for item in self.source:
            self.n += 1
            yield item
