"""The API reference site builds in strict mode and documents every public name.

``mkdocs build --strict`` fails on any warning: a docstring griffe cannot parse, a
parameter documented under a name the signature does not have, a broken link or include.
The built pages are then checked against the package itself (its ``__all__`` lists and the
typer app), so a new public name or command without a page entry fails too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import typer

import crossent
import crossent.fused
import crossent.word2vec
from crossent.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text()


def _ids(html: str) -> set[str]:
    return set(re.findall(r'id="(crossent\.[\w.]+)"', html))


def test_every_top_level_name_is_documented(site: Path) -> None:
    """Math-layer names on the math page; the fused ones ``crossent`` re-exports lazily on
    the fused page (under ``crossent.fused``)."""
    math_ids, fused_ids = _ids(_page(site, "math")), _ids(_page(site, "fused"))
    names = [n for n in crossent.__all__ if n != "__version__"]
    assert "softmax_cross_entropy" in names
    for name in names:
        if getattr(crossent, name).__module__.startswith("crossent.fused"):
            assert f"crossent.fused.{name}" in fused_ids, f"crossent.{name} missing (fused page)"
        else:
            assert f"crossent.{name}" in math_ids, f"crossent.{name} missing from the math page"


@pytest.mark.parametrize(
    ("page", "module"), [("fused", crossent.fused), ("word2vec", crossent.word2vec)]
)
def test_layer_pages_document_every_exported_name(
    site: Path, page: str, module: ModuleType
) -> None:
    ids = _ids(_page(site, page))
    for name in module.__all__:
        obj = getattr(module, name)
        where = {f"{module.__name__}.{name}", f"{obj.__module__}.{obj.__qualname__}"}
        assert where & ids, f"{module.__name__}.{name} missing"


def test_nn_page_documents_the_modules(site: Path) -> None:
    ids = _ids(_page(site, "nn"))
    for name in ("CrossEntropyLoss", "BCEWithLogitsLoss", "LinearCrossEntropyLoss"):
        assert f"crossent.nn.{name}" in ids


def test_formulas_are_rendered_not_raw_rest(site: Path) -> None:
    for page in ("math", "fused", "word2vec", "nn", "design"):
        html = _page(site, page)
        assert ":math:" not in html and ".. math::" not in html and ":func:" not in html, page
    math_page = _page(site, "math")
    assert math_page.count('class="arithmatex"') >= 10  # KaTeX renders these in the browser
    assert r"\operatorname{lse}" in math_page


def test_cli_page_is_generated_from_the_typer_app(site: Path) -> None:
    html = _page(site, "cli")
    command = typer.main.get_command(app)
    commands = command.commands  # type: ignore[attr-defined]
    assert "explain" in commands
    for name, sub in commands.items():
        assert f"crossent {name}" in html, name
        for param in sub.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in html, f"{name} {opt}"


def test_design_and_results_pages(site: Path) -> None:
    design = _page(site, "design")
    for topic in ("Numerics", "The fused linear cross-entropy", "Deviations from PyTorch"):
        assert topic in design
    results = _page(site, "results")
    first_heading = (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines()[0].lstrip("# ")
    assert first_heading in results and results.count("<table>") >= 3


def _converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "griffe_rst_math", ROOT / "docs/hooks/griffe_rst_math.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rst_math_conversion() -> None:
    convert = _converter().rst_to_markdown
    text = "Loss :math:`-\\log p_y` via :func:`crossent.logsumexp`.\n\n    .. math::\n        a = b\n        + c\n\n    Args:\n      p, q: inputs\n        of one shape.\n      axis: the axis."
    out = convert(text)
    assert "$-\\log p_y$" in out and "`crossent.logsumexp`" in out
    assert "    $$\n    a = b\n    + c\n    $$" in out
    assert "      p: inputs\n        of one shape.\n      q: see `p`.\n      axis: the axis." in out
    assert convert(".. math:: x^2") == "$$\nx^2\n$$\n"
    wrapped = "    Args:\n      a, b,\n        c: shared.\n      d: own."
    assert (
        convert(wrapped)
        == "    Args:\n      a: shared.\n      b: see `a`.\n      c: see `a`.\n      d: own."
    )
