"""Vector files (against gensim), checkpoints, atomic writes and the KeyedVectors API."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from crossent.word2vec import KeyedVectors, SkipGram, TrainConfig, UnknownWordError, VectorFileError
from crossent.word2vec.formats.files import atomic_write
from crossent.word2vec.formats.io import load_word2vec, save_word2vec
from crossent.word2vec.training.checkpoint import read_checkpoint, save_checkpoint
from crossent.word2vec.training.vocab import Vocabulary
from crossent.word2vec.vectors.intrinsic import analogy_report, word_pairs_report

gensim_models = pytest.importorskip("gensim.models")


def _kv(rng: np.random.Generator, n: int = 50, dim: int = 8) -> KeyedVectors:
    words = [f"w{i}" for i in range(n - 2)] + ["Émile", "naïve"]
    return KeyedVectors(words, rng.normal(size=(n, dim)).astype(np.float32))


@pytest.mark.parametrize("binary", [True, False])
def test_round_trip_and_gensim_reads_ours(tmp_path: Path, binary: bool) -> None:
    kv = _kv(np.random.default_rng(0))
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save(path, binary=binary)
    back = KeyedVectors.load(path)
    assert back.words == kv.words
    np.testing.assert_array_equal(back.vectors, kv.vectors)  # text files round-trip exactly
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert list(theirs.index_to_key) == kv.words
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensims_files(tmp_path: Path, binary: bool) -> None:
    theirs = gensim_models.KeyedVectors(vector_size=6)
    rng = np.random.default_rng(1)
    theirs.add_vectors(["a", "b", "ü"], rng.normal(size=(3, 6)).astype(np.float32))
    path = tmp_path / "g.vec"
    theirs.save_word2vec_format(str(path), binary=binary)
    ours = KeyedVectors.load(path)  # format detected from the content
    assert ours.words == ["a", "b", "ü"]
    np.testing.assert_allclose(ours.vectors, theirs.vectors, rtol=1e-6)


def test_truncated_and_corrupted_files_name_the_place(tmp_path: Path) -> None:
    kv = _kv(np.random.default_rng(2), n=5, dim=4)
    kv.save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-10])
    with pytest.raises(
        VectorFileError,
        match=r"byte \d+: word 5 of 5: expected 16 bytes of vector, file ends 7 bytes later \(truncated",
    ):
        KeyedVectors.load(tmp_path / "cut.bin", binary=True)
    (tmp_path / "bad.txt").write_text("2 3\na 1 2 3\nb 1 x 3\n")
    with pytest.raises(VectorFileError, match=r"line 3: expected a word and 3 numbers"):
        KeyedVectors.load(tmp_path / "bad.txt")
    (tmp_path / "short.txt").write_text("3 2\na 1 2\n")
    with pytest.raises(VectorFileError, match=r"expected 3 vectors, the file ends after 1"):
        KeyedVectors.load(tmp_path / "short.txt")
    (tmp_path / "nohead.txt").write_text("hello world\n")
    with pytest.raises(VectorFileError, match="line 1: expected a header 'V D'"):
        KeyedVectors.load(tmp_path / "nohead.txt")


@pytest.mark.parametrize("binary", [True, False])
def test_loading_streams_the_file(tmp_path: Path, binary: bool) -> None:
    """Peak memory while loading is the vectors (plus the words), not a copy of the file."""
    n, dim = 20_000, 100
    vectors = np.random.default_rng(3).normal(size=(n, dim)).astype(np.float32)
    path = tmp_path / "big.vec"
    save_word2vec(path, [f"w{i}" for i in range(n)], vectors, binary=binary)
    assert path.stat().st_size > vectors.nbytes
    tracemalloc.start()
    try:
        words, back = load_word2vec(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert words[-1] == f"w{n - 1}"
    np.testing.assert_allclose(back, vectors, rtol=0 if binary else 1e-5)
    assert peak < vectors.nbytes * 1.3 + 80 * n, peak  # 80 bytes per short str in the list


def test_header_only_files(tmp_path: Path) -> None:
    for name in ("empty.bin", "empty.txt"):
        (tmp_path / name).write_bytes(b"0 4\n")
        kv = KeyedVectors.load(tmp_path / name)
        assert kv.words == [] and kv.vectors.shape == (0, 4)
    (tmp_path / "nobody.bin").write_bytes(b"2 4\n")
    with pytest.raises(VectorFileError, match="byte 4: word 1 of 2: no word followed by a space"):
        KeyedVectors.load(tmp_path / "nobody.bin")


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]  # no temporary left behind


def test_checkpoint_version_check(tmp_path: Path) -> None:
    vocab = Vocabulary(["a", "b", "c"], np.array([5, 3, 2], dtype=np.int64))
    model = SkipGram.initial(TrainConfig(dim=4), vocab)
    path = tmp_path / "c.npz"
    model.save(path)
    back = read_checkpoint(path)
    assert back.words == ["a", "b", "c"]
    np.testing.assert_array_equal(back.syn0, model.syn0)
    arrays = {
        "syn0": model.syn0,
        "syn1": model.syn1,
        "counts": vocab.counts,
        "words": np.asarray(vocab.words),
    }
    save_checkpoint(path, arrays, {"version": 99, "config": model.config.to_dict()})
    with pytest.raises(VectorFileError, match="checkpoint version 99 is incompatible"):
        read_checkpoint(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(VectorFileError, match="not a crossent checkpoint"):
        read_checkpoint(tmp_path / "junk.npz")


def test_most_similar_and_similarity_brute_force() -> None:
    kv = _kv(np.random.default_rng(3))
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    query = unit[kv.index["w1"]] + unit[kv.index["w2"]] - unit[kv.index["w3"]]
    scores = unit @ (query / np.linalg.norm(query))
    scores[[kv.index[w] for w in ("w1", "w2", "w3")]] = -np.inf
    expected = [kv.words[i] for i in np.argsort(-scores)[:5]]
    got = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=5)
    assert [w for w, _ in got] == expected
    assert kv.similarity("w4", "w5") == pytest.approx(float(unit[4] @ unit[5]), rel=1e-6)


def test_unknown_word_lists_close_matches() -> None:
    kv = _kv(np.random.default_rng(4))
    with pytest.raises(
        UnknownWordError, match="'Emile' is not in the vocabulary.*close matches: Émile"
    ):
        kv["Emile"]


def test_word_pairs_spearman_against_scipy(tmp_path: Path) -> None:
    kv = _kv(np.random.default_rng(5))
    rng = np.random.default_rng(6)
    lines = ["# comment"]
    pairs = []
    for _ in range(40):
        a, b = rng.choice(48, size=2, replace=False)
        score = round(float(rng.random() * 10), 1)
        lines.append(f"W{a}\tw{b}\t{score}")  # upper case: matched case-insensitively
        pairs.append((a, b, score))
    lines.append("unknownword\tw1\t5.0")
    (tmp_path / "sim.tsv").write_text("\n".join(lines))
    result = word_pairs_report(kv, tmp_path / "sim.tsv")
    ours = [kv.similarity(f"w{a}", f"w{b}") for a, b, _ in pairs]
    expected = stats.spearmanr(ours, [s for *_, s in pairs]).statistic
    assert result.spearman == pytest.approx(expected, rel=1e-9)
    assert result.pearson == pytest.approx(stats.pearsonr(ours, [s for *_, s in pairs])[0])
    assert result.pairs == 40
    assert result.oov_fraction == pytest.approx(1 / 41)


def test_analogies_on_constructed_vectors(tmp_path: Path) -> None:
    words = ["man", "woman", "king", "queen", "paris", "france", "rome", "italy", "noise"]
    base = np.eye(9, dtype=np.float32)
    vec = {w: base[i] for i, w in enumerate(words)}
    gender, capital = base[7] * 0 + np.eye(9)[8] * 0, None
    vec["woman"] = vec["man"] + np.eye(9, dtype=np.float32)[8] * 3
    vec["queen"] = vec["king"] + np.eye(9, dtype=np.float32)[8] * 3
    kv = KeyedVectors(words, np.stack([vec[w] for w in words]))
    (tmp_path / "q.txt").write_text(
        ": family\nman woman king queen\nMan King woman queen\n"
        ": capitals\nparis france rome italy\nfoo bar baz qux\n"
    )
    result = analogy_report(kv, tmp_path / "q.txt")
    assert result.questions == 3
    assert result.coverage == pytest.approx(3 / 4)
    assert result.sections["family"] == 1.0
    assert result.correct == 2 + int(result.sections["capitals"] == 1.0)
    assert gender is not None or capital is None


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    kv = _kv(np.random.default_rng(7), n=3, dim=2)
    kv.save(tmp_path / "new.bin")
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o666 & ~_umask()
    existing = tmp_path / "old.bin"
    existing.write_bytes(b"")
    existing.chmod(0o640)
    kv.save(existing)
    assert existing.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
