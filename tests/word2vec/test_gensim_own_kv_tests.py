"""gensim's own KeyedVectors unit tests, as the installed gensim package ships them, run on our
class: the test module is loaded unchanged, then every name through which it reaches gensim's
KeyedVectors (its imports, ``gensim.models.KeyedVectors``, the module-level loader) points at
ours. Left out: ``Gensim320Test``, which unpickles a gensim 3.2 model (we never unpickle)."""

from __future__ import annotations

import importlib
import io
import unittest

import numpy as np
import pytest

from crossent.word2vec.vectors import keyedvectors as ours

gensim_models = pytest.importorskip("gensim.models")
pytest.importorskip("ot")  # gensim's module imports POT at the top


def test_gensims_keyedvectors_tests_pass_on_our_class(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        tests = importlib.import_module("gensim.test.test_keyedvectors")
    except ImportError:
        pytest.skip("this gensim is installed without its tests")
    for name in ("KeyedVectors", "REAL", "pseudorandom_weak_vector"):
        monkeypatch.setattr(tests, name, getattr(ours, name))
    monkeypatch.setattr(gensim_models, "KeyedVectors", ours.KeyedVectors)
    loader = gensim_models.keyedvectors
    monkeypatch.setattr(loader, "_load_word2vec_format", ours._load_word2vec_format)
    suite = unittest.TestSuite()
    for case in (tests.TestKeyedVectors, tests.LoadWord2VecFormatTest):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    report = io.StringIO()
    result = unittest.TextTestRunner(stream=report, verbosity=2).run(suite)
    assert result.testsRun >= 32, report.getvalue()
    assert result.wasSuccessful(), report.getvalue()
    assert not result.skipped, report.getvalue()


SHIPPED = [  # gensim's test data: (file, binary, no_header)
    ("euclidean_vectors.bin", True, False),
    ("high_precision.kv.txt", False, False),
    ("high_precision.kv.bin", True, False),
    ("toy-model.vec", False, False),
    ("lee_fasttext.vec", False, False),
    ("crime-and-punishment.vec", False, False),
    ("test_glove.txt", False, True),
    ("poincare_vectors.bin", True, False),
    ("pretrained.vec", False, False),  # its header promises more rows than it has
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "binary", "no_header"), SHIPPED)
def test_gensims_data_files_read_and_answer_the_same(
    name: str, binary: bool, no_header: bool
) -> None:
    """What a user's program does after loading, on every vector file gensim ships."""
    utils = pytest.importorskip("gensim.test.utils")
    path = utils.datapath(name)
    try:
        theirs = gensim_models.keyedvectors.KeyedVectors.load_word2vec_format(
            path, binary=binary, no_header=no_header
        )
    except EOFError:
        with pytest.raises(EOFError):
            ours.KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)
        return
    mine = ours.KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)
    assert mine.index_to_key == theirs.index_to_key
    assert (mine.vectors == theirs.vectors).all()
    w = theirs.index_to_key
    if len(w) < 6:
        return
    got = mine.most_similar(w[1], topn=5)
    query = {"positive": w[1:3], "negative": [w[3]], "topn": 3}
    # the peer's np.dot sometimes reports a stale 'invalid' flag from OpenBLAS (seen once
    # in a fresh-clone run, not reproducible): its values are compared, not its warnings
    with np.errstate(invalid="ignore"):
        expected, expected_query = theirs.most_similar(w[1], topn=5), theirs.most_similar(**query)
    assert [k for k, _ in got] == [k for k, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert [k for k, _ in mine.most_similar(**query)] == [k for k, _ in expected_query]
    for method, args in [
        ("similarity", (w[0], w[1])),
        ("distance", (w[0], w[2])),
        ("n_similarity", (w[:2], w[2:4])),
        ("relative_cosine_similarity", (w[0], w[1])),
    ]:
        assert getattr(mine, method)(*args) == pytest.approx(
            getattr(theirs, method)(*args), abs=1e-6
        )
    for method, args in [
        ("doesnt_match", (w[:4],)),
        ("rank", (w[0], w[3])),
        ("closer_than", (w[0], w[3])),
        ("most_similar_to_given", (w[0], w[1:5])),
        ("get_vecattr", (w[0], "count")),
    ]:
        assert getattr(mine, method)(*args) == getattr(theirs, method)(*args), method
