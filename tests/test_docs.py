"""The API reference site builds in strict mode and documents every public name.

``mkdocs build --strict`` fails on any warning: a docstring griffe cannot parse, a
parameter documented under a name the signature does not have, a broken link or include.
The built pages are then checked against the package itself (its ``__all__`` lists and the
typer app), so a new public name, method or command without a page entry fails too; and
as a reader with no network sees them: formulas as MathML (no TeX left, nothing fetched
from another host), doctest examples as code blocks, whole command summaries. Where
Chromium is installed, a page is opened headless and its rendered DOM read back.
"""

from __future__ import annotations

import dataclasses
import html
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import typer

import crossent
import crossent.fused
import crossent.nn
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


API_PAGES = ("math", "fused", "word2vec", "nn")
PAGES = ("", *API_PAGES, "cli", "design", "results")


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


# TeX a formula would show raw: its delimiters, or a command such as \\frac or \\log
_RAW_TEX = re.compile(r"\\[()\[\]]|\$\$|\\(?:[a-zA-Z]{2,}|[,;!])(?![a-zA-Z])")


def _without_code(page_html: str) -> str:
    """The page's text outside ``<pre>``/``<code>``, scripts and styles."""
    page_html = re.sub(r"<(pre|code|script|style)\b.*?</\1>", "", page_html, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page_html))


def test_formulas_are_mathml_written_at_build_time(site: Path) -> None:
    for page in PAGES:
        page_html = _page(site, page)
        assert ":math:" not in page_html and ".. math::" not in page_html, page
        assert ":func:" not in page_html, page
        assert "arithmatex" not in page_html or "<math " in page_html, page
        raw = _RAW_TEX.findall(_without_code(page_html))
        assert not raw, f"{page or 'index'}: raw TeX {raw[:5]}"
        formulas = re.findall(r'class="arithmatex">(.{0,60})', page_html)
        assert all(f.startswith("<math ") for f in formulas), (page, formulas[:3])
    math_page = _page(site, "math")
    assert math_page.count('<math xmlns="http://www.w3.org/1998/Math/MathML"') >= 10
    # logsumexp's display formula: lse, a thin space after log, the sum with its index below
    assert '<mi>lse</mi><mo stretchy="false">(</mo>' in math_page
    assert '<mi>log</mi><mspace width="0.1667em" /><munder><mo>∑</mo>' in math_page
    assert 'display="block"' in math_page


def test_nothing_is_fetched_from_another_host(site: Path) -> None:
    """Scripts, stylesheets, fonts and images are the site's own files: no CDN."""
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".css"}:
            continue
        text = path.read_text()
        if path.suffix == ".html":  # (the theme's stylesheet styles KaTeX, should a page load it)
            assert "cdn." not in text.lower() and "katex" not in text.lower(), path
        loads = re.findall(r'<(?:script|link|img|iframe)\b[^>]*?(?:src|href)="([^"]+)"', text)
        loads += re.findall(r"(?:url\(|@import\s+)[\"']?([^)\"';\s]+)", text)
        remote = [u for u in loads if re.match(r"(?:https?:)?//", u)]
        assert not remote, f"{path.relative_to(site)} loads {remote}"


def test_docstring_examples_are_code_blocks(site: Path) -> None:
    """Every ``>>>`` of a docstring sits in a highlighted code block, prompt and output
    on their own lines; nothing becomes a quote."""
    for page in API_PAGES:
        page_html = _page(site, page)
        assert "<blockquote>" not in page_html, page
        assert ">>>" not in _without_code(page_html), page
        assert page_html.count('<span class="gp">&gt;&gt;&gt; </span>') >= 5, page
        assert "doctest:" not in page_html, page
    blocks = re.findall(r"<pre>.*?</pre>", _page(site, "math"), flags=re.DOTALL)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks]
    example = next(t for t in texts if ">>> float(logsumexp(" in t)
    assert "overflows\n1000.6931471805599\n" in example


