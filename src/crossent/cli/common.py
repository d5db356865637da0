"""What every command shares: the typer app, the consoles and user errors as exit 2.

Every user mistake is one ``error: ...`` line on stderr and exit status 2: the commands'
own checks (:func:`fail`, :func:`user_errors`) and click's usage errors alike (a missing
argument, an unknown option, a value of the wrong type: :class:`OneLineErrors`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from crossent.cli.signals import INTERRUPTED, sigterm_as_ctrl_c

if TYPE_CHECKING:
    from crossent.word2vec import KeyedVectors, SkipGram

try:  # typer 0.2x carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click import exceptions as click_errors  # type: ignore[no-redef]

USAGE = 2  # the exit status of every user mistake
STDOUT_CLOSED = 141  # 128 + SIGPIPE: what the shell reports for `yes | head -1`'s `yes`


class _StdoutClosed(Exception):
    """The reader of stdout went away (``crossent explain | head -1``)."""


class _StdoutFailed(Exception):
    """Writing stdout failed (``crossent explain > /dev/full``: a full disk, an I/O error)."""


STREAM_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
"""Errors of a write to a stream (no file name) that end a command with one line."""


class OneLineErrors(TyperGroup):
    """The root group: click's usage errors become one ``error:`` line and exit status 2
    (typer would print the usage and a multi-line box)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode exit with the command's status. Run on
        the process's own arguments (``args`` None), SIGTERM is Ctrl-C until the process
        ends (:mod:`crossent.cli.signals`)."""
        if args is None:
            sigterm_as_ctrl_c()
        args = spread_word_lists(list(sys.argv[1:] if args is None else args))
        unsupported = [a for a in args if a in UNSUPPORTED]  # click would read -c -l -a ...
        if unsupported:
            _error_line(f"{unsupported[0]}: no such option ({UNSUPPORTED[unsupported[0]]})")
            return _exit(USAGE, standalone_mode)
        empty = _empty_path(self.commands.get(args[0]) if args else None, args[1:])
        if empty is not None:  # Path("") would be "." and read as "is a directory"
            _error_line(f"{empty}: empty path; give a file name")
            return _exit(USAGE, standalone_mode)
        stdout_before = _stdout_device()
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            _flush_stdout()
        except (_StdoutClosed, _StdoutFailed) as exc:
            status = _stdout_status(exc)
        except SystemExit as exc:  # rich's own consoles (typer's help) exit 1 on a closed pipe
            if exc.code != 1 or stdout_before == _stdout_device():
                raise
            status = STDOUT_CLOSED
        except click_errors.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else "")
            status = USAGE
        except click_errors.ClickException as exc:
            if not standalone_mode:
                raise
            _error_line(usage_message(exc, args))
            status = USAGE
        except (typer.Abort, KeyboardInterrupt):
            status = INTERRUPTED
        return _exit(status, standalone_mode)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a closed stdout leaves as :class:`_StdoutClosed` (click
        would exit 1 on it, a Unix tool dies quietly of SIGPIPE), a failed write to it as
        :class:`_StdoutFailed` (one error line, not a traceback)."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            failure = _stdout_error(exc)
            if failure is None:
                raise
            raise failure from None


def _is_path(param: Any) -> bool:
    """Whether ``param`` takes a file path (``Path``, ``list[Path]``, ``Path | None``)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation in (Path, list[Path], Path | None)


def _empty_path(command: Any, args: Sequence[str]) -> str | None:
    """The option (``--out``) or argument (``VECTORS``) of ``command`` given an empty
    path in ``args``, else None."""
    if command is None:
        return None
    params = getattr(command, "params", [])
    positional = [p for p in params if _is_argument(p)]
    valued = {o: p for p in params if not _is_argument(p) and not p.is_flag for o in p.opts}
    position, rest = 0, iter(args)
    for arg in rest:
        name, eq, value = arg.partition("=")
        if arg.startswith("--") and eq and name in valued:
            if value == "" and _is_path(valued[name]):
                return name
        elif arg in valued:
            if next(rest, None) == "" and _is_path(valued[arg]):
                return arg
        elif arg == "" or not arg.startswith("-"):
            param = positional[min(position, len(positional) - 1)] if positional else None
            if arg == "" and param is not None and _is_path(param):
                return str(param.name).upper()
            position += 1
    return None


def _stdout_error(exc: OSError) -> _StdoutClosed | _StdoutFailed | None:
    """What a failed write to stdout means for the command: its reader went away
    (``EPIPE``), or the stream failed (:data:`STREAM_ERRORS`); None for any other error."""
    if exc.errno == errno.EPIPE:
        return _StdoutClosed()
    if exc.filename is None and exc.errno in STREAM_ERRORS:
        return _StdoutFailed(exc.strerror or str(exc))
    return None


def _stdout_status(failure: _StdoutClosed | _StdoutFailed) -> int:
    """Silence stdout and give the status: 141 for a closed pipe (quietly), 1 with an
    ``error: stdout: ...`` line for a failed write."""
    if isinstance(failure, _StdoutClosed):
        return _quiet_stdout()
    _silence_stdout()
    _error_line(f"stdout: {failure}")
    return 1


