"""gensim's own KeyedVectors unit tests, as the installed gensim package ships them, run on our
class: the test module is loaded unchanged, then every name through which it reaches gensim's
KeyedVectors (its imports, ``gensim.models.KeyedVectors``, the module-level loader) points at
ours. Left out: ``Gensim320Test``, which unpickles a gensim 3.2 model (we never unpickle)."""

from __future__ import annotations

import importlib
import io
import unittest

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
