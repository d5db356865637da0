"""``crossent train | eval | similar | demo``: word2vec from the command line."""

from __future__ import annotations

import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crossent.word2vec.config import TrainConfig, default_threads
from crossent.word2vec.io import check_writable
from crossent.word2vec.keyedvectors import KeyedVectors, UnknownWordError
from crossent.word2vec.model import SkipGram
from crossent.word2vec.train import Progress as TrainProgress
from crossent.word2vec.train import TrainingInterrupted, build_model, train

console = Console(stderr=True)
DEMO_WORDS = ("war", "city", "music", "river", "king", "game")


def data_file(name: str) -> Path:
    """A file of the bundled data (corpus and evaluation sets)."""
    return Path(str(resources.files("crossent") / "data" / name))


def fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/bold red] {message}")
    return typer.Exit(code)


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
    device: str | None = None,
    distributed: bool = False,
) -> dict[str, Any]:
    """Train (or resume), then write vectors, checkpoint and plot; returns a summary.
    ``distributed`` (under torchrun): every rank trains, rank 0 alone prints and writes."""
    main_rank = not distributed or _is_main_rank()
    for path in (out, checkpoint, plot):
        if path is not None:
            check_writable(path)
    model = None if resume is None else SkipGram.load(resume)
    if model is None and not distributed:  # across ranks, train() builds it (agreed)
        model = build_model(corpus, config)
    quiet = quiet or not main_rank
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
            model = train(
                corpus,
                config,
                model=model,
                progress=on_progress,
                device=device,
                distributed=distributed,
            )
        except TrainingInterrupted as stop:
            if distributed:  # each rank holds only its rows of the output vectors
                raise fail("interrupted: a run across ranks writes no checkpoint", 130) from None
            target = checkpoint or out.with_name(out.name + ".ckpt")
            stop.model.save(target)
            console.print(
                f"\ninterrupted: checkpoint written to {target} (resume with --resume {target})"
            )
            raise typer.Exit(130) from None
    summary = {
        "vectors": str(out),
        "checkpoint": str(checkpoint) if checkpoint else None,
        "plot": str(plot) if plot else None,
        "vocabulary": len(model.vocab),
        "epoch_losses": model.position.epoch_losses,
        "loss": model.config.loss,
    }
    if not main_rank:
        return summary
    model.keyed_vectors().save(out, binary=binary)
    if checkpoint is not None:
        model.save(checkpoint)
    if plot is not None:
        from crossent.word2vec.plot import plot_loss

        plot_loss(plot, points, model.position.epoch_losses, model.config.loss)
    return summary


def _is_main_rank() -> bool:
    from crossent.word2vec.distributed import is_main_rank

    return is_main_rank()


def _check_run(config: TrainConfig, device: str | None, distributed: bool) -> None:
    """``--device`` and the settings torchrun needs, checked before any work (train()
    checks them again, agreed across ranks)."""
    if device is not None or distributed:
        from crossent.word2vec.device import resolve_device

        resolve_device(device, config.loss)
    if distributed:
        from crossent.word2vec.distributed import check_parallel_config

        check_parallel_config(config)


def _torchrun(device: str | None) -> tuple[str | None, bool]:
    """This rank's device and whether torchrun launched the run (torch imported only then)."""
    if os.environ.get("WORLD_SIZE", "1") == "1":
        return device, False
    from crossent.word2vec.distributed import launch_from_environment

    return launch_from_environment(device)


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


def load_any(path: Path) -> tuple[KeyedVectors, SkipGram | None]:
    """Vectors from a word2vec file, or a checkpoint (then also the model)."""
    if not path.exists():
        raise fail(f"file not found: {path}")
    if path.read_bytes()[:2] == b"PK":  # .npz checkpoint
        model = SkipGram.load(path)
        return model.keyed_vectors(), model
    return KeyedVectors.load(path), None


def evaluate(
    vectors: KeyedVectors,
    model: SkipGram | None,
    similarity: list[Path],
    analogies: Path | None,
    heldout: list[Path],
) -> dict[str, Any]:
    report: dict[str, Any] = {"words": len(vectors), "similarity": {}}
    for path in similarity:
        report["similarity"][path.name] = vectors.evaluate_word_pairs(path)
    if analogies is not None:
        report["analogies"] = vectors.evaluate_word_analogies(analogies)
    if heldout:
        if model is None:
            raise fail(
                "--heldout needs a checkpoint (it holds the output vectors), not a vector file"
            )
        from crossent.word2vec.evaluate import heldout_loss

        report["heldout"] = heldout_loss(model, heldout)
    return report


