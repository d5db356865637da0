"""Vocabulary files: byte-identical to gensim's (= word2vec.c's) ``word count`` lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from crossent.word2vec.training.vocab import Vocabulary
from crossent.word2vec.training.vocabfile import VocabFileError, read_vocab, save_vocab

gensim_models = pytest.importorskip("gensim.models")


def _sentences() -> list[list[str]]:
    """Distinct counts (word k occurs 40 − k times), so every order agrees; non-ASCII words."""
    rng = np.random.default_rng(3)
    tokens = [
        w
        for k, w in enumerate([f"w{i}" for i in range(30)] + ["Émile", "naïve"])
        for _ in range(40 - k)
    ]
    rng.shuffle(tokens)
    return [tokens[i : i + 9] for i in range(0, len(tokens), 9)]


def test_saved_vocabulary_is_byte_identical_to_gensims(tmp_path: Path) -> None:
    sentences = _sentences()
    theirs = gensim_models.Word2Vec(vector_size=4, min_count=12)
    theirs.build_vocab(sentences)
    theirs.wv.save_word2vec_format(str(tmp_path / "v.txt"), fvocab=str(tmp_path / "gensim.vocab"))
    counts = Counter(w for s in sentences for w in s)
    save_vocab(tmp_path / "ours.vocab", Vocabulary.build(counts, min_count=12))
    expected = (tmp_path / "gensim.vocab").read_bytes()
    assert expected.count(b"\n") == 29
    assert (tmp_path / "ours.vocab").read_bytes() == expected


def test_read_vocab_round_trip_and_word2vec_c_sentence_end(tmp_path: Path) -> None:
    path = tmp_path / "c.vocab"
    path.write_bytes("</s> 12\nthe 9\nnaïve 3\nrare 1\n".encode())
    counts = read_vocab(path)
    assert list(counts.items()) == [("the", 9), ("naïve", 3), ("rare", 1)]
    vocab = Vocabulary.build(counts, min_count=2)  # min_count applies to the file's counts
    save_vocab(tmp_path / "back.vocab", vocab)
    assert (tmp_path / "back.vocab").read_bytes() == "the 9\nnaïve 3\n".encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"the 9\nbroken\n", r"line 2: expected 'word count'"),
        (b"the 9\nthe 3\n", r"line 2: 'the' repeated"),
        (b"the -1\n", r"line 1: expected 'word count' with a non-negative integer"),
        (b"\n\n", r"no words"),
    ],
)
def test_bad_vocabulary_files(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "bad.vocab").write_bytes(content)
    with pytest.raises(VocabFileError, match=message):
        read_vocab(tmp_path / "bad.vocab")
    with pytest.raises(VocabFileError, match="expected a vocabulary file, got a directory"):
        read_vocab(tmp_path)


def test_training_from_a_read_vocabulary(tmp_path: Path) -> None:
    from crossent.word2vec.training.config import TrainConfig
    from crossent.word2vec.training.train import build_model

    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b a\nd a b\n")
    (tmp_path / "v.vocab").write_text("a 50\nb 20\nzzz 9\nc 1\n")
    model = build_model([corpus], TrainConfig(min_count=2), counts=read_vocab(tmp_path / "v.vocab"))
    assert model.vocab.words == ["a", "b", "zzz"]  # the file's words and counts, min_count on them
    assert model.vocab.counts.tolist() == [50, 20, 9]
