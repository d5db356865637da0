"""``crossent eval``: word similarity, analogies and the exact held-out loss of vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crossent.cli.common import JsonFlag, fail, load_vectors, stdout, user_errors

if TYPE_CHECKING:
    from crossent.word2vec.evaluation.evaluate import EvaluationReport


def eval_cmd(
    vectors: Annotated[Path, typer.Argument(help="Vector file or checkpoint.")],
    similarity: Annotated[list[Path] | None, typer.Option(help="Word-pair file(s).")] = None,
    analogies: Annotated[Path | None, typer.Option(help="Analogy questions file.")] = None,
    heldout: Annotated[list[Path] | None, typer.Option(help="Text for held-out J(θ).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate vectors: word similarity, analogies, exact held-out loss (checkpoints)."""
    from crossent.word2vec.evaluation.evaluate import evaluate
    from crossent.word2vec.formats.data import ANALOGIES, WORD_PAIRS, data_file

    defaults = not similarity and analogies is None and not heldout
    sim = similarity or ([data_file(WORD_PAIRS)] if defaults else [])
    ana = analogies or (data_file(ANALOGIES) if defaults else None)
    with user_errors():
        kv, model = load_vectors(vectors)
        if heldout and model is None:
            raise fail(
                "--heldout needs a checkpoint (it holds the output vectors), not a vector file"
            )
        try:
            report = evaluate(kv, model, similarity=sim, analogies=ana, heldout=heldout or [])
        except (ValueError, OSError) as exc:
            message = as_option(str(exc) or type(exc).__name__)
            if defaults:  # the user named no file: say which bundled one, and the way out
                for option, path in (("--similarity", sim[0]), ("--analogies", ana)):
                    message = message.replace(
                        f"{option}: {path}:",
                        f"{option}: the bundled {Path(str(path)).name} (used when no task is "
                        f"given; name your own file with {option}):",
                    )
            raise fail(message) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report)


# The library's names for the inputs of evaluate() (its arguments) and the options they are
_OPTIONS = {"similarity": "--similarity", "analogies": "--analogies", "heldout": "--heldout",
            "corpus": "--heldout"}  # fmt: skip


def as_option(message: str) -> str:
    """An error of :func:`~crossent.word2vec.evaluation.evaluate.evaluate` naming the
    command's option instead of the Python argument.

    >>> as_option("similarity: pairs.txt:3: expected 'word1<TAB>word2<TAB>score'")
    "--similarity: pairs.txt:3: expected 'word1<TAB>word2<TAB>score'"
    >>> as_option("corpus: expected a text file, got a directory: d")
    '--heldout: expected a text file, got a directory: d'
    """
    name, sep, rest = message.partition(": ")
    return f"{_OPTIONS[name]}: {rest}" if sep and name in _OPTIONS else message


def print_report(report: EvaluationReport) -> None:
    """The report as a table on stdout."""
    table = Table(title=f"evaluation ({report.words} words)")
    for col in ("task", "score", "coverage"):
        table.add_column(col)
    for name, r in report.similarity.items():
        table.add_row(
            f"similarity {name}",
            f"Spearman {r.spearman:.4f}",
            f"{r.pairs} pairs, OOV {r.oov_fraction:.1%}",
        )
    if report.analogies is not None:
        a = report.analogies
        table.add_row(
            "analogies", f"accuracy {a.accuracy:.2%}", f"{a.questions} questions ({a.coverage:.1%})"
        )
    if report.heldout is not None:
        h = report.heldout
        table.add_row(
            f"held-out J(θ), {h['objective']}",
            f"{h['loss']:.4f} (perplexity {h['perplexity']:.1f})",
            f"{h['pairs']} pairs",
        )
    stdout.print(table)