def _fields(cls: type) -> set[str]:
    """A dataclass's or NamedTuple's fields (shown in its signature or Attributes list)."""
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    return set(getattr(cls, "_fields", ()))


def _public_members(cls: type) -> set[str]:
    """Public names a class defines itself or inherits from crossent's own classes."""
    names = set()
    for base in cls.__mro__:
        if base.__module__.startswith("crossent."):
            names |= {n for n in vars(base) if not n.startswith("_")}
    return names - _fields(cls)


@pytest.mark.parametrize(
    ("page", "module"),
    [("word2vec", crossent.word2vec), ("fused", crossent.fused), ("nn", crossent.nn)],
)
def test_every_public_member_is_listed(site: Path, page: str, module: ModuleType) -> None:
    """Inherited ones too: ``KeyedVectors.similarity`` comes from ``VectorTable``."""
    page_html = _page(site, page)
    ids = _ids(page_html)
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    classes = [getattr(module, n) for n in names if inspect.isclass(getattr(module, n))]
    assert classes
    for cls in classes:
        if not cls.__module__.startswith(module.__name__):
            continue  # documented on its own page (nn re-exports fused's output types)
        owners = {i for i in ids if i.endswith(f".{cls.__name__}")}
        assert owners, f"{cls.__name__} has no entry on the {page} page"
        for name in _public_members(cls):
            assert any(f"{o}.{name}" in ids for o in owners), f"{cls.__name__}.{name} ({page})"
        text = _without_code(page_html) + html.unescape(re.sub(r"<[^>]+>", "", page_html))
        for field in _fields(cls):  # in the signature or the Attributes list
            assert re.search(rf"\b{field}\b", text), f"{cls.__name__}.{field} ({page})"
    if page == "word2vec":
        for name in ("similarity", "get_vector", "most_similar", "distance", "index_to_key"):
            assert f"crossent.word2vec.KeyedVectors.{name}" in ids
        section = page_html.split('id="crossent.word2vec.TrainConfig"')[1]
        signature = re.search(r"<pre>.*?</pre>", section, flags=re.DOTALL)
        assert signature is not None and "min_alpha_ratio" in signature.group(0)


def test_cli_page_is_generated_from_the_typer_app(site: Path) -> None:
    """Every command and option, and each command's whole summary (typer cuts them)."""
    page_html = _page(site, "cli")
    command = typer.main.get_command(app)
    commands = command.commands  # type: ignore[attr-defined]
    assert "explain" in commands
    for name, sub in commands.items():
        assert f"crossent {name}" in page_html, name
        for param in sub.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in page_html, f"{name} {opt}"
        summary = sub.get_short_help_str(limit=10_000)
        assert f"<code>{name}</code>: {html.escape(summary, quote=False)}" in page_html, name
    assert "...</li>" not in page_html


