"""The ``>>>`` examples of the README and the docs' pages are run as doctests, so the
outputs they show are true.

The blocks of one file run in order and share their names, as ``doctest.testfile`` does. A
```python block may be left out only when the line before it says so and why:
``<!-- not run: reason -->`` (a block using names from a block that is not run must say so
too).
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.S)
NOT_RUN = re.compile(r"<!-- not run: (?P<why>\S.*\S) -->")


def _blocks(page: Path) -> list[tuple[int, str, str]]:
    """(line, the line before, code) of every python block of ``page`` holding ``>>>``."""
    text = page.read_text()
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("before").strip(), m.group("code"))
        for m in BLOCK.finditer(text)
        if ">>>" in m.group("code")
    ]


def test_the_readme_has_examples_and_every_skip_says_why() -> None:
    blocks = _blocks(README)
    assert len([b for b in blocks if not NOT_RUN.fullmatch(b[1])]) >= 1
    for page in PAGES:
        for line, before, _ in _blocks(page):
            if "not run" in before:
                assert NOT_RUN.fullmatch(before), f"{page.name}:{line}: a skip without a reason"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples(page: Path) -> None:
    namespace: dict[str, Any] = {}
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for line, before, code in _blocks(page):
        if NOT_RUN.fullmatch(before):
            continue
        where = f"{page.relative_to(ROOT)}:{line}"
        test = doctest.DocTestParser().get_doctest(code, namespace, where, where, 0)
        runner.run(test, out=report.append, clear_globs=False)
        namespace = test.globs
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
