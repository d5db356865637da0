"""``crossent explain``: a thin layer over :func:`crossent.explain.explain`."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crossent.explain import Explanation, explain

console = Console()


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError as exc:
        raise typer.BadParameter(
            f"expected comma-separated numbers, got {text!r}", param_hint=name
        ) from exc


def explain_cmd(
    logits: Annotated[
        str | None, typer.Option(help="Comma-separated logits (default: 1,2,0.5).")
    ] = None,
    probs: Annotated[
        str | None, typer.Option(help="Comma-separated predicted probabilities instead.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target distribution or one-hot (default: 0,1,0).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Information, entropy, cross-entropy and KL of one prediction, and the seed's two forms."""
    try:
        result = explain(
            _floats(logits, "--logits"), _floats(probs, "--probs"), _floats(target, "--target")
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(result), indent=2))
    else:
        _print_explanation(result)


def _print_explanation(r: Explanation) -> None:
    table = Table(title="Per outcome")
    for col in ("class", "logit z", "p = softmax(z)", "target y", "I = -ln p (nats)", "bits"):
        table.add_column(col, justify="right")
    for i, (z, p, y, nat, bit) in enumerate(
        zip(r.logits, r.probabilities, r.target, r.information, r.information_bits, strict=True)
    ):
        table.add_row(str(i), f"{z:.4f}", f"{p:.4f}", f"{y:g}", f"{nat:.4f}", f"{bit:.4f}")
    console.print(table)
    console.print(f"entropy of the prediction  H(p)    = {r.entropy_prediction:.6f} nats")
    console.print(f"entropy of the target      H(y)    = {r.entropy_target:.6f} nats")
    console.print(f"cross-entropy              H(y, p) = {r.cross_entropy:.6f} nats")
    console.print(
        f"KL divergence              KL(y‖p) = {r.kl_divergence:.6f} nats"
        f"   (H(y, p) = H(y) + KL: {r.entropy_target + r.kl_divergence:.6f})"
    )
    console.print("\n[bold]The seed's two forms of the loss[/bold]")
    console.print(f"form 1  -z_y + log Σ exp(z)  = {r.form1:.6f}")
    console.print(f"form 2  -Σ_c y_c log p_c      = {r.form2:.6f}")
    b = r.seed_batch
    console.print(
        "\n[bold]The seed's batched one-liner[/bold] "
        "(-output_layer[:, Y] + log(sum(exp(output_layer), 1))).mean()"
    )
    console.print(
        f"batch {b['batch_shape']}: output_layer[:, Y] broadcasts to "
        f"{b['naive_intermediate_shape']} → {b['naive_loss']:.6f}; "
        f"correct (one target logit per row): {b['correct_loss']:.6f}"
    )
    console.print(
        f"logits × 100 in float32: naive exp overflows → {b['logits_x100_naive']}; "
        f"max-shifted logsumexp → {b['logits_x100_correct']:.4f}"
    )
