"""Griffe extension: the docstrings' reStructuredText math, roles and examples, as Markdown.

The docstrings are written for ``help()``, doctest and Sphinx-style readers: ``:math:`x```
inline, ``.. math::`` blocks, ``:func:`name``` references, bare ``>>>`` examples and ``::``
literal blocks. mkdocstrings renders Markdown, where ``>>>`` opens three nested quotes and
a literal block's ``::`` stays as text, so before rendering this turns inline math into
``$x$``, blocks into ``$$ … $$`` (``pymdownx.arithmatex`` marks both; the ``mathml`` hook
renders them as MathML when the site is built), roles into code spans, each doctest example
into a ``pycon`` code block (prompts and output kept, ``# doctest:`` flags dropped) and each
literal block into a ``text`` code block.
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


_PROMPT = re.compile(r"^(?P<indent>[ \t]*)>>>(?: |$)")
_QUOTE_START = re.compile(r"^([ \t]*)>")
_DOCTEST_FLAG = re.compile(r"[ \t]*#[ \t]*doctest:[^\n]*$")
_LITERAL_INTRO = re.compile(r"^(?P<indent>[ \t]*)(?P<text>\S.*?)(?P<colons>[ \t]*::)[ \t]*$")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fenced(indent: str, language: str, body: list[str], after_text: bool) -> list[str]:
    """``body`` fenced, with the blank line before it that a fence after text needs."""
    fence = [f"{indent}```{language}", *body, f"{indent}```"]
    return ["", *fence] if after_text else fence


def fence_doctests(text: str) -> str:
    """Each doctest example (a ``>>>`` line and what follows it up to a blank line, as
    doctest reads it) as a fenced ``pycon`` block at its own indentation; any other line
    that starts with ``>`` gets it escaped (``\\>``), so it is not read as a quote."""
    lines = text.splitlines()
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        match = _PROMPT.match(lines[i])
        if match is None or in_fence:
            if lines[i].lstrip().startswith("```"):
                in_fence = not in_fence
            # a wrapped line that starts with ">" (">= 0") would open a Markdown quote
            out.append(lines[i] if in_fence else _QUOTE_START.sub(r"\g<1>\\>", lines[i]))
            i += 1
            continue
        indent, body = match.group("indent"), []
        while i < len(lines) and lines[i].strip():
            body.append(_DOCTEST_FLAG.sub("", lines[i]))
            i += 1
        after_text = bool(out and out[-1].strip())
        out.extend(_fenced(indent, "pycon", body, after_text))
    return "\n".join(out)


def fence_literal_blocks(text: str) -> str:
    """reStructuredText's ``text::`` + blank line + indented block: ``text:`` and the block
    as a fenced ``text`` block (``::`` alone on its line is dropped)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _LITERAL_INTRO.match(lines[i])
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if (
            match is None
            or match.group("text").startswith("..")  # a directive (.. math::), not a block
            or j == i + 1
            or j >= len(lines)
            or _indent_of(lines[j]) <= len(match.group("indent"))
        ):
            out.append(lines[i])
            i += 1
            continue
        indent, intro = match.group("indent"), match.group("text")
        if intro != "::":
            out.append(f"{indent}{intro}:")
        block_indent = _indent_of(lines[j])
        body: list[str] = []
        while j < len(lines) and (not lines[j].strip() or _indent_of(lines[j]) >= block_indent):
            body.append(indent + lines[j][block_indent:] if lines[j].strip() else "")
            j += 1
        while body and not body[-1]:
            body.pop()
        out.extend([*_fenced(indent, "text", body, intro != "::"), ""])  # (blanks were read)
        i = j
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """Convert the reStructuredText math, cross-reference roles, doctest examples and
    literal blocks in ``text``."""
    text = fence_literal_blocks(fence_doctests(text))
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


def _is_record(cls: griffe.Class) -> bool:
    """A dataclass or NamedTuple: its fields are its signature's parameters."""
    decorators = {d.callable_path.rsplit(".", 1)[-1] for d in cls.decorators}
    bases = {str(b).rsplit(".", 1)[-1] for b in cls.bases}
    return "dataclass" in decorators or "NamedTuple" in bases


def _drop_undocumented_fields(cls: griffe.Class) -> None:
    """A record's undocumented fields: its signature lists them (the site shows other
    undocumented members, methods and properties, but these only repeat the signature)."""
    if not _is_record(cls):
        return
    for name, member in list(cls.members.items()):
        if member.is_alias or not member.is_attribute or member.docstring is not None:
            continue
        if "property" not in member.labels:
            cls.del_member(name)


class RstMath(griffe.Extension):
    """Rewrite every docstring as it is loaded; once the package is loaded (and griffe's own
    dataclass support has built the records' signatures), drop their undocumented fields."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        _drop_undocumented_fields(cls)
