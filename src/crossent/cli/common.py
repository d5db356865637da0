"""What every command shares: the typer app, the consoles and user errors as exit 2."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Annotated, TextIO

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


def _show_version(value: bool) -> None:
    if value:
        from crossent import __version__

        typer.echo(f"crossent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_show_version
        ),
    ] = False,
) -> None:
    """crossent: cross-entropy, softmax and word2vec, correct and fast."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` as one line on stderr; raise the returned exit (status 2:
    a user mistake)."""
    console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def option_name(field: str) -> str:
    """The command-line option of a setting: ``min_count`` → ``--min-count``."""
    return "--" + field.replace("_", "-")


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's errors about the user's input into one line and exit status 2.

    A setting error (:class:`crossent.word2vec.ConfigError`) names the option. Warnings
    (e.g. undecodable bytes in a corpus) are one ``warning:`` line each."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            yield
    except MemoryError:
        raise fail("not enough memory for these settings and this input") from None
    except (ValueError, OSError) as exc:
        field = getattr(exc, "field", None)
        problem = getattr(exc, "problem", None)
        if isinstance(field, str) and isinstance(problem, str):
            raise fail(f"{option_name(field)}: {problem}") from None
        raise fail(str(exc) or type(exc).__name__) from None


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    console.print(f"warning: {message}", soft_wrap=True, highlight=False, markup=False)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
