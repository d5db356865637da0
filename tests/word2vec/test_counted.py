"""The single reading pass (:func:`read_once`) against the two passes it replaces
(:func:`count_words` + :meth:`Vocabulary.build` + :func:`encode_corpus`): the same
vocabulary, the same encoded corpus, the same warnings and errors, the same trained
vectors."""

from __future__ import annotations

import gzip
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import CorpusError, TrainConfig, train
from crossent.word2vec.formats import counted as counted_module
from crossent.word2vec.formats.corpus import MAX_SENTENCE, count_words, encode_corpus
from crossent.word2vec.formats.counted import read_once
from crossent.word2vec.training.train import build_model
from crossent.word2vec.training.vocab import Vocabulary


def _sentences(rng: np.random.Generator, n: int) -> list[list[str]]:
    """Zipf-ish tokens in two cases, empty sentences, and one longer than MAX_SENTENCE."""
    out: list[list[str]] = []
    for _ in range(n):
        length = int(rng.choice([0, 1, 2, 5, 20, 60]))
        ranks = np.minimum(rng.zipf(1.4, size=length), 400)
        out.append([f"{'W' if rng.random() < 0.2 else 'w'}{r}" for r in ranks])
    long = [f"w{r}" for r in np.minimum(rng.zipf(1.4, size=2 * MAX_SENTENCE + 17), 400)]
    out.insert(int(rng.integers(0, n + 1)), long)
    return out


def _write(path: Path, sentences: list[list[str]], bad: bytes = b"") -> Path:
    data = "\n".join(" ".join(s) for s in sentences).encode() + b"\n" + bad + b" w1\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def _corpus(form: str, seed: int, tmp_path: Path) -> Any:
    rng = np.random.default_rng(seed)
    sentences = _sentences(rng, 300)
    if form == "lists":
        return sentences
    if form == "gz":
        return _write(tmp_path / "c.txt.gz", sentences)
    if form == "files":  # two files, undecodable bytes in both
        half = len(sentences) // 2
        a = _write(tmp_path / "a.txt", sentences[:half], b"caf\xe9")
        return [a, _write(tmp_path / "b.txt", sentences[half:], b"\xff\xfe")]
    return _write(tmp_path / "c.txt", sentences)


