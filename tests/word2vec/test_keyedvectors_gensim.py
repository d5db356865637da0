"""Every gensim-named KeyedVectors method against gensim 4's output on the same vectors."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors, UnknownWordError
from crossent.word2vec.vectors.intrinsic import regularized_beta

gensim_models = pytest.importorskip("gensim.models")
scipy_special = pytest.importorskip("scipy.special")
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")

WORDS = [f"w{i}" for i in range(52)] + ["Paris", "paris", "PARIS", "Rome", "rome", "Émile"]


@pytest.fixture
def pair() -> tuple[KeyedVectors, Any]:
    """The same random vectors in ours and gensim's KeyedVectors."""
    vectors = np.random.default_rng(11).normal(size=(len(WORDS), 12)).astype(np.float32)
    theirs = gensim_models.KeyedVectors(vector_size=12)
    theirs.add_vectors(list(WORDS), vectors.copy())
    return KeyedVectors(list(WORDS), vectors.copy()), theirs


def same_neighbours(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    """Equal scores (1e-5) and equal words, except where scores tie."""
    assert len(ours) == len(theirs)
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    for (w1, s1), (w2, s2) in zip(ours, theirs, strict=True):
        assert w1 == w2 or abs(s1 - s2) < 1e-6, (w1, w2)


def test_lookup_names_and_types(pair: tuple[KeyedVectors, Any]) -> None:
    ours, theirs = pair
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    assert ours.vector_size == theirs.vector_size == 12
    for key in ("w3", "Émile", 7, np.int64(5)):
        assert ours.get_index(key) == theirs.get_index(key)
        np.testing.assert_array_equal(ours[key], theirs[key])
        np.testing.assert_allclose(
            ours.get_vector(key, norm=True), theirs.get_vector(key, norm=True), rtol=1e-6
        )
    np.testing.assert_array_equal(ours[["w1", "Rome", "w1"]], theirs[["w1", "Rome", "w1"]])
    assert ours.get_index("nope", -1) == theirs.get_index("nope", -1) == -1
    assert ("w1" in ours, "nope" in ours, 3 in ours) == (
        "w1" in theirs,
        "nope" in theirs,
        3 in theirs,
    )
    with pytest.raises(UnknownWordError, match="'Emile' is not in the vocabulary.*Émile"):
        ours["Emile"]
    with pytest.raises(KeyError):  # gensim's exception type still catches ours
        ours.get_vector("nope")
    assert not ours.get_vector("w1").flags.writeable
    ours.fill_norms()
    theirs.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    np.testing.assert_allclose(ours.get_normed_vectors(), theirs.get_normed_vectors(), rtol=1e-6)


QUERIES: list[dict[str, Any]] = [
    {"positive": "w1"},
    {"positive": ["w1", "w2"], "negative": ["w3"]},
    {"positive": ["Paris"], "negative": "rome", "topn": 3},
    {"positive": [("w1", 2.0), ("w4", 0.5)], "negative": [("w9", -0.3)]},
    {"positive": ["w1"], "restrict_vocab": 20},
    {"negative": ["w5"], "topn": 60},
    {"positive": ["w1"], "topn": 0},
]


@pytest.mark.parametrize("query", QUERIES)
def test_most_similar_with_keys(pair: tuple[KeyedVectors, Any], query: dict[str, Any]) -> None:
    ours, theirs = pair
    same_neighbours(ours.most_similar(**query), theirs.most_similar(**query))


def test_most_similar_with_vectors_and_topn_none(pair: tuple[KeyedVectors, Any]) -> None:
    ours, theirs = pair
    v = ours["w7"] * 3 + 1
    same_neighbours(ours.most_similar(v), theirs.most_similar(v))
    same_neighbours(
        ours.most_similar(positive=[v, "w2"], negative=[ours["w3"]]),
        theirs.most_similar(positive=[v, "w2"], negative=[theirs["w3"]]),
    )
    matrix = np.stack([ours["w1"], ours["w8"]])  # a matrix: one query vector per row
    same_neighbours(ours.most_similar(matrix), theirs.most_similar(matrix))
    for restrict in (None, 17):
        np.testing.assert_allclose(
            ours.most_similar("w1", topn=None, restrict_vocab=restrict),
            theirs.most_similar("w1", topn=None, restrict_vocab=restrict),
            atol=1e-6,
        )
    same_neighbours(ours.similar_by_vector(v, topn=4), theirs.similar_by_vector(v, topn=4))
    same_neighbours(ours.similar_by_word("w2", topn=4), theirs.similar_by_word("w2", topn=4))
    same_neighbours(ours.similar_by_key("w2", 5, 30), theirs.similar_by_key("w2", 5, 30))


def test_most_similar_bad_input(pair: tuple[KeyedVectors, Any]) -> None:
    ours, _ = pair
    with pytest.raises(ValueError, match="positive, negative: expected at least one"):
        ours.most_similar()
    with pytest.raises(ValueError, match=r"expected a vector of shape \(12,\), got \(3,\)"):
        ours.most_similar(np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="topn: expected an int or None"):
        ours.most_similar("w1", topn=2.5)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="restrict_vocab: expected a positive int"):
        ours.most_similar("w1", restrict_vocab=-3)


