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
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crossent.cli.common import JsonFlag, console, fail, user_errors
from crossent.cli.progress import progress_display

if TYPE_CHECKING:
    from crossent.word2vec import Progress as TrainProgress
    from crossent.word2vec import SkipGram, TrainConfig

INTERRUPTED = 130  # the shell's status for a run stopped by SIGINT


@dataclass
class Outputs:
    """The files a run writes (the user named each of them)."""

    vectors: Path
    binary: bool = True
    checkpoint: Path | None = None
    plot: Path | None = None
    vocab: Path | None = None  # --save-vocab: word2vec.c's 'word count' lines

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


def check_paths(
    corpus: list[Path], outputs: Outputs, resume: Path | None, read_vocab: Path | None = None
) -> None:
    """Inputs are readable regular files, outputs writable, no output an input or another
    output (real files compared: symlinks and hard links count)."""
    from crossent.word2vec.formats.files import check_distinct, check_input, check_writable

    if not corpus:
        raise ValueError("corpus: expected at least one text file, got none")
    for option, path in outputs.named():
        check_writable(path, option)
    inputs = [("corpus", check_input(path, "corpus", "text file")) for path in corpus]
    if resume is not None:
        inputs.append(("--resume", check_input(resume, "--resume")))
    if read_vocab is not None:
        inputs.append(("--read-vocab", check_input(read_vocab, "--read-vocab")))
    check_distinct(inputs, outputs.named())


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

        resolve_device(placement.device, config.loss)
    if placement.distributed:
        from crossent.word2vec.training.distributed import check_parallel_config

        check_parallel_config(config)


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

        return build_model(corpus, config, counts=read_vocab(vocab.read))
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


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
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
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


_LossOption = Annotated[
    str | None,
    typer.Option(help="ns, hs, hs+ns or softmax (the seed's exact loss) (default: ns)."),
]
_ModelOption = Annotated[
    str | None,
    typer.Option(help="skipgram or cbow (word2vec.c's -cbow 1) (default: skipgram)."),
]
_CbowMeanOption = Annotated[
    bool | None,
    typer.Option("--cbow-mean/--no-cbow-mean", help="CBOW: mean or sum of the context."),
]
_HsOption = Annotated[
    bool,
    typer.Option(
        "--hs", help="word2vec.c's -hs 1: hierarchical softmax, plus ns unless --negative 0."
    ),
]
_NsExponentOption = Annotated[
    float | None,
    typer.Option("--ns-exponent", help="Negatives drawn from count^e (default: 0.75)."),
]
_ShrinkWindowsOption = Annotated[
    bool | None,
    typer.Option("--shrink-windows/--no-shrink-windows", help="Dynamic window (default: on)."),
]
_NegativeOption = Annotated[
    int | None, typer.Option(help="Negative samples per pair (default: 5).")
]
_MinCountOption = Annotated[
    int | None, typer.Option("--min-count", help="Drop words seen fewer times (default: 5).")
]
_MaxVocabOption = Annotated[
    int | None, typer.Option("--max-vocab", help="Keep only the most frequent words.")
]
_SampleOption = Annotated[float | None, typer.Option(help="Subsampling (0: off) (default: 1e-3).")]
_AlphaOption = Annotated[float | None, typer.Option(help="Initial learning rate (default: 0.025).")]
_ThreadsOption = Annotated[int | None, typer.Option(help="Worker threads (default: all cores).")]
_SeedOption = Annotated[
    int | None, typer.Option(help="Random seed (1 thread: identical) (default: 1).")
]
_ResumeOption = Annotated[
    Path | None, typer.Option(help="Continue from a checkpoint (--epochs N: to N in all).")
]
_SaveVocabOption = Annotated[
    Path | None, typer.Option("--save-vocab", help="Write 'word count' lines (word2vec.c).")
]
_ReadVocabOption = Annotated[
    Path | None, typer.Option("--read-vocab", help="Vocabulary from 'word count' lines.")
]
_UpdateVocabOption = Annotated[
    bool, typer.Option("--update-vocab", help="With --resume: add the new text's words.")
]
_SyncEveryOption = Annotated[
    int | None,
    typer.Option("--sync-every", help="Under torchrun: words per rank between syncs."),
]
_DeviceOption = Annotated[
    str | None,
    typer.Option(help="cpu, cuda or cuda:N: where --loss softmax trains (default: cpu)."),
]


def train_cmd(
    corpus: Annotated[list[Path], typer.Argument(help="Text files (plain or .gz).")],
    out: Annotated[Path, typer.Option(help="Where to write the vectors.")],
    fmt: Annotated[str, typer.Option("--format", help="bin or text.")] = "bin",
    loss: _LossOption = None,
    model: _ModelOption = None,
    cbow_mean: _CbowMeanOption = None,
    hs: _HsOption = False,
    ns_exponent: _NsExponentOption = None,
    shrink_windows: _ShrinkWindowsOption = None,
    dim: Annotated[int | None, typer.Option(help="Vector dimension (default: 100).")] = None,
    window: Annotated[int | None, typer.Option(help="Max context distance (default: 5).")] = None,
    negative: _NegativeOption = None,
    min_count: _MinCountOption = None,
    max_vocab: _MaxVocabOption = None,
    sample: _SampleOption = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the corpus (default: 5).")] = None,
    alpha: _AlphaOption = None,
    threads: _ThreadsOption = None,
    seed: _SeedOption = None,
    checkpoint: Annotated[Path | None, typer.Option(help="Also write a checkpoint.")] = None,
    resume: _ResumeOption = None,
    plot: Annotated[Path | None, typer.Option(help="Write the loss curve (PNG).")] = None,
    save_vocab: _SaveVocabOption = None,
    read_vocab: _ReadVocabOption = None,
    update_vocab: _UpdateVocabOption = False,
    lowercase: Annotated[bool | None, typer.Option("--lowercase/--no-lowercase")] = None,
    device: _DeviceOption = None,
    sync_every: _SyncEveryOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train skip-gram or CBOW word vectors on CORPUS.

    Under torchrun (``torchrun --nproc-per-node K -m crossent train ...``) every rank
    trains its share of the corpus and the ranks sync every --sync-every words (``ns``,
    ``hs``; skip-gram and CBOW), or ``--loss softmax``'s output vectors are split by
    vocabulary over the K ranks; rank 0 prints and writes."""
    if fmt not in ("bin", "text"):
        raise fail(f"--format: expected 'bin' or 'text', got {fmt!r}")
    if hs and loss is not None:
        raise fail(f"--hs: give either --hs (word2vec.c's style) or --loss, got --loss {loss}")
    if hs:
        loss = "hs" if negative == 0 else "hs+ns"
    given = {
        "loss": loss, "dim": dim, "window": window, "negative": negative,
        "min_count": min_count, "max_vocab": max_vocab, "sample": sample, "epochs": epochs,
        "alpha": alpha, "threads": threads, "seed": seed, "lowercase": lowercase,
        "model": model, "cbow_mean": cbow_mean, "ns_exponent": ns_exponent,
        "shrink_windows": shrink_windows, "sync_every": sync_every,
    }  # fmt: skip
    settings = {k: v for k, v in given.items() if v is not None}
    outputs = Outputs(out, fmt == "bin", checkpoint, plot, save_vocab)
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
    except KeyboardInterrupt:  # while checking paths or loading: nothing was written
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