def _two_passes(corpus: Any, lowercase: bool, min_count: int, max_vocab: int | None) -> Any:
    """What count_words + Vocabulary.build + encode_corpus give, and the warnings seen."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        counts, stats = count_words(corpus, lowercase=lowercase)
        vocab = Vocabulary.build(counts, min_count=min_count, max_size=max_vocab)
        enc = encode_corpus(corpus, vocab.index, lowercase=lowercase, warn=False)
    return counts, stats, vocab, enc, [str(w.message) for w in seen]


@pytest.mark.parametrize("form", ["file", "gz", "files", "lists"])
@pytest.mark.parametrize("seed", [0, 1])
def test_one_pass_equals_two_passes(form: str, seed: int, tmp_path: Path) -> None:
    corpus = _corpus(form, seed, tmp_path)
    rng = np.random.default_rng(seed + 100)
    for lowercase in (False, True):
        for min_count, max_vocab in [(1, None), (5, None), (5, 7), (10**9, None)]:
            counts, stats, vocab, enc, warned = _two_passes(corpus, lowercase, min_count, max_vocab)
            block = int(rng.choice([1, 97, 1 << 20]))  # blocks cut sentences anywhere
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                with read_once(corpus, lowercase=lowercase, block=block) as once:
                    built = Vocabulary.build(once.counts, min_count=min_count, max_size=max_vocab)
                    got = once.encode(built.index, block=int(rng.choice([1, 50, 1 << 20])))
            assert list(once.counts.items()) == list(counts.items())  # first-seen order
            assert once.stats == stats
            assert built.words == vocab.words
            np.testing.assert_array_equal(built.counts, vocab.counts)
            assert got.words.dtype == np.int32 and got.offsets.dtype == np.int64
            np.testing.assert_array_equal(got.words, enc.words)
            np.testing.assert_array_equal(got.offsets, enc.offsets)
            assert got.fingerprint() == enc.fingerprint()
            assert [str(w.message) for w in seen] == warned  # one warning, or none
            assert len(warned) == (form == "files")


def test_sentences_left_empty_are_dropped_and_long_ones_stay_cut() -> None:
    corpus = [["a", "x"], ["x", "x"], ["b"] * (MAX_SENTENCE + 3), [], ["x", "a", "y", "b"]]
    with read_once(corpus, block=3) as once:
        assert once.counts == {"a": 2, "x": 4, "b": MAX_SENTENCE + 4, "y": 1}
        enc = once.encode({"a": 0, "b": 1})
    assert enc.offsets.tolist() == [0, 1, 1 + MAX_SENTENCE, 4 + MAX_SENTENCE, 6 + MAX_SENTENCE]
    assert enc.words[-3:].tolist() == [1, 0, 1]
    with read_once(corpus) as once:
        nothing = once.encode({"z": 0})
    assert len(nothing.words) == 0 and nothing.offsets.tolist() == [0]


def test_empty_corpus(tmp_path: Path) -> None:
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\t\n")
    for corpus in (blank, [[], []]):
        with read_once(corpus) as once:
            assert once.counts == {} and once.stats.words == 0
            enc = once.encode({})
        assert len(enc.words) == 0 and enc.offsets.tolist() == [0]
        with pytest.raises(CorpusError) as two:
            build_model(corpus, TrainConfig(min_count=1))
        with pytest.raises(CorpusError) as one:
            train(corpus, TrainConfig(min_count=1))
        assert str(one.value) == str(two.value) and "no words" in str(one.value)


def test_no_word_reaches_min_count_is_the_same_error(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "c.txt", [["a", "b", "a"], ["c", "b", "a"]])
    config = TrainConfig(min_count=4)
    with pytest.raises(CorpusError) as two:
        build_model(corpus, config)
    with pytest.raises(CorpusError) as one:
        train(corpus, config)
    assert str(one.value) == str(two.value)
    assert "min_count=4" in str(one.value) and "'a'×3" in str(one.value)


@pytest.mark.parametrize(("model", "loss"), [("skipgram", "ns"), ("cbow", "ns"), ("cbow", "hs")])
def test_training_is_bit_identical_to_the_two_passes(model: str, loss: str, tmp_path: Path) -> None:
    corpus = _corpus("file", 3, tmp_path)
    config = TrainConfig(
        model=model, loss=loss, dim=16, epochs=2, min_count=2, threads=1, seed=7, sample=1e-3
    )
    two = train(corpus, model=build_model(corpus, config))  # counted, then only encoded
    one = train(corpus, config)
    assert one.vocab.words == two.vocab.words
    assert one.corpus == two.corpus  # the encoded corpus's fingerprint
    for name in ("syn0", "syn1", "syn1neg"):
        mine, main = getattr(one, name), getattr(two, name)
        assert (mine is None) == (main is None), name
        if mine is not None:
            np.testing.assert_array_equal(mine, main)
    assert one.position.epoch_losses == two.position.epoch_losses


class _Interrupted:
    """Sentences that end in Ctrl-C (or another error) half way through."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __iter__(self) -> Iterator[list[str]]:
        yield ["a", "b"]
        raise self.exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError("disk gone")])
def test_the_provisional_file_is_closed_on_error(
    exc: BaseException, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    make = tempfile.TemporaryFile

    def recording(*args: Any, **kwargs: Any) -> Any:
        opened.append(make(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(counted_module.tempfile, "TemporaryFile", recording)
    with pytest.raises(type(exc)):
        read_once(_Interrupted(exc))
    assert len(opened) == 1 and opened[0].closed
    with read_once([["a", "b"]]) as once:
        pass
    assert opened[-1].closed
    with pytest.raises(ValueError, match="closed"):
        once.encode({"a": 0})
