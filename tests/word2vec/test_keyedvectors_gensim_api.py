"""The rest of gensim 4's KeyedVectors API, each call side by side with gensim's on the same
vectors: the empty-table constructor and adding, per-key attributes and sorting,
vectors_for_all, the one-pair scores and their float32 results, normalising, wmdistance."""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors, UnknownWordError

gensim_models = pytest.importorskip("gensim.models")
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")

WORDS = [f"k{i}" for i in range(40)]


def both(dim: int = 7, seed: int = 3) -> tuple[KeyedVectors, Any]:
    vectors = np.random.default_rng(seed).normal(size=(len(WORDS), dim)).astype(np.float32)
    theirs = gensim_models.KeyedVectors(dim)
    theirs.add_vectors(list(WORDS), vectors.copy())
    return KeyedVectors(list(WORDS), vectors.copy()), theirs


def test_parameter_names_are_gensims() -> None:
    """A call with gensim's keyword names works on ours: same names, same order."""
    methods = [
        "get_vecattr", "set_vecattr", "add_vector", "add_vectors", "get_mean_vector",
        "similar_by_word", "similar_by_key", "similar_by_vector", "similarity", "distance",
        "n_similarity", "distances", "closer_than", "words_closer_than", "rank",
        "most_similar_to_given", "relative_cosine_similarity", "vectors_for_all",
        "wmdistance", "init_sims", "fill_norms", "evaluate_word_pairs",
        "evaluate_word_analogies", "load_word2vec_format", "intersect_word2vec_format",
        "rank_by_centrality", "doesnt_match", "most_similar_cosmul", "get_vector", "get_index",
    ]  # fmt: skip
    mine, gensims = KeyedVectors(3), gensim_models.KeyedVectors(3)
    for name in [*methods, "save_word2vec_format"]:  # bound: no self, no cls
        ours = list(inspect.signature(getattr(mine, name)).parameters)
        theirs = list(inspect.signature(getattr(gensims, name)).parameters)
        assert ours == theirs, name


def test_empty_table_filled_one_key_at_a_time() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(300, 5))  # float64: stored as the table's float32
    ours, theirs = KeyedVectors(vector_size=5), gensim_models.KeyedVectors(vector_size=5)
    seen = ours.vectors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gensim: "adding single vectors ..."
        for i, row in enumerate(rows):
            assert ours.add_vector(f"x{i}", row) == theirs.add_vector(f"x{i}", row) == i
    assert ours.index_to_key == theirs.index_to_key
    assert ours.vectors.dtype == theirs.vectors.dtype == np.float32
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    assert seen.shape == (0, 5)  # a view handed out earlier is not changed
    assert ours.add_vector("x3", rows[0] + 1) == 3  # an existing key keeps its vector
    np.testing.assert_array_equal(ours["x3"], rows[3].astype(np.float32))
    reserved = KeyedVectors(5, 300)  # count reserves room: no empty keys
    assert len(reserved) == 0 and reserved.vectors.shape == (0, 5)


def test_add_vectors_and_setitem_as_gensim() -> None:
    ours, theirs = both()
    rng = np.random.default_rng(1)
    for kv in (ours, theirs):
        kv.add_vectors("single", rng.normal(size=7) * 0 + 2)  # one key, a [D] vector
        kv["k3"] = np.full(7, 5.0)  # replaces
        kv[["k4", "brand-new"]] = [np.full(7, 6.0), np.full(7, 7.0)]
        kv.add_vectors(["k5", "another"], np.ones((2, 7)), replace=False)  # k5 kept
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    theirs.fill_norms(force=True)
    np.testing.assert_allclose(ours.distances("k3"), theirs.distances("k3"), atol=1e-6)