def print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"evaluation ({report['words']} words)")
    for col in ("task", "score", "coverage"):
        table.add_column(col)
    for name, r in report["similarity"].items():
        table.add_row(
            f"similarity {name}",
            f"Spearman {r['spearman']:.4f}",
            f"{r['pairs']} pairs, OOV {r['oov_ratio']:.1%}",
        )
    if "analogies" in report:
        r = report["analogies"]
        table.add_row(
            "analogies",
            f"accuracy {r['accuracy']:.2%}",
            f"{r['questions']} questions ({r['coverage']:.1%})",
        )
    if "heldout" in report:
        r = report["heldout"]
        table.add_row(
            f"held-out J(θ), {r['objective']}",
            f"{r['loss']:.4f} (perplexity {r['perplexity']:.1f})",
            f"{r['pairs']} pairs",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the word2vec commands to ``app``."""
    app.command("train")(train_cmd)
    app.command("eval")(eval_cmd)
    app.command("similar")(similar_cmd)
    app.command("demo")(demo_cmd)


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
    device: Annotated[
        str | None,
        typer.Option(help="cpu, cuda or cuda:N: where --loss softmax trains (default cpu)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Train skip-gram word vectors on CORPUS.

    Under torchrun (``torchrun --nproc-per-node K -m crossent train ... --loss softmax``)
    the output vectors are split by vocabulary over the K ranks; rank 0 prints and writes."""
    if fmt not in ("bin", "text"):
        raise fail(f"--format: expected 'bin' or 'text', got {fmt!r}")
    try:
        device, distributed = _torchrun(device)
        if distributed and threads is None:
            threads = 1  # one job at a time on every rank
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
        _check_run(config, device, distributed)
        summary = run_training(
            corpus,
            config,
            out,
            binary=fmt == "bin",
            checkpoint=checkpoint,
            resume=resume,
            plot=plot,
            quiet=as_json,
            device=device,
            distributed=distributed,
        )
    except (ValueError, PermissionError, OSError) as exc:  # config, corpus, files
        raise fail(str(exc)) from None
    except KeyboardInterrupt:  # before training started: nothing to save
        raise fail("interrupted before training started; nothing was written", 130) from None
    if distributed and not _is_main_rank():
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        console.print(
            f"vectors written to {summary['vectors']}; epoch losses: "
            + ", ".join(f"{x:.4f}" for x in summary["epoch_losses"])
        )


def eval_cmd(
    vectors: Annotated[Path, typer.Argument(help="Vector file or checkpoint.")],
    similarity: Annotated[list[Path] | None, typer.Option(help="Word-pair file(s).")] = None,
    analogies: Annotated[Path | None, typer.Option(help="Analogy questions file.")] = None,
    heldout: Annotated[list[Path] | None, typer.Option(help="Text for held-out J(θ).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate vectors: word similarity, analogies, exact held-out loss (checkpoints)."""
    defaults = not similarity and analogies is None and not heldout
    sim = similarity or ([data_file("wordsim353.tsv")] if defaults else [])
    ana = analogies or (data_file("questions-words.txt") if defaults else None)
    try:
        kv, model = load_any(vectors)
        report = evaluate(kv, model, sim, ana, heldout or [])
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(report)


def similar_cmd(
    vectors: Annotated[Path, typer.Argument(help="Vector file or checkpoint.")],
    word: Annotated[str, typer.Argument()],
    n: Annotated[int, typer.Option("-n", help="How many neighbours.")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The nearest neighbours of WORD (cosine similarity)."""
    try:
        kv, _ = load_any(vectors)
        result = kv.most_similar(word, topn=n)
    except UnknownWordError as exc:
        raise fail(str(exc), 1) from None
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([{"word": w, "similarity": s} for w, s in result]))
        return
    table = Table(title=f"nearest to {word!r}")
    table.add_column("word")
    table.add_column("cosine", justify="right")
    for w, s in result:
        table.add_row(w, f"{s:.4f}")
    Console().print(table)


def demo_cmd(
    folder: Annotated[Path, typer.Option(help="Output folder.")] = Path("crossent-demo"),
    epochs: int = 5,
    loss: str = "ns",
) -> None:
    """Train on the bundled WikiText-2 validation text, evaluate, show neighbours, write
    vectors and plot, and end with the seed's loss measured on the held-out test text."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = [data_file("wikitext2-valid.txt")]
    console.print(
        f"training skip-gram ({loss}) on the bundled WikiText-2 validation text "
        f"(217k words; the test text is held out) into {folder.resolve()}/"
    )
    config = TrainConfig(epochs=epochs, loss=loss, threads=default_threads())
    summary = run_training(
        corpus,
        config,
        folder / "vectors.bin",
        binary=True,
        checkpoint=folder / "model.ckpt.npz",
        resume=None,
        plot=folder / "loss.png",
        quiet=False,
    )
    kv, model = load_any(folder / "model.ckpt.npz")
    report = evaluate(
        kv, model, [data_file("wordsim353.tsv")], data_file("questions-words.txt"), []
    )
    print_report(report)
    table = Table(title="nearest neighbours")
    table.add_column("word")
    table.add_column("neighbours")
    for word in DEMO_WORDS:
        if word in kv:
            table.add_row(word, ", ".join(w for w, _ in kv.most_similar(word, topn=6)))
    Console().print(table)
    console.print(
        f"wrote {summary['vectors']}, {folder / 'model.ckpt.npz'} and "
        f"{summary['plot']}; try: crossent similar {summary['vectors']} music"
    )
    assert model is not None  # a checkpoint holds the output vectors
    print_heldout(model, data_file("wikitext2-test.txt"))


def print_heldout(model: SkipGram, text: Path) -> None:
    """The seed's loss J(θ) = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c), exactly, on held-out text
    (for ``hs`` models the tree's own normalised p(o|c) replaces the softmax)."""
    from crossent.word2vec.evaluate import heldout_loss

    h = heldout_loss(model, [text])
    what = "J(θ) = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c)"
    if h["objective"] != "softmax":
        what = "-log p(o|c) under the hierarchical softmax"
    Console().print(
        f"held-out {what} on {text.name} (not trained on): {h['loss']:.4f} nats per pair, "
        f"perplexity {h['perplexity']:.1f}, {h['pairs']:,} pairs",
        soft_wrap=True,
    )
