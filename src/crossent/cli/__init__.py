"""The ``crossent`` command line (typer + rich): one module per command, nothing else.

Commands: ``explain`` (:mod:`.explain`), ``train`` (:mod:`.train`), ``eval``
(:mod:`.evaluate`), ``similar`` (:mod:`.similar`) and ``demo`` (:mod:`.demo`). The command
modules import only typer and rich at module level; the layers they drive (numba kernels,
torch) are imported when a command runs, so ``crossent --help``, ``crossent --version`` and
``crossent explain`` load neither numba nor torch. The work itself lives in the layers
(:mod:`crossent.explain`, :mod:`crossent.word2vec`).
"""

from __future__ import annotations

from crossent.cli import demo, evaluate, explain, similar, train
from crossent.cli.common import app, end_process

app.command("explain")(explain.explain_cmd)
app.command("train")(train.train_cmd)
app.command("eval")(evaluate.eval_cmd)
app.command("similar")(similar.similar_cmd)
app.command("demo")(demo.demo_cmd)

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``crossent`` script: run the command, then end the process
    without Python's teardown (:func:`~crossent.cli.common.end_process`). An exception
    that is not ``SystemExit`` takes the normal way out, traceback and all."""
    try:
        app()
    except SystemExit as stop:
        end_process(stop.code)
    end_process(0)
