"""gensim's word2vec-format arguments on our validating reader and atomic writer, each
against gensim reading or writing the same bytes: exact text round trips, fvocab counts,
files without header, encodings and undecodable words, truncation, limit, datatype,
intersect_word2vec_format, 3CosMul analogies, pickles refused."""

from __future__ import annotations

import gc
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors, VectorFileError
from crossent.word2vec.formats.io import load_word2vec

gensim_models = pytest.importorskip("gensim.models")
pytestmark = pytest.mark.filterwarnings("ignore:attribute count not present:UserWarning")

WORDS = ["alpha", "beta", "gamma", "delta", "Émile", "ü", "omega"]


def tables(seed: int = 0, dim: int = 6) -> tuple[KeyedVectors, Any]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(WORDS), dim)) * 10.0 ** rng.integers(-8, 8, (1, dim))
    vectors = vectors.astype(np.float32)
    theirs = gensim_models.KeyedVectors(dim)
    theirs.add_vectors(list(WORDS), vectors.copy())
    return KeyedVectors(list(WORDS), vectors.copy()), theirs


def test_text_files_round_trip_exactly_and_match_gensims_bytes(tmp_path: Path) -> None:
    ours, theirs = tables()
    ours.save_word2vec_format(tmp_path / "ours.txt")
    theirs.save_word2vec_format(str(tmp_path / "theirs.txt"))
    assert (tmp_path / "ours.txt").read_bytes() == (tmp_path / "theirs.txt").read_bytes()
    back = KeyedVectors.load_word2vec_format(tmp_path / "ours.txt")
    np.testing.assert_array_equal(back.vectors, ours.vectors)  # every float32 bit kept
    ours.save(tmp_path / "ours2.txt", binary=False)
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "ours2.txt").vectors, ours.vectors)


def test_counts_order_rows_and_go_to_fvocab_as_gensim(tmp_path: Path) -> None:
    ours, theirs = tables(1)
    counts = [5, 9, 9, 1, 7, 9, 3]  # ties: stable, as gensim's sorted()
    for kv in (ours, theirs):
        for word, count in zip(WORDS, counts, strict=True):
            kv.set_vecattr(word, "count", count)
    for binary in (False, True):
        ours.save_word2vec_format(tmp_path / "o.vec", tmp_path / "o.voc", binary=binary)
        theirs.save_word2vec_format(str(tmp_path / "t.vec"), str(tmp_path / "t.voc"), binary)
        assert (tmp_path / "o.voc").read_bytes() == (tmp_path / "t.voc").read_bytes()
        mine = KeyedVectors.load_word2vec_format(tmp_path / "o.vec", tmp_path / "o.voc")
        gensims = gensim_models.KeyedVectors.load_word2vec_format(
            str(tmp_path / "t.vec"), str(tmp_path / "t.voc"), binary=binary
        )
        assert mine.index_to_key == gensims.index_to_key
        np.testing.assert_array_equal(mine.vectors, gensims.vectors)
        np.testing.assert_array_equal(mine.expandos["count"], gensims.expandos["count"])
    without = KeyedVectors.load_word2vec_format(tmp_path / "o.vec")  # made-up counts
    assert list(without.expandos["count"]) == list(range(len(WORDS), 0, -1))
    with pytest.raises(ValueError, match="fvocab: the table has no 'count' attribute"):
        KeyedVectors(["a"], np.ones((1, 2))).save_word2vec_format(tmp_path / "x", tmp_path / "y")


def test_fvocab_that_lacks_words_or_is_malformed(tmp_path: Path) -> None:
    ours, _ = tables()
    ours.save_word2vec_format(tmp_path / "v.txt")
    (tmp_path / "part.voc").write_text("alpha 3\nbeta 2\n")
    with pytest.warns(UserWarning, match="lacks 5 of the file's words.*'gamma'.*their count is 0"):
        kv = KeyedVectors.load_word2vec_format(tmp_path / "v.txt", tmp_path / "part.voc")
    assert kv.get_vecattr("beta", "count") == 2 and kv.get_vecattr("omega", "count") == 0
    for content, message in [
        ("alpha three\n", "line 1: expected 'word count'"),
        ("alpha 1\nalpha 2\n", "line 2: 'alpha' repeated"),
        ("alpha 1 2\n", "line 1: expected 'word count'"),
    ]:
        (tmp_path / "bad.voc").write_text(content)
        with pytest.raises(VectorFileError, match=message):
            KeyedVectors.load_word2vec_format(tmp_path / "v.txt", tmp_path / "bad.voc")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # gensim's no_header leaves a file open
