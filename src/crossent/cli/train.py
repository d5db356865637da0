"""``crossent train``: skip-gram or CBOW word vectors from text files.

Before any work every path is checked (inputs are readable regular files, outputs are
writable, and no output is an input or another output). SIGTERM is handled like Ctrl-C:
during training the state reached goes to a checkpoint (the ``--checkpoint`` path, else a
free ``OUT.ckpt`` name that replaces nothing), after training the message says what was
written. :func:`run_training` is shared with ``crossent demo``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crossent.cli import options as opt
from crossent.cli.common import JsonFlag, console, fail, user_errors
from crossent.cli.inputs import check_paths
from crossent.cli.progress import progress_display
from crossent.cli.signals import INTERRUPTED, signals_ignored, sigterm_as_interrupt

if TYPE_CHECKING:
    from crossent.word2vec import Progress as TrainProgress
    from crossent.word2vec import SkipGram, TrainConfig


@dataclass
class Outputs:
    """The files a run writes (the user named each of them)."""

    vectors: Path
    binary: bool = True
    checkpoint: Path | None = None
    plot: Path | None = None
    vocab: Path | None = None  # --save-vocab: word2vec.c's 'word count' lines
    finished: bool = False  # set once every output is written

    def named(self) -> list[tuple[str, Path]]:
        """``(option, path)`` of every output."""
        pairs = [("--out", self.vectors), ("--checkpoint", self.checkpoint), ("--plot", self.plot),
                 ("--save-vocab", self.vocab)]  # fmt: skip
        return [(option, path) for option, path in pairs if path is not None]


@dataclass
class VocabSource:
    """``--read-vocab`` (the vocabulary of a new run) and ``--update-vocab`` (grow the
    ``--resume`` checkpoint's vocabulary with the corpus's new words)."""

    read: Path | None = None
    update: bool = False


@dataclass
class TrainingSummary:
    """What a run wrote, and its per-epoch losses."""

    vectors: str
    checkpoint: str | None
    plot: str | None
    vocabulary: int
    epoch_losses: list[float] = field(default_factory=list)
    loss: str = "ns"


@dataclass
class Placement:
    """Where a run trains: ``device`` (``--device``), and whether torchrun launched it
    (then every rank trains and rank 0 alone prints and writes)."""

    device: str | None = None
    distributed: bool = False

    rank: int = 0  # this process's rank under torchrun

    def main_rank(self) -> bool:
        return self.rank == 0

    def leave(self) -> None:
        """Leave torchrun's process group before exiting."""
        if self.distributed:
            from crossent.word2vec.training.distributed import leave

            leave()


def run_training(
    corpus: list[Path],
    settings: dict[str, Any],
    outputs: Outputs,
    *,
    resume: Path | None = None,
    quiet: bool = False,
    vocab: VocabSource | None = None,
    placement: Placement | None = None,
) -> TrainingSummary:
    """Check the paths, train (``settings``: TrainConfig fields the user gave; or continue
    ``resume``; ``vocab``: read or grow the vocabulary), then write the outputs."""
    vocab = vocab or VocabSource()
    placement = placement or Placement()
    if vocab.update and resume is None:
        raise ValueError("--update-vocab: needs --resume CHECKPOINT (the model to grow)")
    if vocab.read is not None and resume is not None:
        raise ValueError("--read-vocab: a resumed model keeps its vocabulary (see --update-vocab)")
    check_paths(corpus, outputs, resume, vocab.read)
    with sigterm_as_interrupt():
        try:
            config, resumed = _start(settings, resume)
            _check_placement(config or resumed.config, placement)  # type: ignore[union-attr]
            resumed = _vocabulary(corpus, config, resumed, vocab)
            config = None if resumed is not None else config
        except KeyboardInterrupt:
            raise fail("interrupted before training started; nothing was written", 130) from None
        points: list[tuple[float, float]] = []
        main = placement.main_rank()
        model = _train(corpus, config, resumed, outputs, quiet or not main, points, placement)
        if main:
            _write_outputs(model, outputs, points)
    return TrainingSummary(
        vectors=str(outputs.vectors),
        checkpoint=str(outputs.checkpoint) if outputs.checkpoint else None,
        plot=str(outputs.plot) if outputs.plot else None,
        vocabulary=len(model.vocab),
        epoch_losses=model.position.epoch_losses,
        loss=model.config.loss,
    )