def test_design_and_results_pages(site: Path) -> None:
    design = _page(site, "design")
    for topic in ("Numerics", "The fused linear cross-entropy", "Deviations from PyTorch"):
        assert topic in design
    results = _page(site, "results")
    first_heading = (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines()[0].lstrip("# ")
    assert first_heading in results and results.count("<table>") >= 3


def _hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / f"docs/hooks/{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _converter() -> ModuleType:
    return _hook("griffe_rst_math")


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


def test_doctests_and_literal_blocks_become_fenced_code() -> None:
    convert = _converter().rst_to_markdown
    text = (
        "Summary.\n\nReturns:\n  The loss.\n\n>>> x = f(1)  # doctest: +SKIP\n>>> print(x)\n"
        "... # more\n2\n\nAfter.\n    >= 0 wraps here"
    )
    assert convert(text) == (
        "Summary.\n\nReturns:\n  The loss.\n\n```pycon\n>>> x = f(1)\n>>> print(x)\n... # more\n"
        "2\n```\n\nAfter.\n    \\>= 0 wraps here"
    )
    # a prompt right after a line of text gets the blank line a fence needs
    assert convert("Text:\n  >>> 1\n  1") == "Text:\n\n  ```pycon\n  >>> 1\n  1\n  ```"
    literal = "Use it so::\n\n    a = 1\n\n    b = 2\n\nThen more."
    assert convert(literal) == "Use it so:\n\n```text\na = 1\n\nb = 2\n```\n\nThen more."
    # a math directive is not a literal block; ``::`` inside a line is left alone
    assert convert(".. math::\n\n    x^2") == "$$\nx^2\n$$\n"
    assert convert("a :: b\n\n    c") == "a :: b\n\n    c"


def test_mathml_keeps_tex_spacing() -> None:
    to_mathml = _hook("mathml").to_mathml
    out = to_mathml(r"-\log p = \operatorname{lse}(z) - z_y + \max_i x_i", display=False)
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert '<mo form="prefix">−</mo><mi>log</mi><mspace width="0.1667em" /><mi>p</mi>' in out
    assert '<mi>lse</mi><mo stretchy="false">(</mo>' in out  # no space before a parenthesis
    assert '<mo stretchy="false">)</mo><mo>−</mo><msub><mi>z</mi>' in out  # binary minus
    assert '<msub><mi>max</mi><mi>i</mi></msub><mspace width="0.1667em" /><msub>' in out
    assert "(<mo form" not in to_mathml(r"(-\infty, 1)", display=True)
    assert '<mo form="prefix">−</mo><mi>∞</mi>' in to_mathml(r"(-\infty, 1)", display=True)
    assert 'display="block"' in to_mathml(r"\frac{a}{b}", display=True)
    # display limits below max; TeX latex2mathml lacks, rewritten into TeX it reads
    assert "<munder><mi>max</mi><mi>i</mi></munder>" in to_mathml(r"\max_i x", display=True)
    assert "<mi>arg</mi>" in to_mathml(r"\arg\max_i x_i", display=True)
    aligned = to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
    assert aligned.count("<mtr>") == 2 and "&amp;" not in aligned
    html_in = '<p>x <span class="arithmatex">\\(a &lt; b\\)</span></p>'
    rendered = _hook("mathml").render_formulas(html_in)
    assert "<mo>&lt;</mo>" in rendered and "\\(" not in rendered
    for bad in (r"\frac{a}{", r"x^", r"\foo x"):  # unbalanced, a missing script, unknown
        with pytest.raises(ValueError, match="page.md: cannot render the formula"):
            _hook("mathml").render_formulas(f'<div class="arithmatex">\\[{bad}\\]</div>', "page.md")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _page_requests(net_log: Path) -> set[str]:
    """http(s) URLs the page asked for, from Chromium's net log (the browser's own update
    and account pings carry no page origin and are left out)."""
    events = json.loads(net_log.read_text())["events"]
    return {
        e["params"]["url"]
        for e in events
        if "url" in e.get("params", {})
        and e["params"].get("initiator") not in (None, "not an origin")
        and e["params"]["url"].startswith(("http:", "https:"))
    }


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("page", ["math", "design"])
def test_a_page_rendered_offline_in_chromium(site: Path, tmp_path: Path, page: str) -> None:
    """Headless Chromium loads the page from disk with networking off; its DOM after the
    scripts ran holds MathML and highlighted examples, no TeX and no quotes, and its net
    log shows no request from the page to any host."""
    assert CHROMIUM is not None
    net_log = tmp_path / "net.json"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9",  # nothing reaches a real host, even if asked
        f"--log-net-log={net_log}",
        "--virtual-time-budget=3000",
        "--dump-dom",
    ]
    uri = (site / page / "index.html").as_uri()
    proc = subprocess.run([CHROMIUM, *flags, uri], capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert dom.count("<math ") >= 10, dom[:500]
    raw = _RAW_TEX.findall(_without_code(dom))
    assert not raw, raw[:5]
    assert "<blockquote>" not in dom
    if page == "math":
        assert "crossent.logsumexp" in dom and 'class="gp"' in dom
    assert _page_requests(net_log) == set()