def _flush_stdout() -> None:
    """Flush stdout now (there is none when the process started with it closed), so that
    a failed write is seen here, as :class:`_StdoutClosed` or :class:`_StdoutFailed`, and
    not when the process ends."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except OSError as exc:
        failure = _stdout_error(exc)
        if failure is None:
            raise
        raise failure from None


def _stdout_device() -> tuple[int, int] | None:
    """(device, inode) of the file behind stdout: rich points it at /dev/null when the
    reader of a pipe went away, then exits 1."""
    try:
        st = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # AttributeError: no stdout at all
        return None
    return st.st_dev, st.st_ino


def _silence_stdout() -> None:
    """Point stdout at /dev/null: the final flush of what is still buffered then succeeds
    instead of failing again on the closed pipe or the full disk."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _quiet_stdout() -> int:
    """Silence stdout and return 141, the status of a tool ended by SIGPIPE, so that
    ``set -o pipefail`` scripts see what ``cat`` or ``grep`` would have told them."""
    _silence_stdout()
    return STDOUT_CLOSED


def end_process(code: object) -> NoReturn:
    """Flush stdout, stderr and logging, then end the process at once with ``code`` (a
    ``SystemExit`` code: None is 0, an int itself, anything else printed and 1).

    Python's own teardown after a command frees the modules it loaded, one by one: 0.45 s
    after a numba training run, 1.1 s after a torch one (measured, ``benchmarks/RESULTS.md``),
    the same again in every rank of a torchrun job. A finished command needs none of it:
    its files are closed and renamed into place, its threads joined, its process group
    left. ``atexit`` handlers do not run."""
    if code is None or isinstance(code, int):
        status = code or 0
    else:
        print(code, file=sys.stderr)
        status = 1
    logging.shutdown()
    failure: _StdoutClosed | _StdoutFailed | None = None
    try:
        _flush_stdout()
    except (_StdoutClosed, _StdoutFailed) as exc:
        failure = exc
    except OSError as exc:  # another error of the last write: one line all the same
        failure = _StdoutFailed(exc.strerror or str(exc))
    if failure is not None:
        failed = _stdout_status(failure)
        status = status or failed
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)


def _error_line(message: str) -> None:
    console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True, highlight=False)


def _exit(status: object, standalone_mode: bool) -> Any:
    """Return ``status`` (not standalone) or exit with it (None: 0)."""
    if not standalone_mode:
        return status
    sys.exit(status if isinstance(status, int) else 0)


WORD_LISTS = {"similar": ("--positive", "--negative")}  # options that take several words


def spread_word_lists(args: list[str]) -> list[str]:
    """``similar V --positive king woman`` → ``similar V --positive king --positive woman``
    (a click option takes one value per use): the words after such an option, up to the
    next argument that starts with ``-``.

    >>> spread_word_lists(["similar", "v.bin", "--positive", "a", "b", "--negative", "c"])
    ['similar', 'v.bin', '--positive', 'a', '--positive', 'b', '--negative', 'c']
    """
    options = WORD_LISTS.get(args[0], ()) if args else ()
    spread: list[str] = []
    current: str | None = None
    for arg in args:
        if arg == "--":
            options, current = (), None
        if current is not None and not arg.startswith("-"):
            spread += [current, arg] if spread[-1] != current else [arg]
            continue
        current = arg if arg in options else None
        spread.append(arg)
    return spread


def usage_message(exc: click_errors.ClickException, args: Sequence[str] = ()) -> str:
    """One line for a click error, ending with where help is: ``--bogus: no such option
    (did you mean --loss?); see 'crossent train --help'``; a value of the wrong type
    names the option as given in ``args``, what it expects and the value, quoted:
    ``-size: expected an integer, got 'abc'; see ...``."""
    bad_value = (
        _bad_value(exc, args)
        if isinstance(exc, click_errors.BadParameter)
        and not isinstance(exc, click_errors.MissingParameter)
        else None
    )
    if bad_value is not None:
        text = bad_value
    elif isinstance(exc, click_errors.MissingParameter) and _is_argument(exc.param):
        text = f"missing argument {str(getattr(exc.param, 'name', '')).upper()}"  # as --help
    elif isinstance(exc, click_errors.BadOptionUsage) and "requires an argument" in exc.message:
        text = f"{exc.option_name}: expected a value after it, got none"
    elif isinstance(exc, click_errors.NoSuchOption):
        text = f"{exc.option_name}: no such option"
        unsupported = UNSUPPORTED.get(exc.option_name)
        if unsupported:
            text += f" ({unsupported})"
        elif exc.possibilities:
            text += f" (did you mean {' or '.join(sorted(exc.possibilities))}?)"
    else:
        text = " ".join(exc.format_message().split()).rstrip(".")
        text = text[:1].lower() + text[1:]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        text += f"; see '{ctx.command_path} --help'"
    return text


_EXPECTED = {int: "an integer", float: "a number", bool: "true or false", Path: "a path",
             "integer": "an integer", "float": "a number", "boolean": "true or false",
             "path": "a path"}  # fmt: skip


