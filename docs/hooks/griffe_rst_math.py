"""Griffe extension: the docstrings' reStructuredText math and roles, as Markdown.

The docstrings are written for ``help()`` and Sphinx-style readers: ``:math:`x``` inline,
``.. math::`` blocks, ``:func:`name``` references. mkdocstrings renders Markdown, so before
rendering this turns inline math into ``$x$``, blocks into ``$$ … $$`` (both rendered by
``pymdownx.arithmatex`` + KaTeX in the browser) and roles into code spans.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`~?([^`]+)`")
_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
_GROUPED_ARG = re.compile(r"^(?P<indent>[ \t]+)(?P<names>\w+(?:, \w+)+): (?P<text>.*)$")


_NAMES_GO_ON = re.compile(r"^[ \t]+\w+(?:, \w+)*,[ \t]*$")
_NAMES_END = re.compile(r"^[ \t]+\w+(?:, \w+)*: ")


def _join_wrapped_names(lines: list[str]) -> list[str]:
    """``a, b,`` / ``c: text`` (a list of names wrapped over lines) as one line."""
    out: list[str] = []
    for line in lines:
        if out and _NAMES_GO_ON.match(out[-1]) and _NAMES_END.match(line):
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line)
    return out


def split_grouped_args(text: str) -> str:
    """``a, b: text`` (one description for several parameters, as NumPy style allows)
    becomes ``a: text`` (continuation lines kept) and ``b: see `a`.``, which the Google
    parser reads as one entry per parameter."""
    lines = _join_wrapped_names(text.splitlines())
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _GROUPED_ARG.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent, names = match.group("indent"), match.group("names").split(", ")
        out.append(f"{indent}{names[0]}: {match.group('text')}")
        i += 1
        while i < len(lines) and len(lines[i]) - len(lines[i].lstrip()) > len(indent):
            out.append(lines[i])
            i += 1
        out.extend(f"{indent}{name}: see `{names[0]}`." for name in names[1:])
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """Convert the reStructuredText math and cross-reference roles in ``text``."""
    text = split_grouped_args(_XREF_ROLE.sub(lambda m: f"`{m.group(1)}`", text))
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1).strip()}$", text)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_BLOCK.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent, body = match.group("indent"), [match.group("first").strip()]
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            body.append(lines[i].strip())
            i += 1
        formula = "\n".join(line for line in body if line)
        out.extend([f"{indent}$$", *(indent + f for f in formula.splitlines()), f"{indent}$$", ""])
    return "\n".join(out)


class RstMath(griffe.Extension):
    """Rewrite every docstring as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
