"""``crossent explain``: a thin layer over :func:`crossent.explain.explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossent.cli.common import fail
from crossent.cli.common import stdout as console
from crossent.explain import (
    BatchDemo,
    Explanation,
    TargetRequired,
    explain,
    plot_explanation,
    to_json,
)


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise fail(f"{name}: expected comma-separated numbers, got {text!r}") from None


def _target(text: str | None) -> int | list[float] | None:
    """``--target``: one integer is a class index, several numbers a distribution."""
    values = _floats(text, "--target")
    if values is None or len(values) > 1:
        return values
    if not values[0].is_integer():
        raise fail(f"--target: one value is a class index (an integer), got {text!r}")
    return int(values[0])


def explain_cmd(
    logits: Annotated[
        str | None, typer.Option(help="Comma-separated logits (default: the seed's 1,2,0.5).")
    ] = None,
    probs: Annotated[
        str | None,
        typer.Option(help="Comma-separated predicted probabilities instead (must sum to 1)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="The true class (e.g. 2) or a target distribution (e.g. 0.1,0.9,0); "
            "required with --logits or --probs (the seed's class 1 goes with its logits)."
        ),
    ] = None,
    normalize: Annotated[
        bool, typer.Option(help="Rescale --probs and a --target distribution to sum to 1.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print strict JSON; infinities and NaN as "inf", "-inf", "nan".'
        ),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Also draw y, p and the per-class terms of H(y, p) = H(y) + KL."),
    ] = None,
) -> None:
    """Information, entropy, cross-entropy and KL of one prediction, and the seed's two forms.

    The seed is the study note crossent grew from: the skip-gram loss is the cross-entropy
    between a one-hot target and softmax(logits).
    """
    try:
        result = explain(
            _floats(logits, "--logits"),
            _floats(probs, "--probs"),
            _target(target),
            normalize=normalize,
        )
        if plot is not None:
            try:
                plot_explanation(result, plot)
            except OSError as exc:  # a place the image cannot be written to
                raise fail(f"--plot: cannot write {plot}: {exc.strerror or exc}") from None
    except TargetRequired as exc:
        option = "--logits" if logits is not None else "--probs"
        raise fail(f"--target: required with {option}: {exc.hint}") from None
    except (ValueError, TypeError) as exc:
        raise fail(as_options(str(exc))) from None
    if as_json:
        typer.echo(to_json(result))
    else:
        _print_explanation(result)


# The names explain() and plot_explanation() give their inputs in errors, and the options
_OPTIONS = {"logits": "--logits", "probabilities": "--probs", "target": "--target",
            "plot": "--plot"}  # fmt: skip


def as_options(message: str) -> str:
    """A library error in the command line's words: ``target: ...`` → ``--target: ...``.

    >>> as_options("probabilities: cannot normalize values that sum to 0")
    '--probs: cannot normalize values that sum to 0'
    >>> as_options("target: expected ...; pass normalize=True (--normalize) to rescale them")
    '--target: expected ...; pass --normalize to rescale them'
    """
    message = message.replace("normalize=True (--normalize)", "--normalize")
    if message == "give either logits or probabilities, not both":
        return "--logits, --probs: give one of them, not both"
    name, sep, rest = message.partition(": ")
    return f"{_OPTIONS[name]}: {rest}" if sep and name in _OPTIONS else message


def _print_explanation(r: Explanation) -> None:
    console.print(r.intro, soft_wrap=True, highlight=False)
    table = Table(title="Per outcome")
    columns = ("class", "logit z", "p = softmax(z)", "target y", "I = -ln p", "bits", "-y ln p")
    for col in columns:
        table.add_column(col, justify="right")
    rows = zip(
        r.logits, r.probabilities, r.target, r.information, r.information_bits,
        r.cross_entropy_terms, strict=True,
    )  # fmt: skip
    for i, (z, p, y, nat, bit, term) in enumerate(rows):
        cells = (f"{z:.4f}", f"{p:.4f}", f"{y:g}", f"{nat:.4f}", f"{bit:.4f}", f"{term:.4f}")
        table.add_row(str(i), *cells)
    console.print(table)
    if r.normalized:
        console.print("(inputs rescaled to sum to 1: --normalize)")
    console.print(f"entropy of the prediction  H(p)    = {r.entropy_prediction:.6f} nats")
    console.print(f"entropy of the target      H(y)    = {r.entropy_target:.6f} nats")
    console.print(f"cross-entropy              H(y, p) = {r.cross_entropy:.6f} nats")
    console.print(
        f"KL divergence              KL(y‖p) = {r.kl_divergence:.6f} nats"
        f"   (H(y, p) = H(y) + KL: {r.entropy_target + r.kl_divergence:.6f})",
        soft_wrap=True,
    )
    console.print("\n[bold]The seed's two forms of the loss[/bold]")
    console.print(f"form 1  -z_k + log Σ exp(z), k = {r.form1_class} = {r.form1:.6f}")
    console.print(f"form 2  -Σ_c y_c log p_c           = {r.form2:.6f}")
    console.print(r.forms_note, soft_wrap=True, highlight=False)
    _print_seed_one_liner(r)


def _print_seed_one_liner(r: Explanation) -> None:
    b, o = r.seed_batch, r.overflow
    rows = b.batch_shape[0]
    whose = "the seed's" if r.intro == r.seed else "your"
    console.print(
        "\n[bold]The seed's batched one-liner[/bold] "
        "(-output_layer[:, Y] + log(sum(exp(output_layer), 1))).mean()",
        soft_wrap=True,
    )
    console.print(
        f"on a batch of {rows} rows made from {whose} logits (row b: z rotated by b places, "
        f"Y = {b.labels}: class {r.form1_class} rotated with it), so every row's true loss "
        f"is {whose} form 1, {r.form1:.6f}:",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    chance = " (equal here only for these logits; with others it is not)" if _same(b) else ""
    console.print(
        f"output_layer[:, Y] picks whole columns, so the sum broadcasts to "
        f"{b.naive_intermediate_shape} and the mean is {b.naive_loss:.6f}, not the loss"
        f"{chance}; one target logit per row (output_layer[range({rows}), Y]) gives "
        f"{b.correct_loss:.6f}",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    if o.logits_overflow:
        console.print(
            f"{whose} logits exceed {o.limit:.2f}, so naive exp overflows in float32 → "
            f"{o.naive_loss}; max-shifted logsumexp → {o.shifted_stable_loss:.6f}",
            soft_wrap=True,
        )
        return
    console.print(
        f"{whose} logits stay below {o.limit:.2f}: naive exp does not overflow in float32 "
        f"({o.naive_loss:.6f}). Adding {o.shift:g} to every logit leaves the loss unchanged "
        f"(softmax is shift-invariant) but naive exp overflows → {o.shifted_naive_loss}; "
        f"max-shifted logsumexp → {o.shifted_stable_loss:.6f}",
        soft_wrap=True,
    )


def _same(b: BatchDemo) -> bool:
    """Whether the one-liner's wrong mean happens to equal the loss (one class, or logits
    whose mean is the target's)."""
    return abs(b.naive_loss - b.correct_loss) <= 1e-6 * max(1.0, abs(b.correct_loss))
