"""The ``>>>`` examples of the README and the docs' pages are run as doctests, so the
outputs they show are true.

A ```python block may be left out only when the line before it says so and why:
``<!-- not run: reason -->``.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.S)
NOT_RUN = re.compile(r"<!-- not run: (?P<why>\S.*\S) -->")


def _blocks(pages: list[Path] = PAGES) -> list[tuple[str, str, str]]:
    """(file:line, the line before, code) of every python block holding ``>>>``."""
    found = []
    for page in pages:
        text = page.read_text()
        for m in BLOCK.finditer(text):
            if ">>>" in m.group("code"):
                line = text.count("\n", 0, m.start("code")) + 1
                found.append(
                    (f"{page.relative_to(ROOT)}:{line}", m.group("before"), m.group("code"))
                )
    return found


def test_the_readme_has_examples_and_every_skip_says_why() -> None:
    blocks = _blocks([README])
    run = [b for b in blocks if not NOT_RUN.fullmatch(b[1].strip())]
    assert len(run) >= 1 and len(blocks) >= 2
    for _, before, _ in blocks:
        if "not run" in before:
            assert NOT_RUN.fullmatch(before.strip()), f"a skip without a reason: {before!r}"


@pytest.mark.parametrize(("where", "before", "code"), _blocks(), ids=lambda v: str(v)[:20])
def test_example(where: str, before: str, code: str) -> None:
    if NOT_RUN.fullmatch(before.strip()):
        pytest.skip(f"{where}: {before.strip()}")
    test = doctest.DocTestParser().get_doctest(code, {}, where, where, 0)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)
    assert result.attempted > 0
