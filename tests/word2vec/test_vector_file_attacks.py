"""Vector files as a demanding user makes them: every dimension, long tokens, .gz,
non-finite values, headers that lie, a checkpoint where vectors are expected."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors, SkipGram, VectorFileError
from crossent.word2vec.formats.io import load_word2vec, save_word2vec

gensim_models = pytest.importorskip("gensim.models")


def test_text_files_of_every_dimension_1_to_1000(tmp_path: Path) -> None:
    """Format decided from the first record: a dimension-500 text file is text (the old
    4096-byte sniff read it as binary and found no words)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "v.txt"
    for dim in range(1, 1001):
        vectors = rng.normal(size=(2, dim)).astype(np.float32)
        save_word2vec(path, ["alpha", "beta"], vectors, binary=False)
        words, back = load_word2vec(path)
        assert words == ["alpha", "beta"], dim
        np.testing.assert_allclose(back, vectors, rtol=1e-5, err_msg=str(dim))


@pytest.mark.parametrize("dim", [1, 2, 3, 299, 500, 1000])
@pytest.mark.parametrize("binary", [True, False])
def test_gensim_files_of_any_dimension(tmp_path: Path, dim: int, binary: bool) -> None:
    theirs = gensim_models.KeyedVectors(vector_size=dim)
    rng = np.random.default_rng(dim)
    theirs.add_vectors(["a", "bb", "ccc"], rng.normal(size=(3, dim)).astype(np.float32))
    path = tmp_path / "g.vec"
    theirs.save_word2vec_format(str(path), binary=binary)
    ours = KeyedVectors.load(path)
    assert ours.words == ["a", "bb", "ccc"]
    np.testing.assert_allclose(ours.vectors, theirs.vectors, rtol=1e-6)


@pytest.mark.parametrize("binary", [True, False])
def test_a_20000_character_token(tmp_path: Path, binary: bool) -> None:
    long = "x" * 19_999 + "é"
    vectors = np.arange(8, dtype=np.float32).reshape(2, 4)
    path = tmp_path / "long.vec"
    save_word2vec(path, [long, "b"], vectors, binary=binary)
    words, back = load_word2vec(path)
    assert words == [long, "b"]
    np.testing.assert_array_equal(back, vectors)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert theirs.index_to_key[0] == long  # gensim accepts it too


@pytest.mark.parametrize("binary", [True, False])
def test_gzip_files(tmp_path: Path, binary: bool) -> None:
    vectors = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    path = tmp_path / "v.vec.gz"
    save_word2vec(path, list("abcde"), vectors, binary=binary)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    words, back = load_word2vec(path)
    assert words == list("abcde")
    np.testing.assert_allclose(back, vectors, rtol=1e-5)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    np.testing.assert_allclose(theirs.vectors, vectors, rtol=1e-5)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"2 3\na 1 2 3\n")[:-6])
    with pytest.raises(VectorFileError, match="bad.gz"):
        load_word2vec(tmp_path / "bad.gz")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_values_name_the_word(tmp_path: Path, value: str) -> None:
    (tmp_path / "v.txt").write_text(f"2 3\nok 1 2 3\nbroken 1 {value} 3\n")
    with pytest.raises(VectorFileError, match=r"line 3: word 'broken': non-finite value"):
        load_word2vec(tmp_path / "v.txt")
    vec = np.array([1, float(value), 3], dtype="<f4").tobytes()
    (tmp_path / "v.bin").write_bytes(b"1 3\nbroken " + vec + b"\n")
    with pytest.raises(VectorFileError, match="word 'broken': non-finite value"):
        load_word2vec(tmp_path / "v.bin")
    (tmp_path / "big.txt").write_text("1 2\nhuge 1 1e39\n")
    with pytest.raises(VectorFileError, match="line 2: word 'huge': value beyond float32's range"):
        load_word2vec(tmp_path / "big.txt")
    with pytest.raises(ValueError, match="word 'x' has a non-finite value"):
        save_word2vec(tmp_path / "w.bin", ["x"], np.array([[float(value)]]))


def test_headers_that_lie(tmp_path: Path) -> None:
    cases = {
        b"1 3\na 1 2 3\nb 4 5 6\n": "line 3: the header announces 1 vectors, more lines follow",
        b"1000000000 300\na 1 2 3\n": r"line 2: expected a word and 300 numbers",
        b"3 2\na 1 2\n": "expected 3 vectors, the file ends after 1",
        b"2 3 4\na 1 2 3\n": "line 1: expected a header 'V D'",
        b"-1 3\n": "invalid header",
        b"2 0\n": "invalid header",
        b"": "the file is empty",
        b"99999999999 99999999999\nx": "no word followed by a space",
    }
    for i, (content, message) in enumerate(cases.items()):
        path = tmp_path / f"lie{i}.vec"
        path.write_bytes(content)
        with pytest.raises(VectorFileError, match=message):
            load_word2vec(path)
    path = tmp_path / "more.bin"
    save_word2vec(path, ["a"], np.ones((1, 2)))
    path.write_bytes(path.read_bytes() + b"b " + np.ones(2, "<f4").tobytes())
    with pytest.raises(VectorFileError, match="the header announces 1 vectors, more data follows"):
        load_word2vec(path)


def test_words_that_cannot_be_written_are_refused(tmp_path: Path) -> None:
    for bad in ["two words", "", "tab\there", "new\nline"]:
        with pytest.raises(ValueError, match="words: expected tokens without whitespace"):
            save_word2vec(tmp_path / "v.bin", [bad], np.ones((1, 2)))
    assert not (tmp_path / "v.bin").exists()


def test_checkpoint_where_vectors_are_expected_and_vice_versa(
    trained: tuple[Path, SkipGram], tmp_path: Path
) -> None:
    path, model = trained
    with pytest.raises(VectorFileError, match="a crossent checkpoint"):
        KeyedVectors.load(path)
    model.keyed_vectors().save(tmp_path / "v.bin")
    with pytest.raises(
        VectorFileError, match=r"not a crossent checkpoint \(a word2vec vector file\?\)"
    ):
        SkipGram.load(tmp_path / "v.bin")


@pytest.mark.parametrize("dim", [1, 3, 100])
@pytest.mark.parametrize("head", [b"4\n", b" 7\n", b"\n"])
def test_binary_whose_floats_hold_a_newline_is_read_as_binary(
    tmp_path: Path, dim: int, head: bytes
) -> None:
    """The first vector's bytes start with digits and a newline, so the first 'line' reads
    as a text record ('<unk> 4'); the format is still detected as binary (it once was not)."""
    from crossent.word2vec.formats.io import load_word2vec, save_word2vec

    rng = np.random.default_rng(dim)
    vectors = rng.standard_normal((3, dim)).astype(np.float32)
    raw = bytearray(vectors[0].tobytes())
    raw[:4] = (head + b"\x00\x00\x3f\x3f")[:4]
    vectors[0] = np.frombuffer(bytes(raw), dtype=np.float32)
    vectors[0] = np.where(np.isfinite(vectors[0]), vectors[0], 0.5)
    assert vectors[0].tobytes()[: len(head)] == head
    path = tmp_path / "v.bin"
    save_word2vec(path, ["<unk>", "b", "c"], vectors, binary=True)
    words, got = load_word2vec(path)  # binary=None: detected
    assert words == ["<unk>", "b", "c"]
    np.testing.assert_array_equal(got, vectors)