def _start(
    settings: dict[str, Any], resume: Path | None
) -> tuple[TrainConfig | None, SkipGram | None]:
    """A new run's configuration, or the checkpoint to continue (with its settings)."""
    from crossent.word2vec import CheckpointError, SkipGram, TrainConfig
    from crossent.word2vec.training.config import default_threads
    from crossent.word2vec.training.train import resume_config

    settings = {"threads": default_threads(), **settings}
    if resume is None:
        return TrainConfig(**settings), None
    try:
        model = SkipGram.load(resume, "--resume")
    except CheckpointError as exc:
        raise CheckpointError(f"--resume: {exc}") from None
    model.config = resume_config(model, **settings)
    return None, model


def _check_placement(config: TrainConfig, placement: Placement) -> None:
    """``--device`` and what torchrun needs, checked before any work (train() checks them
    again, agreed across ranks)."""
    if placement.device is not None or placement.distributed:
        from crossent.word2vec.training.device import resolve_device

        try:
            resolve_device(placement.device, config.loss)
        except ValueError as exc:  # the library names its arguments: device=, loss=
            raise ValueError(_device_problem(str(exc), placement.device, config.loss)) from None
    if placement.distributed:
        from crossent.word2vec.training.distributed import check_parallel_config

        check_parallel_config(config)


def _device_problem(message: str, device: str | None, loss: str) -> str:
    """:func:`~crossent.word2vec.training.device.resolve_device`'s error in the command
    line's words (``--device``, ``--loss``)."""
    if f"loss={loss!r} trains with CPU kernels" in message:
        return (
            f"--device: --loss {loss} trains with CPU kernels; only --loss softmax runs on a "
            f"GPU, got --device {device}"
        )
    return "--" + message if message.startswith("device: ") else message


