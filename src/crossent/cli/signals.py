"""SIGTERM handled as Ctrl-C, from the start of a command to the end of the process.

``kill PID`` (SIGTERM: what ``timeout``, ``docker stop`` and job schedulers send) then
does what Ctrl-C does: training writes a checkpoint, a write in progress leaves the
previous version of its file, and the process ends with status 130 — never by the
default action (status -15), whatever it was doing when the signal came. Writing a
checkpoint after an interruption ignores both signals (:func:`signals_ignored`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

INTERRUPTED = 130  # the shell's status for a run stopped by SIGINT


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def sigterm_as_ctrl_c() -> None:
    """From now on, SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does
    (the ``crossent`` process: until it ends, interpreter shutdown included)."""
    if _main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does (for callers
    of :func:`crossent.cli.train.run_training` outside the ``crossent`` process)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are ignored (a checkpoint being written)."""
    if not _main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
