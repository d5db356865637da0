"""``crossent demo``: train on the bundled WikiText-2 text, evaluate, show neighbours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossent.cli.common import console, stdout
from crossent.cli.evaluate import print_report
from crossent.cli.train import run_training

DEMO_WORDS = ("war", "city", "music", "river", "king", "game")


def demo_cmd(
    folder: Annotated[Path, typer.Option(help="Output folder.")] = Path("crossent-demo"),
    epochs: int = 5,
    loss: str = "ns",
) -> None:
    """Train on the bundled WikiText-2 text, evaluate, show neighbours, write vectors and plot."""
    from crossent.word2vec.config import TrainConfig, default_threads
    from crossent.word2vec.data import ANALOGIES, CORPUS, WORD_PAIRS, data_file
    from crossent.word2vec.evaluate import evaluate
    from crossent.word2vec.model import load_any

    folder.mkdir(parents=True, exist_ok=True)
    console.print(
        f"training skip-gram ({loss}) on the bundled WikiText-2 text "
        f"(455k words) into {folder.resolve()}/"
    )
    config = TrainConfig(epochs=epochs, loss=loss, threads=default_threads())
    summary = run_training(
        [data_file(name) for name in CORPUS],
        config,
        folder / "vectors.bin",
        binary=True,
        checkpoint=folder / "model.ckpt.npz",
        resume=None,
        plot=folder / "loss.png",
        quiet=False,
    )
    kv, model = load_any(folder / "model.ckpt.npz")
    report = evaluate(kv, model, similarity=[data_file(WORD_PAIRS)], analogies=data_file(ANALOGIES))
    print_report(report)
    table = Table(title="nearest neighbours")
    table.add_column("word")
    table.add_column("neighbours")
    for word in DEMO_WORDS:
        if word in kv:
            table.add_row(word, ", ".join(w for w, _ in kv.most_similar(word, topn=6)))
    stdout.print(table)
    console.print(
        f"wrote {summary.vectors}, {folder / 'model.ckpt.npz'} and "
        f"{summary.plot}; try: crossent similar {summary.vectors} music"
    )