def rank_threads(loss: str | None) -> int:
    """Default threads of a rank: 1 for the softmax, else the cores shared by the ranks of
    this node (``LOCAL_WORLD_SIZE``)."""
    from crossent.word2vec.training.config import default_threads

    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    return 1 if loss == "softmax" else max(1, default_threads() // local)


def torchrun_placement(device: str | None) -> Placement:
    """This rank's device and whether torchrun launched the run (torch imported only then)."""
    if os.environ.get("WORLD_SIZE", "1") == "1":
        return Placement(device, False)
    from crossent.word2vec.training.distributed import Ranks, launch_from_environment

    device, distributed = launch_from_environment(device)
    return Placement(device, distributed, Ranks.current().rank if distributed else 0)


def _vocabulary(
    corpus: list[Path], config: TrainConfig | None, model: SkipGram | None, vocab: VocabSource
) -> SkipGram | None:
    """A new model on the ``--read-vocab`` vocabulary, or the checkpoint grown by the
    corpus's new words (``--update-vocab``: gensim's ``build_vocab(update=True)``, a new run
    on the new text), or ``model`` unchanged (None: :func:`train` builds the model)."""
    if vocab.read is not None and config is not None:
        from crossent.word2vec.training.train import build_model
        from crossent.word2vec.training.vocabfile import read_vocab

        return build_model(corpus, config, counts=read_vocab(vocab.read, "--read-vocab"))
    if vocab.update and model is not None:
        from crossent.word2vec.training.update import update_from_text

        return update_from_text(model, corpus)
    return model


def _train(
    corpus: list[Path],
    config: TrainConfig | None,
    model: SkipGram | None,
    outputs: Outputs,
    quiet: bool,
    points: list[tuple[float, float]],
    placement: Placement,
) -> SkipGram:
    from crossent.word2vec import TrainingInterrupted, train

    display = progress_display(quiet)

    def on_progress(p: TrainProgress) -> None:
        points.append((p.words_done * p.epochs / max(p.words_total, 1), p.loss))
        display(p)

    try:
        with display:
            return train(
                corpus,
                config,
                model=model,
                progress=on_progress,
                device=placement.device,
                distributed=placement.distributed,
            )
    except TrainingInterrupted as stop:
        if placement.distributed and stop.model.config.loss == "softmax":  # rows split
            raise fail(
                "interrupted: a softmax run across ranks writes no checkpoint", 130
            ) from None
        if not placement.main_rank():  # every rank stopped at the same sync; rank 0 writes
            raise typer.Exit(INTERRUPTED) from None
        target = save_interrupted(stop.model, outputs)
        console.print(
            f"interrupted: checkpoint written to {target} (resume with --resume {target}); "
            "nothing else was written",
            soft_wrap=True,
        )
        raise typer.Exit(INTERRUPTED) from None
    except KeyboardInterrupt:  # during the corpus passes, before any job
        raise fail("interrupted before training started; nothing was written", 130) from None


def save_interrupted(model: SkipGram, outputs: Outputs) -> Path:
    """Checkpoint an interrupted run: to ``--checkpoint`` if named, else to a free
    ``OUT.ckpt`` name (never replacing a file). Further signals wait until it is written."""
    with signals_ignored():
        if outputs.checkpoint is not None:
            model.save(outputs.checkpoint)
            return outputs.checkpoint
        from crossent.word2vec.formats.files import free_path

        while True:
            target = free_path(outputs.vectors.with_name(outputs.vectors.name + ".ckpt"))
            with contextlib.suppress(FileExistsError):  # taken meanwhile: try the next name
                model.save(target, replace=False)
                return target


def _write_outputs(model: SkipGram, outputs: Outputs, points: list[tuple[float, float]]) -> None:
    """Write vectors, checkpoint and plot; on Ctrl-C/SIGTERM, say what was written (and
    keep the trained model in a checkpoint if none was written yet)."""
    from crossent.word2vec.evaluation.plot import plot_loss

    steps: list[tuple[Path, Callable[[], None]]] = [
        (
            outputs.vectors,
            lambda: model.keyed_vectors().save(outputs.vectors, binary=outputs.binary),
        )
    ]
    if outputs.checkpoint is not None:
        steps.append((outputs.checkpoint, lambda: model.save(outputs.checkpoint)))  # type: ignore[arg-type]
    if outputs.vocab is not None:
        from crossent.word2vec.training.vocabfile import save_vocab

        vocab_path = outputs.vocab
        steps.append((vocab_path, lambda: save_vocab(vocab_path, model.vocab)))
    if outputs.plot is not None:
        plot = outputs.plot
        steps.append(
            (plot, lambda: plot_loss(plot, points, model.position.epoch_losses, model.config.loss))
        )
    written: list[Path] = []
    try:
        for path, write in steps:
            write()
            written.append(path)
    except KeyboardInterrupt:
        left = [str(path) for path, _ in steps if path not in written]
        kept = ""
        if outputs.checkpoint is None or outputs.checkpoint not in written:
            target = save_interrupted(model, outputs)
            kept = f"; the trained model is in {target} (finish with --resume {target})"
        console.print(
            "interrupted after training had finished: written: "
            f"{', '.join(map(str, written)) or 'nothing'}; not written (previous versions "
            f"intact): {', '.join(left)}{kept}",
            soft_wrap=True,
        )
        raise typer.Exit(INTERRUPTED) from None
    outputs.finished = True


def train_cmd(
    corpus: Annotated[
        list[Path] | None, typer.Argument(help="Text files (plain or .gz); or -train FILE.")
    ] = None,
    out: opt.OutOption = None,
    fmt: opt.FormatOption = None,
    loss: opt.LossOption = None,
    model: opt.ModelOption = None,
    cbow_mean: opt.CbowMeanOption = None,
    no_cbow_mean: opt.NoCbowMeanOption = False,
    hs: opt.HsOption = False,
    ns_exponent: opt.NsExponentOption = None,
    shrink_windows: opt.ShrinkWindowsOption = None,
    dim: opt.DimOption = None,
    window: opt.WindowOption = None,
    negative: opt.NegativeOption = None,
    min_count: opt.MinCountOption = None,
    max_vocab: opt.MaxVocabOption = None,
    sample: opt.SampleOption = None,
    epochs: opt.EpochsOption = None,
    alpha: opt.AlphaOption = None,
    threads: opt.ThreadsOption = None,
    seed: opt.SeedOption = None,
    checkpoint: opt.CheckpointOption = None,
    resume: opt.ResumeOption = None,
    plot: opt.PlotOption = None,
    save_vocab: opt.SaveVocabOption = None,
    read_vocab: opt.ReadVocabOption = None,
    update_vocab: opt.UpdateVocabOption = False,
    lowercase: opt.LowercaseOption = None,
    device: opt.DeviceOption = None,
    sync_every: opt.SyncEveryOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonFlag = False,
    train_file: opt.TrainFileOption = None,
    binary: opt.BinaryOption = None,
    cbow: opt.CbowOption = None,
    classic_hs: opt.ClassicHsOption = None,
) -> None:
    """Train skip-gram or CBOW word vectors on CORPUS.

    word2vec.c's spellings work too (``-train``, ``-output``, ``-size``, ``-cbow 1``,
    ``-hs 1``, ``-iter`` ...; see docs/cli.md), with crossent's defaults. Under torchrun
    (``torchrun --nproc-per-node K -m crossent train ...``) every rank trains its share of
    the corpus and the ranks sync every --sync-every words (``ns``, ``hs``; skip-gram and
    CBOW), or ``--loss softmax``'s output vectors are split by vocabulary over the K ranks;
    rank 0 prints and writes."""
    corpus = [*(corpus or []), *(train_file or [])]
    classic = {"binary": binary, "cbow": cbow, "hs": classic_hs}
    model, fmt, hs = opt.fold_classic(classic, model, fmt, hs)
    if out is None:
        raise fail("--out: missing; name the vector file to write (word2vec.c: -output)")
    is_binary = opt.output_format(out, fmt)
    if hs and loss is not None:
        raise fail(f"--hs: give either --hs (word2vec.c's style) or --loss, got --loss {loss}")
    if hs:
        loss = "hs" if negative == 0 else "hs+ns"
    mean = opt.zero_one("--cbow-mean", cbow_mean, "1: mean, 0: sum")
    if no_cbow_mean and mean:
        raise fail("--no-cbow-mean: contradicts --cbow-mean 1")
    mean = False if no_cbow_mean else mean
    given = {
        "loss": loss, "dim": dim, "window": window, "negative": negative,
        "min_count": min_count, "max_vocab": max_vocab, "sample": sample, "epochs": epochs,
        "alpha": alpha, "threads": threads, "seed": seed, "lowercase": lowercase,
        "model": model, "cbow_mean": mean, "ns_exponent": ns_exponent,
        "shrink_windows": shrink_windows, "sync_every": sync_every,
    }  # fmt: skip
    settings = {k: v for k, v in given.items() if v is not None}
    outputs = Outputs(out, is_binary, checkpoint, plot, save_vocab)
    vocab = VocabSource(read_vocab, update_vocab)
    placement = Placement(device)
    try:
        with user_errors():
            placement = torchrun_placement(device)
            if placement.distributed:  # softmax: one job at a time; else the rank's cores
                known = loss if resume is None else loss or "softmax"  # a checkpoint's: 1
                settings.setdefault("threads", rank_threads(known))
            summary = run_training(
                corpus, settings, outputs, resume=resume, quiet=quiet or as_json, vocab=vocab,
                placement=placement,
            )  # fmt: skip
    except KeyboardInterrupt:  # checking paths or loading (nothing written), or all written
        if outputs.finished:
            console.print(f"interrupted after every output was written ({out} ...)")
            raise typer.Exit(INTERRUPTED) from None
        raise fail("interrupted before training started; nothing was written", 130) from None
    finally:
        placement.leave()
    if not placement.main_rank():
        return
    if as_json:
        typer.echo(json.dumps(vars(summary), indent=2))
    elif not quiet:
        console.print(
            f"vectors written to {summary.vectors}; epoch losses: "
            + ", ".join(f"{x:.4f}" for x in summary.epoch_losses),
            soft_wrap=True,
        )
