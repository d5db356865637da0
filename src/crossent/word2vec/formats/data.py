"""The bundled data: WikiText-2 text (the demo's corpus) and the evaluation sets.

>>> data_file("wordsim353.tsv").name
'wordsim353.tsv'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CORPUS = ("wikitext2-valid.txt", "wikitext2-test.txt")
DEMO_TRAIN = "wikitext2-valid.txt"  # the demo trains on this...
DEMO_HELDOUT = "wikitext2-test.txt"  # ...and measures the seed's loss on this, held out
WORD_PAIRS = "wordsim353.tsv"
ANALOGIES = "questions-words.txt"


def data_file(name: str) -> Path:
    """The path of a bundled file (corpus or evaluation set)."""
    return Path(str(resources.files("crossent") / "data" / name))
