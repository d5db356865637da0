"""One pass over the corpus that both counts its words and keeps its sentences, encoded.

Training needs the word counts (to build the vocabulary) and then every sentence as
vocabulary indices; reading and tokenising the text twice (:func:`~.corpus.count_words`,
then :func:`~.corpus.encode_corpus`) costs twice the tokenising. :func:`read_once`
tokenises once: each distinct token gets a *provisional* id in first-seen order (a dict
whose ``__missing__`` hands out ``len(self)``, so known words are looked up at C speed),
and the provisional ids of every sentence go to an unnamed temporary file (int32), in
blocks of ``block`` words, each block also counted by ``np.bincount``. Memory grows with
the corpus only by that file (on disk, read back through a memory map) and the int64
sentence offsets, as for :func:`~.corpus.encode_corpus`.

The counts come back as a ``Counter[str]`` in first-seen order, exactly the one
:func:`~.corpus.count_words` gives (so :meth:`~..training.vocab.Vocabulary.build` breaks
ties the same way). Once the vocabulary is known, :meth:`CountedCorpus.encode` maps the
provisional ids block by block through a table (provisional id → vocabulary index, or −1
for a word left out), drops the −1s and the sentences left empty, and writes the result to
a second unnamed file, memory-mapped: the same :class:`~.corpus.EncodedCorpus` (words and
offsets) as the two passes. Use :class:`CountedCorpus` as a context manager: the
provisional file is closed on leaving it, also on an error or Ctrl-C (being unnamed,
nothing of it is ever left on disk).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping
from typing import IO

import numpy as np

from crossent.word2vec.formats.corpus import (
    Corpus,
    CorpusLike,
    EncodedCorpus,
    ReadStats,
    iter_sentences,
    job_bounds,
)

BLOCK = 1 << 20  # words per block written, counted and remapped at once


class _FirstSeen(dict[str, int]):
    """Token → provisional id: a new token gets the next id (``len(self)``) on lookup."""

    def __missing__(self, token: str) -> int:
        self[token] = pid = len(self)
        return pid


class CountedCorpus:
    """The corpus read once: ``counts`` (first-seen order), ``stats``, and the provisional
    ids of every non-empty sentence in an unnamed file, for :meth:`encode`."""

    def __init__(
        self,
        counts: Counter[str],
        stats: ReadStats,
        tokens: list[str],
        ids: IO[bytes],
        offsets: np.ndarray,
    ) -> None:
        self.counts, self.stats = counts, stats
        self._tokens = tokens  # by provisional id
        self._file: IO[bytes] | None = ids
        self._offsets = offsets  # int64 [sentences + 1] into the provisional ids

    def __enter__(self) -> CountedCorpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close (and so delete) the provisional file; :meth:`encode` is then refused."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def encode(self, index: Mapping[str, int], *, block: int = BLOCK) -> EncodedCorpus:
        """Every sentence's in-vocabulary indices (``index``: word → vocabulary index),
        sentences left without any dropped: what :func:`~.corpus.encode_corpus` gives."""
        if self._file is None:
            raise ValueError("encode: the counted corpus is closed")
        get = index.get
        table = np.fromiter((get(t, -1) for t in self._tokens), np.int32, len(self._tokens))
        offsets = self._offsets
        total = int(offsets[-1])
        ids = np.memmap(self._file, np.int32, mode="r") if total else np.zeros(0, np.int32)
        parts, base = [np.zeros(1, np.int64)], 0
        with tempfile.TemporaryFile(prefix="crossent-corpus-") as out:  # unnamed on Linux
            for s0, s1 in job_bounds(offsets, block) if total else []:
                mapped = table[ids[offsets[s0] : offsets[s1]]]
                kept = mapped >= 0
                last = offsets[s0 + 1 : s1 + 1] - offsets[s0] - 1  # each sentence's last word
                ends = np.cumsum(kept, dtype=np.int64)[last]
                lengths = np.diff(ends, prepend=0)
                mapped[kept].tofile(out)
                parts.append(base + ends[lengths > 0])
                base += int(ends[-1])
            out.flush()
            words = np.memmap(out, dtype=np.int32, mode="r") if base else np.zeros(0, np.int32)
        del ids
        return EncodedCorpus(words, np.concatenate(parts))


def read_once(
    corpus: CorpusLike | Corpus, *, lowercase: bool = False, block: int = BLOCK
) -> CountedCorpus:
    """Read and tokenise ``corpus`` once: its counts, stats and provisional ids (see the
    module docstring). Undecodable bytes give one warning, as :func:`~.corpus.count_words`."""
    out = tempfile.TemporaryFile(prefix="crossent-counting-")  # noqa: SIM115  # closed by CountedCorpus
    try:
        return _read(corpus, lowercase, block, out)
    except BaseException:  # an error or Ctrl-C: nothing stays open
        out.close()
        raise


def _read(
    corpus: CorpusLike | Corpus, lowercase: bool, block: int, out: IO[bytes]
) -> CountedCorpus:
    ids = _FirstSeen()
    lookup = ids.__getitem__
    stats = ReadStats()
    counts = np.zeros(0, np.int64)
    buf: list[int] = []
    lengths: list[int] = []
    parts = [np.zeros(1, np.int64)]  # cumulative sentence ends, a block at a time
    for tokens in iter_sentences(corpus, lowercase=lowercase, stats=stats):
        buf.extend(map(lookup, tokens))
        lengths.append(len(tokens))
        if len(buf) >= block:
            counts = _flush(buf, lengths, parts, counts, out)
    counts = _flush(buf, lengths, parts, counts, out)
    out.flush()
    tokens_by_id = list(ids)
    del ids, lookup
    found = counts[: len(tokens_by_id)].tolist()
    counter: Counter[str] = Counter(dict(zip(tokens_by_id, found, strict=True)))
    return CountedCorpus(counter, stats, tokens_by_id, out, np.concatenate(parts))


def _flush(
    buf: list[int], lengths: list[int], parts: list[np.ndarray], counts: np.ndarray, out: IO[bytes]
) -> np.ndarray:
    """Write, count and forget a block of provisional ids; returns the grown counts."""
    if not lengths:
        return counts
    block = np.asarray(buf, dtype=np.int32)
    block.tofile(out)
    found = np.bincount(block)
    if len(found) > len(counts):  # grow by doubling: a block's ids may be new
        grown = np.zeros(max(len(found), 2 * len(counts)), np.int64)
        grown[: len(counts)] = counts
        counts = grown
    counts[: len(found)] += found
    parts.append(parts[-1][-1] + np.cumsum(np.asarray(lengths, np.int64)))
    buf.clear()
    lengths.clear()
    return counts
