"""Training progress where people look: a live bar on a terminal, plain lines in logs.

When stderr is not a terminal (``crossent train ... 2>&1 | tee log``), :class:`PlainProgress`
prints one line at each epoch end and at least every ``interval`` seconds (a timer thread,
so a slow job or the corpus passes cannot leave the log silent)::

    epoch 2/5   43.1%   512,345 words/s   loss 2.3456   lr 0.014231   ETA 0:01:23
"""

from __future__ import annotations

import datetime
import math
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from crossent.cli.common import console

if TYPE_CHECKING:
    from crossent.word2vec import Progress as TrainProgress


class Display:
    """A progress display: a context (started and stopped around training) called with
    each snapshot. This base class shows nothing (``--quiet``)."""

    def start(self) -> None:
        """Begin showing progress."""

    def stop(self) -> None:
        """Stop showing progress."""

    def __call__(self, p: TrainProgress) -> None:
        """Show snapshot ``p``."""

    def __enter__(self) -> Display:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def loss_and_rate(loss: float, alpha: float, lr_digits: int = 6) -> str:
    """``loss 2.3456   lr 0.024000``; ``loss -`` before any pair has been trained (the
    running mean is then NaN) and ``lr -`` before the first job (the rate is then 0)."""
    shown_loss = f"{loss:.4f}" if math.isfinite(loss) else "-"
    shown_lr = f"{alpha:.{lr_digits}f}" if alpha > 0 else "-"
    return f"loss {shown_loss}   lr {shown_lr}"


def line(p: TrainProgress) -> str:
    """One plain progress line: epoch, %, words/s, loss, learning rate, ETA."""
    fraction = p.words_done / max(p.words_total, 1)
    left = (p.words_total - p.words_done) / p.words_per_second if p.words_per_second else 0
    eta = datetime.timedelta(seconds=round(left)) if math.isfinite(left) else "?"
    return (
        f"epoch {p.epoch + 1}/{p.epochs}   {100 * fraction:5.1f}%   "
        f"{p.words_per_second:,.0f} words/s   {loss_and_rate(p.loss, p.alpha)}   ETA {eta}"
    )


def epoch_ended(p: TrainProgress) -> bool:
    """Whether ``p`` is the last report of its epoch."""
    return p.words_done * p.epochs >= (p.epoch + 1) * p.words_total


class PlainProgress(Display):
    """Plain lines on ``stream``: at each epoch end and every ``interval`` seconds."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.latest: TrainProgress | None = None
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __call__(self, p: TrainProgress) -> None:
        self.latest = p
        if epoch_ended(p):
            self._print(line(p) + "   (epoch done)")

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            latest = self.latest
            if latest is not None:
                self._print(line(latest))
            else:
                elapsed = datetime.timedelta(seconds=round(time.monotonic() - self.started))
                self._print(f"reading the corpus ({elapsed} elapsed)")

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)


class LossColumn(ProgressColumn):
    """``loss 2.3456   lr 0.02400``, or ``loss -   lr -`` while the corpus is being read."""

    def render(self, task: Task) -> Text:
        return Text(loss_and_rate(task.fields["loss"], task.fields["alpha"], lr_digits=5))


class BarProgress(Display):
    """A live rich progress bar (stderr is a terminal)."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[wps]:>9,.0f} words/s"),
            LossColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task("training", total=None, loss=math.nan, alpha=0.0, wps=0.0)

    def start(self) -> None:
        self.bar.start()

    def stop(self) -> None:
        self.bar.stop()

    def __call__(self, p: TrainProgress) -> None:
        self.bar.update(
            self.task,
            total=p.words_total,
            completed=p.words_done,
            loss=p.loss,
            alpha=p.alpha,
            wps=p.words_per_second,
            description=f"epoch {p.epoch + 1}/{p.epochs}",
        )


def progress_display(quiet: bool) -> Display:
    """The display for this run: none, a bar on a terminal, else plain lines."""
    if quiet:
        return Display()
    return BarProgress() if console.is_terminal else PlainProgress()
