"""Vocabulary files in word2vec.c's format (``-save-vocab`` / ``-read-vocab``).

One ``word count`` line per word, UTF-8, ``\\n`` line ends: the bytes gensim's
``save_word2vec_format(fvocab=...)`` writes for the same vocabulary, the order of ties
included. gensim 4.4 sorts its vocabulary by decreasing count with ties *last seen first*
(``np.lexsort((-index, -count))`` over first-seen order), while our
:class:`~crossent.word2vec.training.vocab.Vocabulary` keeps ties first seen first; the file
is put in gensim's order when written (training is untouched). Reading undoes it: the words
of a run of equal counts are read last first, so that a file read and saved again is the
same file.

Reading gives the counts in file order (ties as just said); training applies ``min_count`` /
``max_vocab`` to them as word2vec.c does. word2vec.c's sentence-end token ``</s>`` (its first
line) is skipped: here line ends delimit sentences and are never a word.

>>> from collections import Counter
>>> from crossent.word2vec.training.vocab import Vocabulary
>>> vocab_lines(Vocabulary.build(Counter("abcab"), min_count=1))
b'b 2\\na 2\\nc 1\\n'
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from crossent.word2vec.formats.files import atomic_write, open_input
from crossent.word2vec.training.vocab import Vocabulary

SENTENCE_END = "</s>"


class VocabFileError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and line."""


def file_order(counts: np.ndarray) -> np.ndarray:
    """The order of the file's lines: decreasing count, ties by decreasing vocabulary index
    (gensim's ``sort_by_descending_frequency``). ``counts``: int [V] → indices int64 [V]."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.lexsort((-np.arange(len(counts)), -counts))


def vocab_lines(vocab: Vocabulary) -> bytes:
    """The file's bytes: ``word count\\n`` per word, in :func:`file_order`."""
    words, counts = vocab.words, vocab.counts
    return "".join(f"{words[i]} {int(counts[i])}\n" for i in file_order(counts)).encode()


def save_vocab(path: str | os.PathLike[str], vocab: Vocabulary) -> None:
    """Write ``vocab`` in word2vec.c's format, atomically."""
    with atomic_write(path) as f:
        f.write(vocab_lines(vocab))


def read_vocab(path: str | os.PathLike[str], what: str = "read_vocab") -> Counter[str]:
    """Word counts from a word2vec.c vocabulary file, in file order but each run of equal
    counts last first (see the module; ``</s>`` skipped). ``what`` names the file in
    errors (the CLI: ``--read-vocab``)."""
    source = f"{what}: {os.fspath(path)}"
    counts: Counter[str] = Counter()
    with open_input(path, what, "vocabulary file", VocabFileError) as f:
        for number, raw in enumerate(f, start=1):
            if b"\0" in raw:
                raise VocabFileError(
                    f"{source}: line {number}: a NUL byte: not a text file (a vector file or "
                    "a checkpoint?); expected 'word count' lines"
                )
            text = raw.decode("utf-8", errors="replace")
            fields = text.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit():
                vector = len(fields) > 2 and all(_is_number(x) for x in fields[1:])
                raise VocabFileError(
                    f"{source}: line {number}: expected 'word count' with a non-negative "
                    f"integer count, got {text.rstrip()[:80]!r}"
                    + (" (a text vector file?)" if vector else "")
                )
            word, count = fields[0], int(fields[1])
            if word in counts:
                raise VocabFileError(f"{source}: line {number}: {word!r} repeated")
            if word != SENTENCE_END:
                counts[word] = count
    if not counts:
        raise VocabFileError(f"{source}: no words")
    return _ties_last_first(counts)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _ties_last_first(counts: Counter[str]) -> Counter[str]:
    """``counts`` with each run of equal consecutive counts reversed (undoes :func:`file_order`
    for a vocabulary built from them by a stable sort)."""
    items = list(counts.items())
    result: Counter[str] = Counter()
    start = 0
    for end in range(1, len(items) + 1):
        if end == len(items) or items[end][1] != items[start][1]:
            result.update(dict(reversed(items[start:end])))
            start = end
    return result
