"""``crossent similar``: the nearest neighbours of a word, or the answer to an analogy.

``crossent similar vec.bin king`` lists the words nearest to ``king``;
``crossent similar vec.bin --positive king woman --negative man`` ranks the words nearest
to king − man + woman (gensim's ``most_similar(positive=, negative=)``: the mean of the unit
vectors with weights ±1; ``--cosmul``: 3CosMul). The query's words are never listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossent.cli.common import JsonFlag, fail, load_vectors, stdout, user_errors

_Words = Annotated[
    list[str] | None,
    typer.Option(
        metavar="WORD...",
        help="Words to add (several may follow one --positive; the VECTORS file comes first).",
    ),
]


def similar_cmd(
    vectors: Annotated[Path, typer.Argument(help="Vector file or checkpoint.")],
    words: Annotated[
        list[str] | None, typer.Argument(help="Word(s) whose neighbours to list (positive).")
    ] = None,
    positive: _Words = None,
    negative: Annotated[
        list[str] | None,
        typer.Option(metavar="WORD...", help="Words to subtract (king - man + woman: man)."),
    ] = None,
    cosmul: Annotated[
        bool, typer.Option("--cosmul", help="Rank by 3CosMul (Levy & Goldberg) for analogies.")
    ] = False,
    n: Annotated[int, typer.Option("-n", help="How many neighbours.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The nearest neighbours (cosine) of WORD, or of --positive minus --negative words."""
    from crossent.word2vec import UnknownWordError

    plus, minus = [*(words or []), *(positive or [])], list(negative or [])
    if n < 1:
        raise fail(f"-n: expected a positive number of neighbours, got {n}")
    if not plus:
        raise fail("WORD: expected a word, or --positive words (king - man + woman: "
                   "--positive king woman --negative man), got none")  # fmt: skip
    with user_errors():
        kv, _ = load_vectors(vectors)
        rank = kv.most_similar_cosmul if cosmul else kv.most_similar
        try:
            result = rank(positive=plus, negative=minus, topn=n)
        except UnknownWordError as exc:
            raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([{"word": w, "similarity": float(s)} for w, s in result]))
        return
    query = " + ".join(map(repr, plus)) + "".join(f" - {w!r}" for w in minus)
    table = Table(title=f"nearest to {query}")
    table.add_column("word")
    table.add_column("3CosMul" if cosmul else "cosine", justify="right")
    for w, s in result:
        table.add_row(w, f"{s:.4f}")
    stdout.print(table)