@pytest.mark.parametrize(
    "query", [{"positive": ["w1", "w2"], "negative": ["w3"]}, {"positive": "w5", "topn": 7}]
)
def test_most_similar_cosmul(pair: tuple[KeyedVectors, Any], query: dict[str, Any]) -> None:
    ours, theirs = pair
    same_neighbours(ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query))
    np.testing.assert_allclose(
        ours.most_similar_cosmul(**{**query, "topn": None}),
        theirs.most_similar_cosmul(**{**query, "topn": None}),
        rtol=1e-5,
    )
    unit = theirs.get_vector("w4", norm=True)  # gensim uses query vectors raw: give a unit one
    same_neighbours(ours.most_similar_cosmul([unit]), theirs.most_similar_cosmul([unit]))


def test_cosmul_restrict_vocab_against_brute_force(pair: tuple[KeyedVectors, Any]) -> None:
    """gensim ignores restrict_vocab here; we honour it: same as ranking the first rows."""
    ours, theirs = pair
    full = theirs.most_similar_cosmul(positive=["w1", "w2"], negative=["w3"], topn=None)
    expected = [i for i in np.argsort(-full[:25]) if i not in (1, 2, 3)][:5]
    got = ours.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5, restrict_vocab=25)
    assert [w for w, _ in got] == [WORDS[i] for i in expected]


