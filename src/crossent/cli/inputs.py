"""The paths of ``crossent train`` checked before any work: inputs readable regular files
of the right kind, outputs writable, no output an input or another output.

Beyond the library's checks, a corpus that is a word2vec text vector file (its ``V D``
header, then a word and ``D`` numbers) is refused: it is text, so the corpus reader would
train on its numbers.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crossent.cli.train import Outputs

SNIFF_BYTES = 1 << 16  # how much of a corpus is read to recognise a vector file


def check_paths(
    corpus: list[Path], outputs: Outputs, resume: Path | None, read_vocab: Path | None = None
) -> None:
    """Inputs are readable regular files, outputs writable (``--plot`` named .png, .svg or
    .pdf), no output an input or another output (real files compared: symlinks and hard
    links count), no corpus a text vector file."""
    from crossent.word2vec.formats.files import check_distinct, check_input, check_writable

    if not corpus:
        raise ValueError("corpus: expected at least one text file, got none")
    for option, path in outputs.named():
        check_writable(path, option)
    inputs = [("corpus", check_input(path, "corpus", "text file")) for path in corpus]
    for path in corpus:
        header = text_vectors_header(path)
        if header is not None:
            raise ValueError(
                f"corpus: {path} is a word2vec text vector file ({header}), not text to train on"
            )
    if resume is not None:
        inputs.append(("--resume", check_input(resume, "--resume")))
    if read_vocab is not None:
        inputs.append(("--read-vocab", check_input(read_vocab, "--read-vocab")))
    check_distinct(inputs, outputs.named())
    if outputs.plot is not None:
        from crossent.word2vec.evaluation.plot import plot_format

        plot_format(outputs.plot, "--plot")


def text_vectors_header(path: Path) -> str | None:
    """How ``path`` (plain or ``.gz``) starts if it starts as a word2vec text vector file:
    its ``V D`` header then a word and ``D`` numbers (``'header 2 3'``), or, without header
    (GloVe's), its first lines each a word and the same ``D >= 2`` numbers; else None (also
    when the file cannot be read: the corpus reader then says why).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("2 3\\nking 0.1 -2 3e-4\\nqueen 1 2 3\\n")
    >>> text_vectors_header(Path(f.name))
    "header '2 3'"
    >>> _ = Path(f.name).write_text("king 0.1 -2\\nqueen 1 2\\nman 3 4\\n")
    >>> text_vectors_header(Path(f.name))
    'no header, lines of a word and 2 numbers'
    >>> _ = Path(f.name).write_text("2 3 words of text\\nking 0.1 -2 3e-4\\n")
    >>> text_vectors_header(Path(f.name)) is None
    True
    >>> Path(f.name).unlink()
    """
    from crossent.word2vec.formats.io import is_text_record

    try:
        with gzip.open(path) if path.name.endswith(".gz") else path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return None
    lines = head.split(b"\n")[:4]
    first = lines[0].split()
    if len(lines) >= 2 and len(first) == 2 and all(x.isdigit() for x in first):
        dim = int(first[1])
        if dim > 0 and is_text_record(lines[1], dim):
            return f"header '{int(first[0])} {dim}'"
        return None
    records = [line for line in lines[:3] if line.strip()]
    dim = len(first) - 1
    if len(records) >= 2 and dim >= 2 and all(is_text_record(r, dim) for r in records):
        return f"no header, lines of a word and {dim} numbers"
    return None
