"""``crossent similar``: the nearest neighbours of a word."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossent.cli.common import JsonFlag, fail, stdout, user_errors


def similar_cmd(
    vectors: Annotated[Path, typer.Argument(help="Vector file or checkpoint.")],
    word: Annotated[str, typer.Argument()],
    n: Annotated[int, typer.Option("-n", help="How many neighbours.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The nearest neighbours of WORD (cosine similarity)."""
    from crossent.word2vec import UnknownWordError
    from crossent.word2vec.training.model import load_any

    if n < 1:
        raise fail(f"-n: expected a positive number of neighbours, got {n}")
    with user_errors():
        kv, _ = load_any(vectors, "VECTORS")
        try:
            result = kv.most_similar(word, topn=n)
        except UnknownWordError as exc:
            raise fail(str(exc), 1) from None
    if as_json:
        typer.echo(json.dumps([{"word": w, "similarity": s} for w, s in result]))
        return
    table = Table(title=f"nearest to {word!r}")
    table.add_column("word")
    table.add_column("cosine", justify="right")
    for w, s in result:
        table.add_row(w, f"{s:.4f}")
    stdout.print(table)
