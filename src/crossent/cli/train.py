"""``crossent train``: skip-gram word vectors from text files, with progress and Ctrl-C
checkpoints. :func:`run_training` is shared with ``crossent demo``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from crossent.cli.common import JsonFlag, console, fail

if TYPE_CHECKING:
    from crossent.word2vec import Progress as TrainProgress
    from crossent.word2vec import TrainConfig


@dataclass
class TrainingSummary:
    """What a run wrote, and its per-epoch losses."""

    vectors: str
    checkpoint: str | None
    plot: str | None
    vocabulary: int
    epoch_losses: list[float] = field(default_factory=list)
    loss: str = "ns"


def run_training(
    corpus: list[Path],
    config: TrainConfig,
    out: Path,
    *,
    binary: bool,
    checkpoint: Path | None,
    resume: Path | None,
    plot: Path | None,
    quiet: bool,
) -> TrainingSummary:
    """Train (or resume), then write vectors, checkpoint and plot."""
    from crossent.word2vec import SkipGram, TrainingInterrupted, train
    from crossent.word2vec.io import check_writable
    from crossent.word2vec.train import build_model

    for path in (out, checkpoint, plot):
        if path is not None:
            check_writable(path)
    model = SkipGram.load(resume) if resume is not None else build_model(corpus, config)
    points: list[tuple[float, float]] = []
    with _progress_bar(quiet) as bar:
        task = bar.add_task("training", total=None, loss=math.nan, alpha=0.0, wps=0.0)

        def on_progress(p: TrainProgress) -> None:
            per_epoch = p.words_total / p.epochs
            points.append((p.words_done / per_epoch, p.loss))
            bar.update(
                task,
                total=p.words_total,
                completed=p.words_done,
                loss=p.loss,
                alpha=p.alpha,
                wps=p.words_per_second,
                description=f"epoch {p.epoch + 1}/{p.epochs}",
            )

        try:
            model = train(corpus, model=model, progress=on_progress)
        except TrainingInterrupted as stop:
            target = checkpoint or out.with_name(out.name + ".ckpt")
            stop.model.save(target)
            console.print(
                f"\ninterrupted: checkpoint written to {target} (resume with --resume {target})"
            )
            raise typer.Exit(130) from None
    model.keyed_vectors().save(out, binary=binary)
    if checkpoint is not None:
        model.save(checkpoint)
    if plot is not None:
        from crossent.word2vec.plot import plot_loss

        plot_loss(plot, points, model.position.epoch_losses, model.config.loss)
    return TrainingSummary(
        vectors=str(out),
        checkpoint=str(checkpoint) if checkpoint else None,
        plot=str(plot) if plot else None,
        vocabulary=len(model.vocab),
        epoch_losses=model.position.epoch_losses,
        loss=model.config.loss,
    )


def _progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[wps]:>9,.0f} words/s"),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("lr {task.fields[alpha]:.5f}"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


def train_cmd(
    corpus: Annotated[list[Path], typer.Argument(help="Text files (plain or .gz).")],
    out: Annotated[Path, typer.Option(help="Where to write the vectors.")],
    fmt: Annotated[str, typer.Option("--format", help="bin or text.")] = "bin",
    loss: Annotated[str, typer.Option(help="ns, hs or softmax (the seed's exact loss).")] = "ns",
    dim: Annotated[int, typer.Option(help="Vector dimension.")] = 100,
    window: Annotated[int, typer.Option(help="Max context distance (dynamic window).")] = 5,
    negative: Annotated[int, typer.Option(help="Negative samples per pair (ns).")] = 5,
    min_count: Annotated[int, typer.Option("--min-count")] = 5,
    max_vocab: Annotated[
        int | None, typer.Option("--max-vocab", help="Keep only the most frequent words.")
    ] = None,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0: off).")] = 1e-3,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = 5,
    alpha: Annotated[float, typer.Option(help="Initial learning rate (decays linearly).")] = 0.025,
    threads: Annotated[
        int | None, typer.Option(help="Worker threads (default: all cores).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (1 thread: bit-identical runs).")] = 1,
    checkpoint: Annotated[Path | None, typer.Option(help="Also write a checkpoint.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue from a checkpoint.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the loss curve (PNG).")] = None,
    lowercase: bool = False,
    as_json: JsonFlag = False,
) -> None:
    """Train skip-gram word vectors on CORPUS."""
    from crossent.word2vec.config import TrainConfig, default_threads

    if fmt not in ("bin", "text"):
        raise fail(f"--format: expected 'bin' or 'text', got {fmt!r}")
    try:
        config = TrainConfig(
            dim=dim,
            window=window,
            negative=negative,
            min_count=min_count,
            max_vocab=max_vocab,
            sample=sample,
            epochs=epochs,
            alpha=alpha,
            threads=default_threads() if threads is None else threads,
            seed=seed,
            loss=loss,
            lowercase=lowercase,
        )
        summary = run_training(
            corpus,
            config,
            out,
            binary=fmt == "bin",
            checkpoint=checkpoint,
            resume=resume,
            plot=plot,
            quiet=as_json,
        )
    except (ValueError, PermissionError, OSError) as exc:  # config, corpus, files
        raise fail(str(exc)) from None
    except KeyboardInterrupt:  # before training started: nothing to save
        raise fail("interrupted before training started; nothing was written", 130) from None
    if as_json:
        typer.echo(json.dumps(vars(summary), indent=2))
    else:
        console.print(
            f"vectors written to {summary.vectors}; epoch losses: "
            + ", ".join(f"{x:.4f}" for x in summary.epoch_losses)
        )
