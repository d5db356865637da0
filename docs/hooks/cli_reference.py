"""MkDocs hook: the CLI reference page, generated from the typer app (``crossent.cli.app``).

A page holding the line ``<!-- crossent-cli-reference -->`` gets it replaced by the
Markdown that ``typer crossent.cli utils docs`` would write, so the page cannot drift from
the commands' real options and help texts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- crossent-cli-reference -->"


def on_config(config: Any) -> Any:
    """Import the worktree's own ``src`` (not another installed copy of crossent)."""
    src = str(Path(config.config_file_path).parent / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    import typer
    import typer.cli

    from crossent.cli import app

    command = typer.main.get_command(app)
    reference = typer.cli.get_docs_for_click(
        obj=command, ctx=typer.Context(command), name="crossent", title="Reference"
    )
    reference = whole_summaries(reference, command)
    return markdown.replace(MARKER, reference.replace("\n# Reference", "\n## Reference"))


def whole_summaries(reference: str, command: Any) -> str:
    """The commands list with each summary whole: typer writes click's short help, cut
    at 45 characters with "..."; here each line gets the help's whole first sentence
    (its first paragraph, as click's limit-free short help reads it)."""
    for name, sub in command.commands.items():
        cut = f"* `{name}`: {sub.get_short_help_str()}\n"
        whole = f"* `{name}`: {sub.get_short_help_str(limit=10_000)}\n"
        if cut not in reference:
            raise ValueError(f"the CLI reference has no summary line for {name!r}")
        reference = reference.replace(cut, whole, 1)
    return reference
