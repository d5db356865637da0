"""``crossent demo``: train on the bundled WikiText-2 text, evaluate, show neighbours.

It writes ``vectors.bin``, ``model.ckpt.npz`` and ``loss.png`` into ``--folder``; a file
of those names that a demo did not write (judged by its first bytes) is never replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from crossent.cli.common import console, stdout, user_errors
from crossent.cli.evaluate import print_report
from crossent.cli.train import Outputs, run_training

if TYPE_CHECKING:
    from crossent.word2vec import SkipGram

DEMO_WORDS = ("war", "city", "music", "river", "king", "game")
# The best vectors the 214k words gave in about 30 s on 2 cores (README: measured range).
DEMO_SETTINGS: dict[str, Any] = {
    "loss": "ns", "epochs": 30, "window": 10, "sample": 1e-4, "dim": 100, "min_count": 5,
}  # fmt: skip


def _vectors_header(head: bytes) -> bool:
    return head.split(b"\n", 1)[0].replace(b" ", b"").isdigit()


def _zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def _png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


DEMO_FILES: dict[str, Callable[[bytes], bool]] = {  # how a demo's own file starts
    "vectors.bin": _vectors_header,
    "model.ckpt.npz": _zip,
    "loss.png": _png,
}


def demo_cmd(
    folder: Annotated[Path, typer.Option(help="Output folder.")] = Path("crossent-demo"),
    epochs: Annotated[
        int, typer.Option(help="Passes over the text (a small text needs many).")
    ] = int(DEMO_SETTINGS["epochs"]),
    loss: Annotated[str, typer.Option(help="ns, hs, hs+ns or softmax.")] = str(
        DEMO_SETTINGS["loss"]
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the run.")] = 1,
) -> None:
    """Train on the bundled WikiText-2 validation text, evaluate, show neighbours, write
    vectors and plot, and end with the seed's loss measured on the held-out test text."""
    from crossent.word2vec import TrainConfig
    from crossent.word2vec.evaluation.evaluate import evaluate
    from crossent.word2vec.formats.data import (
        ANALOGIES,
        DEMO_HELDOUT,
        DEMO_TRAIN,
        WORD_PAIRS,
        data_file,
    )
    from crossent.word2vec.training.model import load_any

    outputs = Outputs(folder / "vectors.bin", True, folder / "model.ckpt.npz", folder / "loss.png")
    with user_errors():
        settings = {**DEMO_SETTINGS, "epochs": epochs, "loss": loss, "seed": seed}
        TrainConfig(**settings)  # checked before anything is written
        _prepare(folder)
        console.print(
            f"training skip-gram ({loss}, {epochs} epochs, window {settings['window']}, "
            f"sample {settings['sample']:g}) on the bundled WikiText-2 validation text "
            f"(214k words; the test text is held out) into {folder.resolve()}/",
            soft_wrap=True,
        )
        corpus = [data_file(DEMO_TRAIN)]
        summary = run_training(corpus, settings, outputs)
        kv, model = load_any(outputs.checkpoint or outputs.vectors)
        report = evaluate(
            kv, model, similarity=[data_file(WORD_PAIRS)], analogies=data_file(ANALOGIES)
        )
    print_report(report)
    table = Table(title="nearest neighbours")
    table.add_column("word")
    table.add_column("neighbours")
    for word in DEMO_WORDS:
        if word in kv:
            table.add_row(word, ", ".join(w for w, _ in kv.most_similar(word, topn=6)))
    stdout.print(table)
    console.print(
        f"wrote {summary.vectors}, {summary.checkpoint} and "
        f"{summary.plot}; try: crossent similar {summary.vectors} music"
    )
    if model is not None:  # the checkpoint holds the output vectors
        print_heldout(model, data_file(DEMO_HELDOUT))


def print_heldout(model: SkipGram, text: Path) -> None:
    """The seed's loss J(θ) = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c), exactly, on held-out text
    (for ``hs`` models the tree's own normalised p(o|c) replaces the softmax)."""
    from crossent.word2vec.evaluation.evaluate import heldout_loss

    h = heldout_loss(model, [text])
    what = "J(θ) = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c)"
    if h["objective"] != "softmax":
        what = "-log p(o|c) under the hierarchical softmax"
    stdout.print(
        f"held-out {what} on {text.name} (not trained on): {h['loss']:.4f} nats per pair, "
        f"perplexity {h['perplexity']:.1f}, {h['pairs']:,} pairs",
        soft_wrap=True,
    )


def _prepare(folder: Path) -> None:
    """Create ``folder``; refuse when it holds a file of an output's name that no demo wrote."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--folder: {folder} exists and is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # /dev/null/x, file.txt/x, a read-only place
        blocker = next((p for p in folder.parents if p.exists()), None)
        reason = f"{blocker} is not a directory" if blocker and not blocker.is_dir() else None
        raise ValueError(
            f"--folder: cannot create {folder}: {reason or exc.strerror or type(exc).__name__}"
        ) from None
    for name, ours in DEMO_FILES.items():
        path = folder / name
        if not path.exists():
            continue
        head = path.read_bytes()[:64] if path.is_file() else b""
        if not ours(head):
            raise ValueError(
                f"--folder: {path} exists and was not written by crossent demo; "
                "choose another --folder"
            )