def test_adding_refuses_what_gensim_would_corrupt() -> None:
    kv = KeyedVectors(3)
    with pytest.raises(ValueError, match="keys: expected distinct keys"):
        kv.add_vectors(["a", "a"], np.ones((2, 3)))
    with pytest.raises(TypeError, match="keys: new keys must be str.*got 7"):
        kv.add_vectors([7], np.ones((1, 3)))
    with pytest.raises(ValueError, match="weights: expected 1 vectors of size 3"):
        kv.add_vectors(["a"], np.ones((1, 4)))
    with pytest.raises(ValueError, match="words: expected distinct words, 'a' appears twice"):
        KeyedVectors(["a", "b", "a"], np.ones((3, 2)))
    with pytest.raises(ValueError, match="vector_size: expected a positive int, got 0"):
        KeyedVectors(0)
    with pytest.raises(ValueError, match="dtype: expected a floating-point type"):
        KeyedVectors(4, dtype=np.int32)
    with pytest.raises(TypeError, match="words: expected str keys, got 3"):
        KeyedVectors(["a", 3], np.ones((2, 2)))  # type: ignore[list-item]


def test_repr_is_one_line_like_gensims() -> None:
    big = KeyedVectors([f"w{i}" for i in range(14_000)], np.zeros((14_000, 50)))
    assert repr(big) == str(big) == "KeyedVectors<vector_size=50, 14000 keys>"
    theirs = gensim_models.KeyedVectors(50)
    theirs.add_vectors([f"w{i}" for i in range(14_000)], np.zeros((14_000, 50)))
    assert str(big) == str(theirs)


def test_vecattrs_and_sorting_by_frequency_with_ties() -> None:
    ours, theirs = both()
    counts = np.random.default_rng(2).integers(1, 6, size=len(WORDS))  # many ties
    for kv in (ours, theirs):
        for word, count in zip(WORDS, counts, strict=True):
            kv.set_vecattr(word, "count", int(count))
        kv.set_vecattr("k1", "tag", "x")
    assert [ours.get_vecattr(w, "count") for w in WORDS] == list(counts)
    assert ours.get_vecattr("k1", "tag") == theirs.get_vecattr("k1", "tag") == "x"
    assert isinstance(ours.get_vecattr("k2", "count"), np.int64)
    ours.sort_by_descending_frequency()
    theirs.sort_by_descending_frequency()
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(ours.expandos["count"], theirs.expandos["count"])
    np.testing.assert_array_equal(ours.get_normed_vectors(), ours.vectors / ours.norms[:, None])
    with pytest.raises(KeyError, match="no per-key attribute 'nope'.*'count', 'tag'"):
        ours.get_vecattr("k1", "nope")
    with pytest.raises(TypeError, match="attribute 'count' holds int64 values, got 2.5"):
        ours.set_vecattr("k1", "count", 2.5)
    with pytest.raises(UnknownWordError):
        ours.set_vecattr("missing", "count", 1)
    with pytest.raises(KeyError, match="no 'count' attribute"):
        KeyedVectors(["a"], np.ones((1, 2))).sort_by_descending_frequency()
    ours.add_vectors(["late"], np.ones((1, 7)))  # attributes grow with the table
    assert ours.get_vecattr("late", "count") == 0


@pytest.mark.parametrize("copy_vecattrs", [False, True])
def test_vectors_for_all(copy_vecattrs: bool) -> None:
    ours, theirs = both()
    for kv in (ours, theirs):
        for i, word in enumerate(WORDS):
            kv.set_vecattr(word, "count", 100 + i)
    keys = ["k9", "oov", "k2", "k9", "k30", "other oov", "k2"]
    mine = ours.vectors_for_all(keys, copy_vecattrs=copy_vecattrs)
    gensims = theirs.vectors_for_all(keys, copy_vecattrs=copy_vecattrs)
    assert mine.index_to_key == gensims.index_to_key == ["k9", "k2", "k30"]
    np.testing.assert_array_equal(mine.vectors, gensims.vectors)
    for word in mine.index_to_key:
        assert mine.get_vecattr(word, "count") == gensims.get_vecattr(word, "count")
    assert len(ours.vectors_for_all(["none", "known"])) == 0


def test_one_pair_scores_are_exact_float32() -> None:
    ours, theirs = both(dim=50)
    sims = [ours.similarity(w, w) for w in WORDS]
    assert all(type(s) is np.float32 and s == 1 for s in sims)
    assert all(ours.distance(w, w) == 0 for w in WORDS)
    rng = np.random.default_rng(4)
    for _ in range(50):
        a, b = rng.choice(WORDS, 2)
        expected = float(np.float64(ours[a]) @ ours[b]) / (
            np.linalg.norm(np.float64(ours[a])) * np.linalg.norm(np.float64(ours[b]))
        )
        assert ours.similarity(a, b) == pytest.approx(expected, abs=1e-7)
        assert ours.similarity(a, b) == pytest.approx(theirs.similarity(a, b), abs=1e-6)
        assert type(ours.distance(a, b)) is type(theirs.distance(a, b))
    assert type(ours.n_similarity(["k1", "k2"], ["k3"])) is np.float32
    zero = KeyedVectors(["z", "a"], np.array([[0.0, 0.0], [1.0, 0.0]]))
    assert zero.similarity("z", "a") == 0 and zero.distance("z", "z") == 1  # documented


