"""Only regular files are read: a FIFO, /dev/zero or a directory given to any reader is a
clear error at once, never a block or an unbounded read (FIFOs run under a timeout)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors, SkipGram, train
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.formats.corpus import count_words
from crossent.word2vec.formats.evalsets import read_analogies, read_word_pairs
from crossent.word2vec.training.model import load_any
from crossent.word2vec.vectors.intrinsic import analogy_report, word_pairs_report

READERS: dict[str, Callable[[Path], Any]] = {
    "vectors": KeyedVectors.load,
    "checkpoint": SkipGram.load,
    "vectors or checkpoint": load_any,
    "word pairs": read_word_pairs,
    "analogies": read_analogies,
    "corpus count": lambda p: count_words([p]),
    "training corpus": lambda p: train(p),
}


def _outcome(
    reader: Callable[[Path], Any], path: Path, timeout: float = 20.0
) -> BaseException | None:
    """The exception ``reader(path)`` raises, run on a thread; fails if it is still
    running after ``timeout`` seconds (a FIFO read blocks)."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            reader(path)
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if path.is_fifo():  # unblock the reader so the thread ends
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        pytest.fail(f"reading {path} blocked for {timeout} s")
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize("reader", list(READERS))
def test_fifo_is_refused_without_blocking(tmp_path: Path, reader: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    error = _outcome(READERS[reader], fifo)
    assert isinstance(error, ValueError), error
    assert "FIFO" in str(error) and str(fifo) in str(error)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("reader", list(READERS))
def test_dev_zero_is_refused(reader: str) -> None:
    error = _outcome(READERS[reader], Path("/dev/zero"))
    assert isinstance(error, ValueError), error
    assert "got a device: /dev/zero" in str(error)


@pytest.mark.parametrize("reader", list(READERS))
def test_directory_and_missing_file(tmp_path: Path, reader: str) -> None:
    error = _outcome(READERS[reader], tmp_path)
    assert isinstance(error, ValueError) and "directory" in str(error), error
    error = _outcome(READERS[reader], tmp_path / "missing")
    assert isinstance(error, ValueError) and "file not found" in str(error), error


def test_heldout_text_fifo(trained: tuple[Path, SkipGram], tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _, model = trained
    error = _outcome(lambda p: heldout_loss(model, p), fifo)
    assert isinstance(error, ValueError) and "FIFO" in str(error), error


def test_evaluation_files_name_the_first_bad_line(tmp_path: Path) -> None:
    kv = KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32))
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# header\na\tb\t1.0\nc\td\tlots\na\tc\t2\n")
    with pytest.raises(ValueError, match=r"pairs.tsv:3: expected 'word1<TAB>word2<TAB>score'"):
        word_pairs_report(kv, pairs)
    pairs.write_text("a\tb\tnan\n")
    with pytest.raises(ValueError, match=r"pairs.tsv:1:"):
        word_pairs_report(kv, pairs)
    pairs.write_text("# only comments\n\n")
    with pytest.raises(ValueError, match="no word pairs in the file"):
        word_pairs_report(kv, pairs)
    pairs.write_text("x\ty\t1\nz\tw\t2\n")
    with pytest.raises(ValueError, match="only 0 of its 2 pairs have both words"):
        word_pairs_report(kv, pairs)
    pairs.write_bytes(b"a\tb\t1\n\xff\xfe\tb\t2\n")
    with pytest.raises(ValueError, match=r"pairs.tsv:2: not UTF-8 text"):
        word_pairs_report(kv, pairs)
    questions = tmp_path / "q.txt"
    questions.write_text(": section\na b c d\na b c\n")
    with pytest.raises(ValueError, match=r"q.txt:3: expected 4 words"):
        analogy_report(kv, questions)
    questions.write_text(": only a section\n")
    with pytest.raises(ValueError, match="no analogy questions in the file"):
        analogy_report(kv, questions)
    questions.write_text(": s\nx y z w\n")
    with pytest.raises(ValueError, match="none of its 1 questions has all four words"):
        analogy_report(kv, questions)
