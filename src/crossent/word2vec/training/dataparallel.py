r"""Data-parallel word2vec (``ns``, ``hs``, ``hs+ns``; skip-gram and CBOW) across the ranks
of ``torch.distributed`` (gloo), launched by torchrun.

Every rank counts, encodes and trains its own share of the corpus (:mod:`.shard`) with its
own threads, and all ranks hold the same model after every **sync**. An epoch is cut into
``R = ⌈max_r n_r / sync_every⌉`` rounds (``n_r``: rank ``r``'s words), the same ``R`` on
every rank; after each round the ranks exchange what they changed. With ``W₀`` the model
at the last sync and ``W_r`` rank ``r``'s, every exchanged row becomes

.. math::  W \leftarrow W_0 + \sum_r (W_r - W_0),

each rank's updates applied once, as threads of one process apply theirs (Hogwild, with a
staleness of one round); ``W₀`` is kept as a snapshot. Only rows that can have changed are
exchanged: a **bitmap** of them (``V/8`` bytes per matrix) is all-reduced with bitwise OR,
then the changed rows' deltas with one all-reduce SUM (a whole matrix when at least
``WHOLE_FRACTION`` of its rows changed: contiguous, cheaper than gathering). A round changes

* ``syn0``: rows of words in the round's sentences (exactly the rows the kernels update);
* ``syn1`` of ``hs``: the Huffman inner nodes on those words' paths;
* the output vectors of negative sampling: those words' rows and the *hot* rows, those
  whose expected number of negative draws in a round (``count^{0.75}`` share × draws) is
  at least ``HOT_DRAWS``. A cold row drawn as a negative is exchanged at the end of the
  epoch, when every row of every matrix is exchanged in blocks (the models are then
  identical).

The learning rate follows the global word count: a job at fraction ``f`` of its rank's
words of an epoch trains with the rate at fraction ``f`` of the global corpus. Job ``j``
of rank ``r`` draws from seed ``(seed, epoch, j·world + r)``; with one thread per rank a
seed and a world size give the same vectors every time.

SIGINT / SIGTERM during training set a flag (:func:`deferred_interrupts`) carried by the
next exchange: every rank stops at the same sync, after a full exchange, with identical
models, so rank 0 can write a consistent checkpoint (its position counts rounds; it
resumes across the same number of ranks). A job that fails marks the exchange too: every
rank stops with the failing rank's error or a line naming it; a rank that dies makes the
others' next collective fail (gloo sees the closed connection, or the timeout expires).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from crossent.word2vec.formats.corpus import CorpusError
from crossent.word2vec.training.distributed import Ranks, collective
from crossent.word2vec.training.model import SkipGram

WHOLE_FRACTION = 0.75
"""A sync sends a whole matrix when at least this fraction of its rows changed."""
FULL_BLOCK_BYTES = 64 << 20
"""The end-of-epoch exchange goes in blocks of at most this many bytes (bounded memory)."""


@dataclass
class Interrupts:
    """Signals received while training (set by the handler, read at each sync)."""

    count: int = 0


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[Interrupts]:
    """Within the block SIGINT and SIGTERM only count (a collective must not be left half
    done on one rank); the training loop stops at the next sync."""
    flag = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def note(signum: int, frame: FrameType | None) -> None:
        flag.count += 1

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


HOT_DRAWS = 64
"""A row of the negative-sampling output vectors is exchanged at every sync when it expects
at least this many negative draws per round and rank: the rows that change much between
syncs. At V = 1M most rows expect a few draws per round; exchanging them all every round
would be a full 1.2 GB sync (see docs/design.md)."""


def hot_rows(model: SkipGram) -> np.ndarray:
    """Rows of the negative-sampling output vectors whose expected number of negative draws
    per round per rank is at least ``HOT_DRAWS`` (sorted indices)."""
    cfg = model.config
    weights = model.vocab.counts.astype(np.float64) ** cfg.ns_exponent
    per_word = cfg.negative * (cfg.window if cfg.model == "skipgram" else 1)
    draws = weights / weights.sum() * cfg.sync_every * per_word
    return np.flatnonzero(draws >= HOT_DRAWS)


@dataclass
class _Matrix:
    """One trained matrix, its snapshot at the last sync, and how a round marks its rows."""

    name: str
    array: np.ndarray  # [rows, D], trained in place by the kernels
    snapshot: np.ndarray
    kind: str  # "words": rows of the round's words; "paths": hs inner nodes; "output": ns
    offset: int = 0  # first byte of its bitmap in the exchanged flags

    @property
    def rows(self) -> int:
        return int(self.array.shape[0])


@dataclass
class Schedule:
    """This rank's rounds: ``bounds[t] = (first job, end job)`` of round ``t``."""

    bounds: list[tuple[int, int]]
    local_words: int  # n_r, this rank's words per epoch
    global_words: int  # N, all ranks' words per epoch

    @classmethod
    def of(
        cls, job_starts: np.ndarray, shard_words: list[int], rank: int, sync_every: int
    ) -> Schedule:
        """Cut the jobs (``job_starts [J+1]``: words before each job) into the rounds."""
        count = max(1, math.ceil(max(shard_words) / sync_every))
        n = shard_words[rank]
        jobs = len(job_starts) - 1
        if jobs == 0:
            return cls([(0, 0)] * count, n, sum(shard_words))
        first = np.floor(job_starts[:-1] * count / max(n, 1)).astype(np.int64)  # round of job
        cuts = np.searchsorted(first, np.arange(count + 1), side="left")
        bounds = [(int(cuts[t]), int(cuts[t + 1])) for t in range(count)]
        bounds[-1] = (bounds[-1][0], jobs)
        return cls(bounds, n, sum(shard_words))

    def global_before(self, epoch: int, local_before: int) -> int:
        """Global words before a point ``local_before`` words into this rank's epoch."""
        return epoch * self.global_words + local_before * self.global_words // max(
            self.local_words, 1
        )