def test_most_similar_to_given_and_relative_cosine_similarity() -> None:
    ours, theirs = both()
    for given in (["k1", "k2", "k3"], ["k7"], WORDS[10:30]):
        assert ours.most_similar_to_given("k0", given) == theirs.most_similar_to_given("k0", given)
    for wb, topn in (("k5", 10), ("k6", 3), ("k0", 1)):
        assert ours.relative_cosine_similarity("k0", wb, topn) == pytest.approx(
            theirs.relative_cosine_similarity("k0", wb, topn), rel=1e-5
        )
    with pytest.raises(ValueError, match="keys_list: expected at least one key"):
        ours.most_similar_to_given("k0", [])
    with pytest.raises(ValueError, match="topn: expected neighbours of 'k0'"):
        ours.relative_cosine_similarity("k0", "k1", 0)
    assert ours.similar_by_word(word="k1", topn=3) == ours.similar_by_key("k1", 3)
    assert ours.words_closer_than(word1="k1", word2="k20") == ours.closer_than("k1", "k20")


def test_unit_normalize_all_and_the_deprecated_init_sims() -> None:
    ours, theirs = both()
    ours.unit_normalize_all()
    theirs.unit_normalize_all()
    np.testing.assert_allclose(ours.vectors, theirs.vectors, rtol=1e-6)
    np.testing.assert_array_equal(ours.norms, theirs.norms)
    again, _ = both()
    with pytest.warns(DeprecationWarning, match="Call to deprecated `init_sims`"):
        again.init_sims()
    np.testing.assert_array_equal(again.norms, np.linalg.norm(again.vectors, axis=1))
    with pytest.warns(DeprecationWarning, match="unit_normalize_all"):
        again.init_sims(replace=True)
    np.testing.assert_array_equal(again.vectors, ours.vectors)
    zero = KeyedVectors(["z", "a"], np.array([[0.0, 0.0], [3.0, 4.0]]))
    zero.unit_normalize_all()  # gensim: NaN row; ours stays zero (documented)
    np.testing.assert_array_equal(zero.vectors, np.float32([[0, 0], [0.6, 0.8]]))
    np.testing.assert_array_equal(zero.norms, [0, 1])


def test_wmdistance_against_gensim() -> None:
    pytest.importorskip("ot")
    ours, theirs = both(dim=12, seed=8)
    rng = np.random.default_rng(9)
    for _ in range(12):
        doc1 = list(rng.choice([*WORDS, "oov"], int(rng.integers(1, 9))))
        doc2 = list(rng.choice(WORDS, int(rng.integers(1, 9))))
        for norm in (True, False):
            expected = theirs.wmdistance(doc1, doc2, norm=norm)
            assert ours.wmdistance(doc1, doc2, norm=norm) == pytest.approx(expected, rel=1e-9)
    assert ours.wmdistance(["k1", "k1"], ["k1"]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours.wmdistance(["oov"], ["k1"]) == theirs.wmdistance(["oov"], ["k1"]) == np.inf
    twins = KeyedVectors(["a", "b"], np.ones((2, 3)))  # every cost 0: 0 (gensim: inf)
    assert twins.wmdistance(["a"], ["b"]) == 0.0
    with pytest.raises(TypeError, match="document1: expected a list of tokens, got a str"):
        ours.wmdistance("k1 k2", ["k1"])  # type: ignore[arg-type]


def test_wmdistance_without_pot_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, _ = both()
    monkeypatch.setitem(sys.modules, "ot", None)  # import ot → ImportError
    with pytest.raises(ImportError, match=r"wmdistance needs POT.*pip install pot"):
        ours.wmdistance(["k1"], ["k2"])