def test_distances_ranks_and_means(pair: tuple[KeyedVectors, Any]) -> None:
    ours, theirs = pair
    assert ours.similarity("w1", "w2") == pytest.approx(theirs.similarity("w1", "w2"), abs=1e-6)
    assert ours.distance("w1", "Rome") == pytest.approx(theirs.distance("w1", "Rome"), abs=1e-6)
    np.testing.assert_allclose(ours.distances("w3"), theirs.distances("w3"), atol=1e-6)
    v = ours["w9"] + 0.5
    np.testing.assert_allclose(
        ours.distances(v, ["w1", "w2"]), theirs.distances(v, ["w1", "w2"]), atol=1e-6
    )
    ws1, ws2 = ["w1", "w2", "unknown"], ["w3", "Rome"]
    assert ours.n_similarity(ws1, ws2) == pytest.approx(theirs.n_similarity(ws1, ws2), abs=1e-6)
    assert ours.closer_than("w1", "w20") == theirs.closer_than("w1", "w20")
    assert ours.words_closer_than("w2", "w5") == theirs.words_closer_than("w2", "w5")
    assert [ours.rank("w1", w) for w in WORDS[:20]] == [theirs.rank("w1", w) for w in WORDS[:20]]
    group = ["w1", "w2", "w3", "Rome", "missing"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours.doesnt_match(group) == theirs.doesnt_match(group)
        their_rank = theirs.rank_by_centrality(group)
    for (s1, w1), (s2, w2) in zip(ours.rank_by_centrality(group), their_rank, strict=True):
        assert (w1, s1) == (w2, pytest.approx(s2, abs=1e-6))
    for kwargs in ({}, {"pre_normalize": False}, {"post_normalize": True}, {"weights": [1, -2, 3]}):
        keys: list[Any] = ["w1", v, "missing"]
        np.testing.assert_allclose(
            ours.get_mean_vector(keys, **kwargs), theirs.get_mean_vector(keys, **kwargs), atol=1e-6
        )
    with pytest.raises(KeyError):
        ours.get_mean_vector(["missing"], ignore_missing=False)
    with pytest.raises(ValueError, match="ws1, ws2: expected two non-empty"):
        ours.n_similarity([], ["w1"])


@pytest.mark.parametrize("replace", [False, True])
def test_add_vectors(pair: tuple[KeyedVectors, Any], replace: bool) -> None:
    ours, theirs = pair
    new = np.random.default_rng(2).normal(size=(3, 12)).astype(np.float32)
    ours.most_similar("w1")  # norms computed before the change must not linger
    keys = ["fresh", "w1", "other"]
    ours.add_vectors(keys, new, replace=replace)
    theirs.add_vectors(keys, new, replace=replace)
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    theirs.fill_norms(force=True)
    same_neighbours(ours.most_similar("fresh"), theirs.most_similar("fresh"))
    assert ours.add_vector("one-more", new[0]) == len(ours) - 1
    with pytest.raises(ValueError, match="weights: expected 1 vectors of size 12"):
        ours.add_vectors(["bad"], np.ones((1, 5)))


@pytest.mark.parametrize(
    ("binary", "gz"), [(True, False), (False, False), (True, True), (False, True)]
)
def test_word2vec_format_round_trip(
    pair: tuple[KeyedVectors, Any], tmp_path: Path, binary: bool, gz: bool
) -> None:
    ours, theirs = pair
    path = tmp_path / "v.vec"
    ours.save_word2vec_format(path, binary=binary)
    if gz:
        path = tmp_path / "v.vec.gz"
        path.write_bytes(gzip.compress((tmp_path / "v.vec").read_bytes()))
    for limit in (None, 10):
        back = KeyedVectors.load_word2vec_format(path, limit=limit)  # binary sniffed
        gensims = gensim_models.KeyedVectors.load_word2vec_format(
            str(path), binary=binary, limit=limit
        )
        assert back.index_to_key == gensims.index_to_key == WORDS[:limit]
        np.testing.assert_array_equal(back.vectors, gensims.vectors)
        np.testing.assert_array_equal(back.vectors, theirs.vectors[:limit])  # text: exact too
    with pytest.raises(ValueError, match="limit: expected a non-negative int"):
        KeyedVectors.load_word2vec_format(path, limit=-1)


def _pairs_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    lines = ["# comment", "not a valid line", "w1\tw2\tnot-a-number"]
    for _ in range(60):
        a, b = rng.choice(WORDS, size=2, replace=False)
        lines.append(f"{a.lower() if rng.random() < 0.3 else a}\t{b}\t{rng.random() * 10:.2f}")
    lines += ["unknownword\tw1\t5.0", "PARIS\tRome\t9.5", "w1\tw2\t3.0\textra"]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"case_insensitive": False}, {"dummy4unknown": True}, {"restrict_vocab": 30}],
)
def test_evaluate_word_pairs_tuple(
    pair: tuple[KeyedVectors, Any], tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    ours, theirs = pair
    path = _pairs_file(tmp_path)
    (op, os_, oo) = ours.evaluate_word_pairs(path, **kwargs)
    tp, ts, to = theirs.evaluate_word_pairs(str(path), **kwargs)
    assert op == pytest.approx((tp[0], tp[1]), abs=1e-5)
    assert (os_.statistic, os_.pvalue) == pytest.approx((ts[0], ts[1]), abs=1e-5)
    assert oo == pytest.approx(to, rel=1e-12)


def _analogy_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    lines = []
    for section in ("capital-common", "family", "empty"):
        lines.append(f": {section}")
        for _ in range(0 if section == "empty" else 40):
            words = list(rng.choice(WORDS[:40] + WORDS[52:], size=4, replace=False))
            lines.append(" ".join(w.lower() if rng.random() < 0.2 else w for w in words))
        lines.append("too few words")
    lines.insert(3, "w1 w2 unknown w4")
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"case_insensitive": False}, {"dummy4unknown": True}, {"restrict_vocab": 30}],
)
def test_evaluate_word_analogies_tuple(
    pair: tuple[KeyedVectors, Any], tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    ours, theirs = pair
    path = _analogy_file(tmp_path)
    score, sections = ours.evaluate_word_analogies(path, **kwargs)
    their_score, their_sections = theirs.evaluate_word_analogies(str(path), **kwargs)
    assert score == pytest.approx(their_score, abs=1e-12)
    assert [dict(s) for s in sections] == their_sections
    assert len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 5


def test_analogies_need_a_section_header(pair: tuple[KeyedVectors, Any], tmp_path: Path) -> None:
    (tmp_path / "q.txt").write_text("w1 w2 w3 w4\n")
    with pytest.raises(ValueError, match="line 1 of .*missing ': section' header"):
        pair[0].evaluate_word_analogies(tmp_path / "q.txt")


def test_regularized_beta_against_scipy() -> None:
    rng = np.random.default_rng(9)
    for a, b, x in zip(
        rng.uniform(0.5, 200, 200), rng.choice([0.5, 1.0, 3.0], 200), rng.random(200), strict=True
    ):
        expected = float(scipy_special.betainc(a, b, x))
        assert regularized_beta(a, b, x) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert regularized_beta(3, 0.5, 0.0) == 0.0
    assert regularized_beta(3, 0.5, 1.0) == 1.0
