"""MkDocs hook: every formula rendered as MathML when the site is built.

``pymdownx.arithmatex`` (generic mode) wraps the TeX of each formula, from the Markdown
pages and from the docstrings alike, in ``<span class="arithmatex">\\(…\\)</span>`` (inline)
or ``<div class="arithmatex">\\[…\\]</div>`` (display). This hook replaces the TeX inside
with the MathML that ``latex2mathml`` writes, so the built pages hold no TeX and need no
script, font or network to show the formulas: browsers render MathML themselves. A formula
``latex2mathml`` cannot read fails the build, naming the page and the formula.

Browsers space MathML by its elements, not by TeX's atom classes, so a few of TeX's
spacing rules are restored on the tree: a named operator (``\\log``, ``\\max``,
``\\operatorname{lse}``) is an upright identifier followed by a thin space before its
argument (none before a parenthesis), ``\\infty`` is an identifier, and a ``+``/``-``
opening a group or following another operator is a sign (``form="prefix"``), not a
binary operator.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any

from latex2mathml.converter import convert

_NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", _NS)
_SCRIPTED = {f"{{{_NS}}}{tag}" for tag in ("msub", "msup", "msubsup", "munder", "munderover")}
# rows: elements whose children are a sequence (scripts and fractions have fixed arity)
_ROWS = {f"{{{_NS}}}{tag}" for tag in ("math", "mrow", "mtd", "mstyle", "msqrt", "mpadded")}
_MI, _MO, _MSPACE = f"{{{_NS}}}mi", f"{{{_NS}}}mo", f"{{{_NS}}}mspace"
_SIGNS = {"+", "\u2212", "-", "\u00b1"}
_CLOSERS = {")", "]", "}", "|", "\u2016", "\u27e9"}  # after these a sign is binary again


def _is_name(element: ET.Element) -> bool:
    """An upright multi-letter operator name (``log``, ``max``, ``softmax``), scripts
    aside (``max`` in ``\\max_i``)."""
    if element.tag in _SCRIPTED and len(element):
        element = element[0]
    text = element.text or ""
    return element.tag == _MI and len(text) > 1 and text.isalpha()


def _respace(parent: ET.Element) -> None:
    """Restore TeX's spacing among ``parent``'s children, then recurse."""
    children = list(parent)
    for i, child in enumerate(children):
        text = (child.text or "").strip()
        if child.tag == _MO and ((text.isalpha() and len(text) > 1) or text == "\u221e"):
            child.tag = _MI  # \operatorname{lse} and \max come out as <mo>; \infty too
            child.attrib.pop("stretchy", None)
        in_row = parent.tag in _ROWS
        after_operator = i == 0 or (
            children[i - 1].tag == _MO and (children[i - 1].text or "").strip() not in _CLOSERS
        )
        if in_row and child.tag == _MO and text in _SIGNS and after_operator:
            child.set("form", "prefix")
    for child in parent:
        _respace(child)
    if parent.tag not in _ROWS:
        return
    spaced: list[ET.Element] = []
    children = list(parent)
    for i, child in enumerate(children):
        spaced.append(child)
        nxt = children[i + 1] if i + 1 < len(children) else None
        if _is_name(child) and nxt is not None and nxt.tag not in (_MO, _MSPACE):
            spaced.append(ET.Element(_MSPACE, width="0.1667em"))
    parent[:] = spaced


_LIMITS = {"max", "min", "lim", "sup", "inf", "limsup", "liminf", "argmax", "argmin"}


def polish(mathml: str) -> str:
    """``mathml`` (one ``<math>`` element) with TeX's spacing restored; in a display
    formula the subscript of ``max``-like operators goes below them, as TeX sets it."""
    root = ET.fromstring(mathml)
    _respace(root)
    if root.get("display") == "block":
        for element in root.iter(f"{{{_NS}}}msub"):
            if len(element) == 2 and (element[0].text or "") in _LIMITS:
                element.tag = f"{{{_NS}}}munder"
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


_FORMULA = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">'
    r"(?P<open>\\\(|\\\[)(?P<tex>.*?)(?:\\\)|\\\])</(?P=tag)>",
    re.DOTALL,
)

_LEFT_AS_TEX = re.compile(r">[^<]*?(\\[a-zA-Z]+)")
# TeX that latex2mathml lacks, as TeX it reads: aligned equations (it writes their "&" as
# a character) as align*, which it lays out as a table; \arg as a named operator
_SUBSTITUTES = (
    (re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),
    (re.compile(r"\\arg(?![a-zA-Z])"), r"\\operatorname{arg}"),
)


def to_mathml(tex: str, *, display: bool) -> str:
    """The MathML of one formula, ``tex`` without its delimiters."""
    for pattern, replacement in _SUBSTITUTES:
        tex = pattern.sub(replacement, tex)
    mathml = convert(tex.strip(), display="block" if display else "inline")
    unknown = _LEFT_AS_TEX.findall(mathml)  # latex2mathml writes <mi>\foo</mi> for \foo
    if "<merror" in mathml or unknown:
        raise ValueError(f"latex2mathml could not convert {unknown or 'the formula'}")
    return polish(mathml)


def render_formulas(page_html: str, where: str = "page") -> str:
    """``page_html`` with each arithmatex formula's TeX replaced by its MathML."""

    def replace(match: re.Match[str]) -> str:
        tex = html.unescape(match.group("tex"))
        try:
            mathml = to_mathml(tex, display=match.group("open") == "\\[")
        except Exception as error:  # latex2mathml raises its own exception types
            raise ValueError(f"{where}: cannot render the formula {tex!r}: {error}") from error
        tag = match.group("tag")
        return f'<{tag} class="arithmatex">{mathml}</{tag}>'

    return _FORMULA.sub(replace, page_html)


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    return render_formulas(html_text, page.file.src_path)
