"""Packaging promises: import weight, public API, docstrings."""

from __future__ import annotations

import subprocess
import sys

import pytest

import crossent


def test_import_does_not_load_frameworks() -> None:
    code = "import sys, crossent; print(sorted(m for m in ('torch', 'jax', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", crossent.__all__)
def test_public_functions_document_formula_shapes_and_example(name: str) -> None:
    obj = getattr(crossent, name)
    if not callable(obj):
        return
    doc = obj.__doc__ or ""
    assert ">>>" in doc, f"{name} has no runnable example"
    assert "Returns" in doc, f"{name} does not document its output shape"


def test_word2vec_is_a_lazy_attribute() -> None:
    code = (
        "import sys, crossent; assert 'numba' not in sys.modules; w = crossent.word2vec; "
        "print(w.train.__module__, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["crossent.word2vec.training.train", "False"]
