"""Vocabulary files in word2vec.c's format (``-save-vocab`` / ``-read-vocab``).

One ``word count`` line per word, most frequent first, UTF-8, ``\\n`` line ends — the bytes
word2vec.c's ``SaveVocab`` and gensim's ``save_word2vec_format(fvocab=...)`` write. Reading
gives the counts in file order; training then applies ``min_count`` / ``max_vocab`` to them
as word2vec.c does. word2vec.c's sentence-end token ``</s>`` (its first line) is skipped: here
line ends delimit sentences and are never a word.

>>> from collections import Counter
>>> from crossent.word2vec.training.vocab import Vocabulary
>>> vocab_lines(Vocabulary.build(Counter("aab"), min_count=1))
b'a 2\\nb 1\\n'
"""

from __future__ import annotations

import os
from collections import Counter

from crossent.word2vec.formats.files import atomic_write, open_input
from crossent.word2vec.training.vocab import Vocabulary

SENTENCE_END = "</s>"


class VocabFileError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and line."""


def vocab_lines(vocab: Vocabulary) -> bytes:
    """The file's bytes: ``word count\\n`` per word, in vocabulary order."""
    return "".join(
        f"{w} {int(c)}\n" for w, c in zip(vocab.words, vocab.counts, strict=True)
    ).encode()


def save_vocab(path: str | os.PathLike[str], vocab: Vocabulary) -> None:
    """Write ``vocab`` in word2vec.c's format, atomically."""
    with atomic_write(path) as f:
        f.write(vocab_lines(vocab))


def read_vocab(path: str | os.PathLike[str]) -> Counter[str]:
    """Word counts from a word2vec.c vocabulary file, in file order (``</s>`` skipped)."""
    source = os.fspath(path)
    counts: Counter[str] = Counter()
    with open_input(path, "read_vocab", "vocabulary file", VocabFileError) as f:
        for number, raw in enumerate(f, start=1):
            fields = raw.decode("utf-8", errors="replace").split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit():
                raise VocabFileError(
                    f"read_vocab: {source}: line {number}: expected 'word count' with a "
                    f"non-negative integer count, got {raw[:80]!r}"
                )
            word, count = fields[0], int(fields[1])
            if word in counts:
                raise VocabFileError(f"read_vocab: {source}: line {number}: {word!r} repeated")
            if word != SENTENCE_END:
                counts[word] = count
    if not counts:
        raise VocabFileError(f"read_vocab: {source}: no words")
    return counts