def _bad_value(exc: click_errors.BadParameter, args: Sequence[str]) -> str | None:
    """``OPTION: expected KIND, got 'VALUE'`` for a value of the wrong type (None: not
    one). The option is spelled as the user gave it; typer ≥ 0.2x (pydantic) keeps the
    value in the error's cause, click's own types only in the message, so it is also
    looked up in ``args``."""
    param = exc.param
    if param is None:
        return None
    opts = [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
    opts = [o for o in opts if o.startswith("-")]
    given = _given(exc, args, opts)
    used = next((a.split("=", 1)[0] for a in reversed(args) if a.split("=", 1)[0] in opts), None)
    name = used or (opts[0] if opts else (param.name or "value").upper())
    descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.2x; click: param.type
    kind = getattr(descriptor, "annotation", None) or getattr(
        getattr(param, "type", None), "name", None
    )
    expected = _EXPECTED.get(kind) if isinstance(kind, (type, str)) else None
    if expected is None:
        expected = " ".join(exc.format_message().split()).rstrip(".")
        expected = expected[:1].lower() + expected[1:]
    return f"{name}: expected {expected}" + ("" if given is None else f", got {given!r}")


def _is_argument(param: object) -> bool:
    """Whether ``param`` is a positional argument (no ``-`` spelling)."""
    opts = getattr(param, "opts", None)
    return param is not None and opts is not None and not any(o.startswith("-") for o in opts)


def _given(exc: click_errors.BadParameter, args: Sequence[str], opts: list[str]) -> object:
    """The value the user gave: from pydantic's error (the cause), else the last
    ``OPTION VALUE`` or ``OPTION=VALUE`` in ``args``; None if neither says."""
    errors = getattr(exc.__cause__, "errors", None)
    if callable(errors):
        with contextlib.suppress(Exception):
            first = errors()[0]
            if "input" in first:
                return first["input"]
    for i in range(len(args) - 1, -1, -1):
        option, eq, value = args[i].partition("=")
        if option in opts and eq:
            return value
        if args[i] in opts and i + 1 < len(args):
            return args[i + 1]
    return None


UNSUPPORTED = {  # word2vec.c options crossent does not have, and why
    "-classes": "word2vec.c's k-means word classes are not implemented",
    "-debug": "progress is shown unless --quiet",
}

app = typer.Typer(
    cls=OneLineErrors,
    help="crossent: cross-entropy, softmax and word2vec, correct and fast.",
    no_args_is_help=True,
    add_completion=False,
)


class ResultConsole(Console):
    """The console of results on stdout: a reader gone away ends the command quietly
    with status 141 (rich would exit 1)."""

    def on_broken_pipe(self) -> None:
        """Stop writing; :class:`OneLineErrors` points stdout at /dev/null."""
        self.quiet = True
        raise _StdoutClosed


console = Console(stderr=True)  # messages and progress
stdout = ResultConsole()  # results (tables)


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


def fail(message: str, code: int = USAGE) -> typer.Exit:
    """Print ``error: message`` as one line on stderr; raise the returned exit (status 2:
    a user mistake)."""
    _error_line(message)
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
            raise fail(f"{option_name(field)}: {in_cli_words(problem)}") from None
        raise fail(in_cli_words(str(exc)) or type(exc).__name__) from None


def in_cli_words(message: str) -> str:
    """A library message in the command line's words: the setting ``min_count=5`` is the
    option ``--min-count 5``, a leading ``model:`` is ``--model:``, the input ``corpus:`` is
    ``CORPUS:`` (as ``--help`` shows)."""
    import dataclasses
    import re

    from crossent.word2vec.training.config import TrainConfig

    settings = "|".join(f.name for f in dataclasses.fields(TrainConfig))
    message = re.sub(rf"^({settings}): ", lambda m: f"{option_name(m[1])}: ", message)
    message = re.sub(rf"\b({settings})=(\S+)", lambda m: f"{option_name(m[1])} {m[2]}", message)
    return "CORPUS:" + message[len("corpus:") :] if message.startswith("corpus:") else message


def load_vectors(path: Path, what: str = "VECTORS") -> tuple[KeyedVectors, SkipGram | None]:
    """The vectors of a word2vec file or a checkpoint (then also its model), as
    :func:`crossent.word2vec.training.model.load_any`; errors name ``what``, and a text
    file without the ``V D`` header (GloVe's) is one in the command line's words (no
    option reads such a file)."""
    from crossent.word2vec.formats.io import MissingHeaderError, VectorFileError
    from crossent.word2vec.training.model import load_any

    try:
        return load_any(path, what)
    except MissingHeaderError as exc:
        raise fail(
            f"{what}: {exc.fact} (a text file without the header line, as GloVe writes? "
            "crossent reads word2vec files: add a first line 'V D', the number of words and "
            "the dimension)"
        ) from None
    except VectorFileError as exc:
        message = str(exc)
        raise fail(message if message.startswith(f"{what}:") else f"{what}: {message}") from None


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
