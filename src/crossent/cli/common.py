"""What every command shares: the typer app, the stderr console and the error exit."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    help="crossent: cross-entropy, softmax and word2vec, correct and fast.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)  # messages and progress
stdout = Console()  # results (tables)


@app.callback()
def _root() -> None:
    """crossent: cross-entropy, softmax and word2vec, correct and fast."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; raise the returned exit (status 2: a user mistake)."""
    console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