@dataclass
class Sync:
    """The exchanges of one rank (see the module docstring)."""

    model: SkipGram
    ranks: Ranks
    matrices: list[_Matrix] = field(default_factory=list)
    hot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bytes_sent: int = 0  # rows exchanged × D × 4, over the run (for measurements)
    syncs: int = 0
    seconds: float = 0.0  # spent in syncs (waiting for the other ranks included)

    def __post_init__(self) -> None:
        m, cfg = self.model, self.model.config
        kinds = [("syn0", m.syn0, "words"), ("syn1", m.syn1, "paths" if cfg.hs else "output")]
        if m.syn1neg is not None:
            kinds.append(("syn1neg", m.syn1neg, "output"))
        offset = 2  # flags: [interrupted, failed rank + 1]
        for name, array, kind in kinds:
            self.matrices.append(_Matrix(name, array, array.copy(), kind, offset))
            offset += -(-array.shape[0] // 8)
        self.flag_bytes = offset
        if cfg.ns:
            self.hot = hot_rows(m)
        if cfg.hs:
            self.codes = m.vocab.huffman()

    def round(self, words: np.ndarray, interrupted: bool, failed: bool) -> tuple[bool, int]:
        """Exchange the rows a round changed (``words``: its sentences' words). Returns
        (whether any rank was interrupted, 1 + the first failed rank, or 0)."""
        started = time.perf_counter()
        try:
            return self._round(words, interrupted, failed)
        finally:
            self.seconds += time.perf_counter() - started

    def _round(self, words: np.ndarray, interrupted: bool, failed: bool) -> tuple[bool, int]:
        flags = np.zeros(self.flag_bytes, dtype=np.uint8)
        flags[0] = 1 if interrupted else 0
        flags[1] = min(self.ranks.rank + 1, 255) if failed else 0
        for mat in self.matrices:
            mask = self._touched(mat, words)
            packed = np.packbits(mask)
            flags[mat.offset : mat.offset + len(packed)] = packed
        t = torch.from_numpy(flags)
        with collective("a sync"):
            dist.all_reduce(t, op=dist.ReduceOp.BOR)
        stop, bad = bool(flags[0]), int(flags[1])
        if bad:
            return stop, bad
        rows = [
            np.flatnonzero(np.unpackbits(flags[m.offset :], count=m.rows)) for m in self.matrices
        ]
        self._exchange(rows)
        return stop, 0

    def _touched(self, mat: _Matrix, words: np.ndarray) -> np.ndarray:
        mask = np.zeros(mat.rows, dtype=bool)
        if len(words) == 0:
            return mask
        if mat.kind == "paths":
            _codes, points, lengths = self.codes
            present = np.unique(words)
            depth = np.arange(points.shape[1])[None, :] < lengths[present][:, None]
            mask[points[present][depth]] = True
            return mask
        mask[words] = True
        if mat.kind == "output":
            mask[self.hot] = True
        return mask

    def _exchange(self, rows: list[np.ndarray]) -> None:
        """All-reduce the deltas of ``rows`` of every matrix at once, then apply them. A
        matrix of which at least ``WHOLE_FRACTION`` of the rows are to be exchanged goes
        whole: contiguous subtractions instead of gathers and scatters (4.5x faster at
        V = 18k, D = 100), a few more rows on the wire; rows nobody touched carry a zero
        delta, or a cold negative's pending one, which the end-of-epoch sync would carry."""
        d = self.model.syn0.shape[1]
        picks: list[np.ndarray | slice] = [
            slice(None) if len(idx) >= WHOLE_FRACTION * mat.rows else idx
            for mat, idx in zip(self.matrices, rows, strict=True)
        ]
        sizes = [
            m.rows if isinstance(p, slice) else len(p)
            for m, p in zip(self.matrices, picks, strict=True)
        ]
        if sum(sizes) == 0:
            return
        buf = np.empty((sum(sizes), d), dtype=np.float32)
        parts = np.split(buf, np.cumsum(sizes)[:-1])
        for mat, pick, part in zip(self.matrices, picks, parts, strict=True):
            np.subtract(mat.array[pick], mat.snapshot[pick], out=part)
        with collective("a sync"):
            dist.all_reduce(torch.from_numpy(buf))
        for mat, pick, part in zip(self.matrices, picks, parts, strict=True):
            if isinstance(pick, slice):  # in place: no temporaries the size of the matrix
                np.add(mat.snapshot, part, out=mat.snapshot)
                np.copyto(mat.array, mat.snapshot)
            else:
                new = mat.snapshot[pick] + part
                mat.array[pick] = new
                mat.snapshot[pick] = new
        self.bytes_sent += buf.nbytes
        self.syncs += 1

    def full(self) -> None:
        """Exchange every row of the output matrices of negative sampling (the only ones a
        round may leave out), in blocks: afterwards every rank holds the same model."""
        started = time.perf_counter()
        for mat in self.matrices:
            if mat.kind != "output":
                continue
            block = max(1, FULL_BLOCK_BYTES // max(mat.array.shape[1] * 4, 1))
            for a in range(0, mat.rows, block):
                b = min(a + block, mat.rows)
                delta = mat.array[a:b] - mat.snapshot[a:b]
                with collective("the end-of-epoch sync"):
                    dist.all_reduce(torch.from_numpy(delta))
                mat.snapshot[a:b] += delta
                mat.array[a:b] = mat.snapshot[a:b]
                self.bytes_sent += delta.nbytes
        self.seconds += time.perf_counter() - started

    def report(self) -> str:
        """One line of what this rank's syncs cost (logged at INFO by the trainer)."""
        per = self.bytes_sent / max(self.syncs, 1) / 2**20
        return (
            f"rank {self.ranks.rank}: {self.syncs} syncs, {self.bytes_sent / 2**20:.1f} MiB of "
            f"rows ({per:.2f} MiB per sync, hot rows {len(self.hot)}), {self.seconds:.2f} s in "
            "syncs"
        )

    def totals(self, loss: float, pairs: int) -> tuple[float, int]:
        """The sums over the ranks of an epoch's loss (float64) and examples."""
        t = torch.tensor([loss, float(pairs)], dtype=torch.float64)
        with collective("the end-of-epoch sync"):
            dist.all_reduce(t)
        return float(t[0]), round(float(t[1]))


def global_fingerprint(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """The corpus as trained across ranks: total sizes, a digest of the shards' digests in
    rank order, and the number of ranks (a checkpoint resumes across as many)."""
    h = hashlib.blake2b(digest_size=16)
    for s in shards:
        h.update(str(s["digest"]).encode())
    return {
        "words": sum(int(s["words"]) for s in shards),
        "sentences": sum(int(s["sentences"]) for s in shards),
        "digest": h.hexdigest(),
        "ranks": len(shards),
    }


def check_resumed_corpus(model: SkipGram, fingerprint: dict[str, Any]) -> None:
    """A resumed model continues on its corpus, across as many ranks as it was trained on."""
    if model.corpus is None or model.corpus == fingerprint:
        return
    ranks = model.corpus.get("ranks", 1)
    if ranks != fingerprint["ranks"]:
        where = "in one process" if ranks == 1 else f"across {ranks} ranks"
        raise CorpusError(
            f"corpus: the checkpoint was trained {where}; it resumes only {where} (its "
            f"position and corpus shares depend on it), not across {fingerprint['ranks']} ranks"
        )
    raise CorpusError(
        "corpus: not the corpus the checkpoint was trained on ("
        f"{model.corpus['words']} in-vocabulary words in {model.corpus['sentences']} "
        f"sentences then, {fingerprint['words']} in {fingerprint['sentences']} now, "
        "or different words)"
    )