def test_no_header_and_total_vec(tmp_path: Path) -> None:
    ours, theirs = tables(2)
    ours.save_word2vec_format(tmp_path / "glove.txt", write_header=False)
    theirs.save_word2vec_format(str(tmp_path / "g.txt"), write_header=False)
    assert (tmp_path / "glove.txt").read_bytes() == (tmp_path / "g.txt").read_bytes()
    for limit in (None, 3):
        mine = KeyedVectors.load_word2vec_format(
            tmp_path / "glove.txt", no_header=True, limit=limit
        )
        gensims = gensim_models.KeyedVectors.load_word2vec_format(
            str(tmp_path / "glove.txt"), no_header=True, limit=limit
        )
        assert mine.index_to_key == gensims.index_to_key
        np.testing.assert_array_equal(mine.vectors, gensims.vectors)
    gc.collect()  # gensim's unclosed file reported here, under this test's filters
    with pytest.raises(VectorFileError, match="a file without header\\? no_header=True"):
        KeyedVectors.load_word2vec_format(tmp_path / "glove.txt")
    with pytest.raises(NotImplementedError, match="no_header: only text files"):
        KeyedVectors.load_word2vec_format(tmp_path / "glove.txt", binary=True, no_header=True)
    ours.save_word2vec_format(tmp_path / "t.txt", total_vec=10)
    assert (tmp_path / "t.txt").read_bytes().startswith(b"10 6\n")
    with pytest.raises(ValueError, match="total_vec: expected an int >= 7, got 3"):
        ours.save_word2vec_format(tmp_path / "t.txt", total_vec=3)
    with pytest.raises(NotImplementedError, match="append"):
        ours.save_word2vec_format(tmp_path / "t.txt", append=True)


def _bad_utf8_file(path: Path, binary: bool) -> Path:
    """Two words, the first cut inside a 3-byte character, as word2vec.c cuts long words."""
    cut = "ありがとう".encode()[:-1]
    rows = [(cut, [0.5, 0.25]), (b"fine", [1.0, 2.0])]
    body = b"".join(
        w + b" " + (np.float32(v).tobytes() if binary else " ".join(map(str, v)).encode()) + b"\n"
        for w, v in rows
    )
    path.write_bytes(b"2 2\n" + body)
    return path


@pytest.mark.parametrize("binary", [False, True])
def test_unicode_errors_as_gensim(tmp_path: Path, binary: bool) -> None:
    path = _bad_utf8_file(tmp_path / "cut.vec", binary)
    with pytest.raises(UnicodeDecodeError) as caught:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert isinstance(caught.value, VectorFileError)
    assert "is not valid utf8" in str(caught.value) and "unicode_errors='replace'" in str(
        caught.value
    )
    with pytest.raises(UnicodeDecodeError):
        gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    for errors in ("replace", "ignore"):
        mine = KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors=errors)
        gensims = gensim_models.KeyedVectors.load_word2vec_format(
            str(path), binary=binary, unicode_errors=errors
        )
        assert mine.index_to_key == gensims.index_to_key
    assert KeyedVectors.load(path).index_to_key[0] == "ありがと\ufffd"  # ours: replace


def test_encodings(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("2 2\ncafé 1 2\nnaïve 3 4\n".encode("latin-1"))
    mine = KeyedVectors.load_word2vec_format(tmp_path / "latin.txt", encoding="latin-1")
    gensims = gensim_models.KeyedVectors.load_word2vec_format(
        str(tmp_path / "latin.txt"), encoding="latin-1"
    )
    assert mine.index_to_key == gensims.index_to_key == ["café", "naïve"]
    with pytest.raises(ValueError, match="encoding: expected an ASCII-compatible encoding"):
        KeyedVectors.load_word2vec_format(tmp_path / "latin.txt", encoding="utf-16")
    with pytest.raises(ValueError, match="encoding: expected a known text encoding"):
        KeyedVectors.load_word2vec_format(tmp_path / "latin.txt", encoding="klingon")
    with pytest.raises(ValueError, match="unicode_errors: expected 'strict', 'replace'"):
        KeyedVectors.load_word2vec_format(tmp_path / "latin.txt", unicode_errors="lenient")


@pytest.mark.parametrize("binary", [False, True])
def test_truncated_files_are_eof_errors_too(tmp_path: Path, binary: bool) -> None:
    ours, _ = tables()
    ours.save_word2vec_format(tmp_path / "full.vec", binary=binary)
    data = (tmp_path / "full.vec").read_bytes()
    lines = data.splitlines(keepends=True)
    cuts = [len(data) // 2, len(data) - 3] if binary else [len(b"".join(lines[:-2]))]
    for cut in cuts:  # (gensim fails otherwise on a text line cut in the middle)
        (tmp_path / "cut.vec").write_bytes(data[:cut])
        with pytest.raises(EOFError):
            gensim_models.KeyedVectors.load_word2vec_format(
                str(tmp_path / "cut.vec"), binary=binary
            )
        with pytest.raises(EOFError) as caught:
            KeyedVectors.load_word2vec_format(tmp_path / "cut.vec", binary=binary)
        assert isinstance(caught.value, VectorFileError) and "truncated" in str(caught.value)


def test_limit_zero_is_everything_and_datatype(tmp_path: Path) -> None:
    ours = KeyedVectors(WORDS, np.random.default_rng(3).normal(size=(len(WORDS), 4)))
    ours.save_word2vec_format(tmp_path / "v.txt")
    ours.save(tmp_path / "v.bin")
    assert len(KeyedVectors.load_word2vec_format(tmp_path / "v.txt", limit=0)) == len(WORDS)
    for name, binary in (("v.txt", False), ("v.bin", True)):
        for datatype in (np.float16, np.float64):
            path = str(tmp_path / name)
            kw = {"binary": binary, "datatype": datatype}
            mine = KeyedVectors.load_word2vec_format(path, **kw)
            gensims = gensim_models.KeyedVectors.load_word2vec_format(path, **kw)
            assert mine.vectors.dtype == gensims.vectors.dtype == datatype
            np.testing.assert_array_equal(mine.vectors, gensims.vectors)
    (tmp_path / "big.txt").write_text("1 2\nhuge 1 70000\n")  # float16's max: 65504
    (tmp_path / "big.bin").write_bytes(b"1 2\nhuge " + np.float32([1, 7e4]).tobytes())
    for name in ("big.txt", "big.bin"):
        with pytest.raises(VectorFileError, match="'huge': value beyond float16's range"):
            KeyedVectors.load_word2vec_format(tmp_path / name, datatype=np.float16)
    with pytest.raises(ValueError, match="datatype: expected a floating-point type"):
        load_word2vec(tmp_path / "v.txt", datatype=np.int32)


def test_repeated_words_keep_their_first_vector_as_gensim(tmp_path: Path) -> None:
    (tmp_path / "dup.txt").write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    with pytest.warns(UserWarning, match="1 repeated words.*'a'"):
        mine = KeyedVectors.load_word2vec_format(tmp_path / "dup.txt")
    gensims = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "dup.txt"))
    assert mine.index_to_key == gensims.index_to_key[:2] == ["a", "b"]  # gensim: a 3rd, None
    np.testing.assert_array_equal(mine.vectors, gensims.vectors[:2])  # and a row of zeros
    np.testing.assert_array_equal(mine.expandos["count"], gensims.expandos["count"][:2])


