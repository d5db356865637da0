"""The corpus as users have it (a path, paths, token lists), read in bounded memory."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from crossent.word2vec import CorpusError, TrainConfig, train
from crossent.word2vec.formats.corpus import MAX_SENTENCE, iter_sentences

CONFIG = TrainConfig(dim=8, epochs=2, min_count=1, sample=0, threads=1, seed=5)


class Sentences:
    """A re-iterable corpus, as gensim's users write them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self):  # type: ignore[no-untyped-def]
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                yield line.split()


def test_every_form_gives_the_same_model(small_corpus: Path, tmp_path: Path) -> None:
    half = small_corpus.read_text().splitlines()
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(half[:100]) + "\n")
    second.write_text("\n".join(half[100:]) + "\n")
    reference = train(small_corpus, CONFIG)
    forms = {
        "str path": str(small_corpus),
        "Path": small_corpus,
        "list of paths": [first, second],
        "list of token lists": [line.split() for line in half],
        "tuples": tuple(tuple(line.split()) for line in half),
        "re-iterable": Sentences(small_corpus),
    }
    for name, corpus in forms.items():
        model = train(corpus, CONFIG)
        assert model.vocab.words == reference.vocab.words, name
        np.testing.assert_array_equal(model.syn0, reference.syn0, err_msg=name)


def test_bad_corpus_forms(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="got an iterator"):
        train((line.split() for line in ["a b"]), CONFIG)
    with pytest.raises(TypeError, match="sentence 1: expected a list of str tokens, got str"):
        train([["a", "b"], "c d"], CONFIG)
    with pytest.raises(TypeError, match="sentence 0: expected str tokens, got int"):
        train([["a", 1]], CONFIG)
    with pytest.raises(ValueError, match="sentence 0: token 'a b' is empty or contains whitespace"):
        train([["a b", "c"]], CONFIG)
    with pytest.raises(CorpusError, match="got none"):
        train([], CONFIG)
    with pytest.raises(TypeError, match="got int"):
        train(3, CONFIG)  # type: ignore[arg-type]


def test_long_lines_are_cut_while_reading(tmp_path: Path) -> None:
    words = [f"w{i % 7}" for i in range(3 * MAX_SENTENCE + 17)]
    path = tmp_path / "one-line.txt"
    path.write_text(" ".join(words))  # no newline at all
    sentences = list(iter_sentences(path))
    assert [len(s) for s in sentences] == [MAX_SENTENCE] * 3 + [17]
    assert list(itertools.chain(*sentences)) == words
    token_lists = list(iter_sentences([words]))
    assert token_lists == sentences


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_chunk_boundaries_never_change_the_tokens(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Émile  naïve\tcafé\r\n\nβ γ\x0bδ \xa0ε\n last"
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    expected = [line.split() for line in text.split("\n") if line.split()]
    monkeypatch.setattr("crossent.word2vec.formats.corpus.CHUNK_BYTES", chunk)
    assert list(iter_sentences(path)) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 50, "is not text"),
        (b"PK\x03\x04" + bytes(100), "looks like a crossent checkpoint"),
        (b"\x1f\x8b\x08" + bytes(100), "looks gzip-compressed"),
        (b"\xff\xfe\xfd" * 1000, "is not UTF-8 text"),
    ],
)
def test_binary_garbage_is_not_a_corpus(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "garbage.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        train(path, CONFIG)


MEASURE = textwrap.dedent(
    """
    import json, sys
    from crossent.word2vec.formats.corpus import count_words, encode_corpus

    def peak_kib():  # this process's own high-water mark (ru_maxrss inherits the parent's)
        with open("/proc/self/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))

    counts, _ = count_words(sys.argv[1])
    index = {w: i for i, w in enumerate(counts)}
    enc = encode_corpus(sys.argv[1], index, warn=False)
    print(json.dumps({"peak_kib": peak_kib(), "words": len(enc.words), "sentences": len(enc.offsets) - 1}))
    """
)


def _peak(path: Path) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def _one_line_vs_many(tmp_path: Path, megabytes: int) -> None:
    rng = np.random.default_rng(0)
    vocab = np.array([f"word{i}" for i in range(5000)])
    words = vocab[rng.integers(0, len(vocab), size=megabytes * 1_000_000 // 9)]
    lines = tmp_path / "lines.txt"
    one = tmp_path / "one.txt"
    with open(lines, "w") as a, open(one, "w") as b:
        for start in range(0, len(words), 20):
            piece = " ".join(words[start : start + 20])
            a.write(piece + "\n")
            b.write(piece + " ")
    n = len(words)
    del words
    many, single = _peak(lines), _peak(one)
    print(f"peak memory: one line {single['peak_kib']} KiB, lines {many['peak_kib']} KiB")
    assert single["words"] == many["words"] == n
    assert single["sentences"] == -(-n // MAX_SENTENCE)  # cut while reading
    assert single["peak_kib"] <= 1.5 * many["peak_kib"], (single, many)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_one_line_corpus_memory_is_bounded(tmp_path: Path) -> None:
    """A 20 MB corpus on one line costs no more memory than on many lines (the old
    line-by-line reader needed ~10× the line's size for its token list)."""
    _one_line_vs_many(tmp_path, 20)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_one_line_corpus_memory_150_mb(tmp_path: Path) -> None:
    _one_line_vs_many(tmp_path, 150)
