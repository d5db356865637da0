"""The options of ``crossent train``: crossent's ``--names`` and word2vec.c's spellings.

word2vec.c's single-dash names are aliases where the meaning is the same (``-size`` is
``--dim``, ``-iter`` is ``--epochs``, ...); ``-cbow``, ``-hs`` and ``-binary`` take its
``0|1`` values and are folded into ``--model``, ``--hs`` and ``--format`` by
:func:`fold_classic`. crossent's defaults apply either way (docs/cli.md lists both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossent.cli.common import fail

# Options: crossent's --names, and word2vec.c's single-dash spellings (docs/cli.md) where the
# meaning is the same; -cbow, -hs and -binary take word2vec.c's 0|1 values (_classic).
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-output",
        help="Where to write the vectors (required); a .txt or .vec name writes text.",
    ),
]  # fmt: skip
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="bin or text (default: text for a .txt or .vec --out, else bin); -binary 0|1.",
    ),
]
LossOption = Annotated[
    str | None,
    typer.Option(help="ns, hs, hs+ns or softmax (the seed's exact loss) (default: ns)."),
]
ModelOption = Annotated[
    str | None,
    typer.Option(help="skipgram or cbow (default: skipgram; word2vec.c: -cbow 0|1)."),
]
CbowMeanOption = Annotated[
    str | None,
    typer.Option(
        "--cbow-mean", metavar="0|1",
        help="CBOW: 1 the mean of the context vectors, 0 their sum (default: 1).",
    ),
]  # fmt: skip
NoCbowMeanOption = Annotated[bool, typer.Option("--no-cbow-mean", help="Same as --cbow-mean 0.")]
HsOption = Annotated[
    bool,
    typer.Option("--hs", help="Hierarchical softmax, plus ns unless --negative 0 (-hs 1)."),
]
NsExponentOption = Annotated[
    float | None,
    typer.Option("--ns-exponent", help="Negatives drawn from count^e (default: 0.75)."),
]
ShrinkWindowsOption = Annotated[
    bool | None,
    typer.Option(
        "--shrink-windows/--no-shrink-windows",
        help="Dynamic window: each centre uses a random width 1..--window (default: on).",
    ),
]
DimOption = Annotated[
    int | None, typer.Option("--dim", "-size", help="Vector dimension (default: 100).")
]
WindowOption = Annotated[
    int | None,
    typer.Option("--window", "-window", help="Max context distance (default: 5)."),
]
NegativeOption = Annotated[
    int | None,
    typer.Option("--negative", "-negative", help="Negative samples per pair (default: 5)."),
]
MinCountOption = Annotated[
    int | None,
    typer.Option("--min-count", "-min-count", help="Drop words seen fewer times (default: 5)."),
]
MaxVocabOption = Annotated[
    int | None, typer.Option("--max-vocab", help="Keep only the N most frequent words.")
]
SampleOption = Annotated[
    float | None,
    typer.Option("--sample", "-sample", help="Subsampling threshold, 0: off (default: 1e-3)."),
]
EpochsOption = Annotated[
    int | None,
    typer.Option("--epochs", "-iter", help="Passes over the corpus (default: 5)."),
]
AlphaOption = Annotated[
    float | None,
    typer.Option("--alpha", "-alpha", help="Initial learning rate (default: 0.025)."),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option("--threads", "-threads", help="Worker threads (default: all cores)."),
]
SeedOption = Annotated[
    int | None,
    typer.Option(help="Random seed; with --threads 1 runs are identical (default: 1)."),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(help="Also write a checkpoint (resumable; holds the output vectors)."),
]
ResumeOption = Annotated[
    Path | None, typer.Option(help="Continue from a checkpoint (--epochs N: to N in all).")
]
PlotOption = Annotated[
    Path | None,
    typer.Option(help="Write the loss curve; the name's suffix picks .png, .svg or .pdf."),
]
SaveVocabOption = Annotated[
    Path | None,
    typer.Option(
        "--save-vocab", "-save-vocab",
        help="Write the vocabulary as 'word count' lines (word2vec.c's and gensim's bytes).",
    ),
]  # fmt: skip
ReadVocabOption = Annotated[
    Path | None,
    typer.Option(
        "--read-vocab", "-read-vocab", help="Take the vocabulary from 'word count' lines."
    ),
]
UpdateVocabOption = Annotated[
    bool, typer.Option("--update-vocab", help="With --resume: add the new text's words.")
]
LowercaseOption = Annotated[
    bool | None,
    typer.Option("--lowercase/--no-lowercase", help="Lowercase words (default: off)."),
]
DeviceOption = Annotated[
    str | None,
    typer.Option(help="cpu, cuda or cuda:N: where --loss softmax trains (default: cpu)."),
]
SyncEveryOption = Annotated[
    int | None,
    typer.Option("--sync-every", help="Under torchrun: words per rank between syncs."),
]
TrainFileOption = Annotated[
    list[Path] | None,
    typer.Option("-train", metavar="FILE", help="word2vec.c's spelling of a CORPUS file."),
]
BinaryOption = Annotated[
    str | None, typer.Option("-binary", metavar="0|1", help="word2vec.c's --format text|bin.")
]
CbowOption = Annotated[
    str | None,
    typer.Option("-cbow", metavar="0|1", help="word2vec.c's --model skipgram|cbow."),
]
ClassicHsOption = Annotated[
    str | None, typer.Option("-hs", metavar="0|1", help="word2vec.c's spelling of --hs.")
]


def zero_one(option: str, value: str | None, meaning: str) -> bool | None:
    if value is None:
        return None
    if value not in ("0", "1"):
        raise fail(f"{option}: expected 0 or 1 ({meaning}), got {value!r}")
    return value == "1"


def _agree(option: str, value: str | None, other: str, given: str | None) -> str | None:
    """``value`` (from ``option``) unless ``other`` gave a different ``given``."""
    if value is not None and given is not None and value != given:
        raise fail(f"{option}: contradicts {other} {given}")
    return given if value is None else value


def fold_classic(
    classic: dict[str, str | None], model: str | None, fmt: str | None, hs: bool
) -> tuple[str | None, str | None, bool]:
    """``--model``, ``--format`` and ``--hs`` with word2vec.c's ``-cbow``, ``-binary`` and
    ``-hs`` (``classic``: their values as given, keyed by name) folded in; a contradiction
    is an error naming both options."""
    cbow = zero_one("-cbow", classic.get("cbow"), "1: cbow, 0: skipgram")
    if cbow is not None:
        model = _agree("-cbow", "cbow" if cbow else "skipgram", "--model", model)
    binary = zero_one("-binary", classic.get("binary"), "1: bin, 0: text")
    if binary is not None:
        fmt = _agree("-binary", "bin" if binary else "text", "--format", fmt)
    return model, fmt, hs or bool(zero_one("-hs", classic.get("hs"), "1: hierarchical softmax"))


TEXT_SUFFIXES = (".txt", ".vec")  # --out names that mean the text format


def output_format(out: Path, fmt: str | None) -> bool:
    """Whether to write binary: ``--format``, else the suffix of ``--out`` (``.txt`` or
    ``.vec``: text); a suffix that contradicts ``--format`` is an error."""
    if fmt not in (None, "bin", "text"):
        raise fail(f"--format: expected 'bin' or 'text', got {fmt!r}")
    text_name = out.suffix.lower() in TEXT_SUFFIXES
    if fmt == "bin" and text_name:
        raise fail(f"--out: {out} is a text file's name but --format is bin; "
                   "choose a .bin name or --format text")  # fmt: skip
    if fmt == "text" and out.suffix.lower() == ".bin":
        raise fail(f"--out: {out} is a binary file's name but --format is text; "
                   "choose a .txt name or --format bin")  # fmt: skip
    return fmt == "bin" or (fmt is None and not text_name)