def test_intersect_word2vec_format(tmp_path: Path) -> None:
    ours, theirs = tables(4)
    other = np.random.default_rng(5).normal(size=(3, 6)).astype(np.float32)
    KeyedVectors(["beta", "unrelated", "omega"], other).save(tmp_path / "other.txt", binary=False)
    theirs.vectors_lockf = np.ones(len(WORDS), dtype=np.float32)  # a Word2Vec's wv has it
    assert ours.intersect_word2vec_format(tmp_path / "other.txt", lockf=0.5) == 2
    theirs.intersect_word2vec_format(str(tmp_path / "other.txt"), lockf=0.5)  # (gensim 4.4's
    # binary branch calls np.fromstring, gone from NumPy 2)
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(ours.vectors_lockf, theirs.vectors_lockf)
    assert ours.similarity("beta", "omega") == pytest.approx(
        float(other[0] @ other[2] / np.linalg.norm(other[0]) / np.linalg.norm(other[2])), abs=1e-6
    )  # norms recomputed
    KeyedVectors(["beta"], np.ones((1, 4))).save(tmp_path / "narrow.bin")
    with pytest.raises(ValueError, match="holds vectors of size 4, the table's are of size 6"):
        ours.intersect_word2vec_format(tmp_path / "narrow.bin")


def test_analogies_with_3cosmul(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    words = [f"v{i}" for i in range(30)]
    kv = KeyedVectors(words, rng.normal(size=(30, 5)).astype(np.float32))
    lines = [": only"] + [" ".join(rng.choice(words, 4, replace=False)) for _ in range(60)]
    (tmp_path / "q.txt").write_text("\n".join(lines) + "\n")
    _, sections = kv.evaluate_word_analogies(
        tmp_path / "q.txt", case_insensitive=False, similarity_function="most_similar_cosmul"
    )
    for a, b, c, d in sections[0]["correct"] + sections[0]["incorrect"]:
        best = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0]
        assert ((a, b, c, d) in sections[0]["correct"]) == (best == d)
    plain = kv.evaluate_word_analogies(tmp_path / "q.txt", similarity_function="most_similar")
    assert plain[0] == kv.evaluate_word_analogies(tmp_path / "q.txt")[0]
    with pytest.raises(ValueError, match="similarity_function: expected one of"):
        kv.evaluate_word_analogies(tmp_path / "q.txt", similarity_function="nearest")


def test_a_gensim_pickle_is_refused_with_the_way_to_convert_it(tmp_path: Path) -> None:
    _, theirs = tables()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.save(str(tmp_path / "model.kv"))
    assert (tmp_path / "model.kv").read_bytes()[:1] == pickle.PROTO
    with pytest.raises(VectorFileError, match="a Python pickle.*never unpickled.*save_word2vec"):
        KeyedVectors.load(tmp_path / "model.kv")
