"""Evaluation sets: word-pair similarity files and analogy question files, read strictly.

Word pairs (WordSim-353, SimLex-999 style): ``word1<TAB>word2<TAB>score`` per line (extra
columns ignored; without a tab, whitespace separates), ``#`` comments and blank lines
skipped. Analogies (word2vec's ``questions-words.txt``): ``: section`` lines, then
``a b c d`` per line. The first line that does not parse is an error naming ``file:line``
(gensim skips such lines silently); a file with no item at all is an error too.

>>> import tempfile, os
>>> with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
...     _ = f.write("# comment\\ncat\\tdog\\t7.5\\n")
>>> read_word_pairs(f.name)[0].score
7.5
>>> os.unlink(f.name)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

from crossent.word2vec.formats.files import open_input


class EvaluationFileError(ValueError):
    """An evaluation file that does not parse; the message says ``file:line``."""


@dataclass(frozen=True)
class WordPair:
    """Two words and their human similarity score."""

    first: str
    second: str
    score: float


@dataclass(frozen=True)
class Analogy:
    """``a : b :: c : d`` in section ``section``."""

    section: str
    words: tuple[str, str, str, str]


def _lines(path: str | os.PathLike[str], what: str) -> Iterator[tuple[str, str]]:
    """``("file:line", text)`` of every line, decoded as UTF-8."""
    name = os.fspath(path)
    with open_input(path, what) as f:
        for number, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise EvaluationFileError(
                    f"{what}: {name}:{number}: not UTF-8 text (a binary file?)"
                ) from None
            yield f"{name}:{number}", text.rstrip("\r\n")


def read_word_pairs(path: str | os.PathLike[str], what: str = "similarity") -> list[WordPair]:
    """Every pair of a word-pair file."""
    pairs: list[WordPair] = []
    for where, line in _lines(path, what):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            a, b, score = fields[0].strip(), fields[1].strip(), float(fields[2])
            if not (a and b and math.isfinite(score)):
                raise ValueError
        except (ValueError, IndexError):
            raise EvaluationFileError(
                f"{what}: {where}: expected 'word1<TAB>word2<TAB>score', got {line[:80]!r}"
            ) from None
        pairs.append(WordPair(a, b, score))
    if not pairs:
        raise EvaluationFileError(f"{what}: {os.fspath(path)}: no word pairs in the file")
    return pairs


def read_analogies(path: str | os.PathLike[str], what: str = "analogies") -> list[Analogy]:
    """Every question of an analogy file, with its section (``""`` before any)."""
    questions: list[Analogy] = []
    section = ""
    for where, line in _lines(path, what):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise EvaluationFileError(
                f"{what}: {where}: expected 4 words 'a b c d' or ': section', got {line[:80]!r}"
            )
        questions.append(Analogy(section, (parts[0], parts[1], parts[2], parts[3])))
    if not questions:
        raise EvaluationFileError(f"{what}: {os.fspath(path)}: no analogy questions in the file")
    return questions
