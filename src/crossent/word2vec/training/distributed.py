"""Training across the ranks of ``torch.distributed`` (launched by torchrun): what every
rank agrees on first, and the full-softmax skip-gram split by vocabulary.

``ns``, ``hs`` and ``hs+ns`` (skip-gram and CBOW) train data-parallel
(:mod:`.dataparallel`): here every rank counts its share of the corpus (:mod:`.shard`),
rank 0 merges the counts in rank order and sends the vocabulary to all.

For ``loss="softmax"`` every rank reads the same corpus and runs the same job stream (one
job at a time, ``threads=1``).
The output vectors ``U`` are split by vocabulary rows: rank ``r`` of ``K``
holds rows ``[r·V/K, (r+1)·V/K)`` and every step goes through
:func:`crossent.fused.vocab_parallel_linear_cross_entropy`, which all-reduces the row
maxima, sums of exponentials and the ``hidden`` gradient; the input vectors ``syn0`` are
replicated and receive that all-reduced gradient, so they stay the same on every rank. This
is the single-process computation split by columns — the same vectors as one process with
the same seed and ``threads=1``, up to float rounding — not Spark-style averaging of
models trained apart. At the end the rows of ``U`` are all-gathered, so every rank holds
the whole model (rank 0 writes the files).

Ranks must agree: every stage that can fail on one rank alone (settings, reading and
counting the corpus, encoding it) ends with one exchange of outcomes and fingerprints
(:func:`agreed`), so a failure or a disagreement is one clear error on every rank, never a
rank left waiting in a collective.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from crossent.word2vec.formats.corpus import (
    CorpusError,
    CorpusLike,
    EncodedCorpus,
    as_corpus,
    encode_corpus,
)
from crossent.word2vec.formats.counted import CountedCorpus, read_once
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.device import resolve_device, weights_on
from crossent.word2vec.training.model import SkipGram
from crossent.word2vec.training.shard import corpus_identity, shard
from crossent.word2vec.training.vocab import Vocabulary

if TYPE_CHECKING:
    from crossent.word2vec.training.softmax import Weights

T = TypeVar("T")

TIMEOUT_VARIABLE = "CROSSENT_DIST_TIMEOUT"
"""Seconds a collective waits for the other ranks before failing (default 600): a rank
that hangs ends the run within that time; a rank that dies ends it at once (its
connections close)."""


class RankFailed(ValueError):
    """Another rank of the run failed; this one stops too (the message names the rank)."""


class CollectiveFailed(RankFailed):
    """A collective failed: another rank died or stopped answering."""


@contextlib.contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn a failed collective (a dead peer, a timeout) into one clear error."""
    try:
        yield
    except RuntimeError as exc:  # gloo: "Connection closed by peer", "Timed out ..."
        text = re.sub(r"\[[^\]]*\]\s*", "", " ".join(str(exc).split()))  # no [file:line]
        detail = text.split(". ")[0].strip() or type(exc).__name__
        raise CollectiveFailed(
            f"distributed: lost another rank during {what} (it died, was killed or stopped "
            f"answering: {detail})"
        ) from None


def world_size_from_environment() -> int:
    """``WORLD_SIZE`` as torchrun sets it (1 when not launched by torchrun)."""
    value = os.environ.get("WORLD_SIZE", "1")
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(f"WORLD_SIZE: expected a positive integer, got {value!r}") from None


def launch_from_environment(device: str | None) -> tuple[str | None, bool]:
    """Under torchrun (``WORLD_SIZE`` > 1): join its process group (gloo; with CUDA also
    NCCL for CUDA tensors) unless already joined; ``"cuda"`` becomes ``"cuda:LOCAL_RANK"``.
    Returns this rank's device (anything else as given: :func:`crossent.word2vec.train`
    checks it on every rank) and whether the run is distributed."""
    if world_size_from_environment() == 1:
        return device, False
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        timeout = datetime.timedelta(seconds=collective_timeout())
        with collective("the start (joining the ranks' group)"):
            dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo", timeout=timeout)
    if device == "cuda" and torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return f"cuda:{local}", True
    return device, True


def collective_timeout() -> float:
    """``CROSSENT_DIST_TIMEOUT`` in seconds (600 when unset)."""
    value = os.environ.get(TIMEOUT_VARIABLE, "600")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e7:
        raise ValueError(
            f"{TIMEOUT_VARIABLE}: expected a positive number of seconds, got {value!r}"
        )
    return seconds


def leave() -> None:
    """Leave the process group before the process exits, all ranks together (a rank that
    tore its group down while another still used it, or exited with it alive, was seen to
    abort at exit: "terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(RuntimeError):  # another rank has gone (already reported)
            dist.barrier()
        dist.destroy_process_group()


@dataclass(frozen=True)
class Ranks:
    """This process's place in the default group."""

    rank: int
    world: int

    @classmethod
    def current(cls) -> Ranks:
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                "distributed: torch.distributed is not initialised; launch with torchrun "
                "or call torch.distributed.init_process_group() on every rank first"
            )
        return cls(dist.get_rank(), dist.get_world_size())

    def rows(self, vocab: int) -> tuple[int, int]:
        """This rank's rows ``[start, stop)`` of the output vectors."""
        return self.rank * vocab // self.world, (self.rank + 1) * vocab // self.world


def agreed(what: str, stage: Callable[[], T], key: Callable[[T], Any]) -> T:
    """Run ``stage`` on every rank, then exchange (error, ``key(result)``) once: if it failed
    anywhere every rank raises (the failing rank its own error), if the keys differ every
    rank raises a ValueError naming ``what`` and the first difference."""
    return agreed_with(what, stage, key, lambda _: None)[0]


def agreed_with(
    what: str, stage: Callable[[], T], key: Callable[[T], Any], info: Callable[[T], Any]
) -> tuple[T, list[Any]]:
    """:func:`agreed`, also returning every rank's ``info(result)`` (in rank order), sent
    in the same exchange."""
    error: Exception | None = None
    result: Any = None
    try:
        result = stage()
        mine: tuple[str | None, Any, Any] = (None, key(result), info(result))
    except Exception as exc:  # shared with the other ranks, then raised here
        error, mine = exc, (f"{type(exc).__name__}: {exc}", None, None)
    outcomes: list[Any] = [None] * dist.get_world_size()
    with collective(f"the check of {what}"):
        dist.all_gather_object(outcomes, mine)
    if error is not None:
        raise error
    for rank, (message, _, _) in enumerate(outcomes):
        if message is not None:
            raise RankFailed(f"distributed: rank {rank} failed ({message})")
    keys = [k for _, k, _ in outcomes]
    for rank, k in enumerate(keys[1:], start=1):
        if k != keys[0]:
            raise ValueError(
                f"distributed: ranks disagree on {what}: {_difference(keys[0], k, rank)}"
            )
    return result, [i for _, _, i in outcomes]


def _difference(first: Any, other: Any, rank: int) -> str:
    if isinstance(first, dict) and isinstance(other, dict):
        names = sorted(n for n in first.keys() | other.keys() if first.get(n) != other.get(n))
        return ", ".join(
            f"{n}={first.get(n)!r} on rank 0, {other.get(n)!r} on rank {rank}" for n in names
        )
    return f"{first!r} on rank 0, {other!r} on rank {rank}"


def check_parallel_config(config: TrainConfig) -> None:
    """The settings a run across ranks needs (the same on every rank by now): ``ns``, ``hs``
    and ``hs+ns`` train data-parallel with any model and threads; ``softmax`` is split by
    vocabulary, skip-gram with one thread."""
    if config.loss != "softmax":
        return
    if config.model != "skipgram":
        raise ValueError(
            f"model: across ranks (torchrun) loss='softmax' is split by vocabulary for "
            f"skip-gram only, got model={config.model!r}; train CBOW with --loss ns or hs"
        )
    if config.threads != 1:
        raise ValueError(
            f"threads: training across ranks runs one job at a time on every rank "
            f"(threads=1), got {config.threads}"
        )


def world_group() -> Any:
    """The default process group (``torch.distributed.group.WORLD``)."""
    return dist.group.WORLD


def gather_rows(local: torch.Tensor, ranks: Ranks, vocab: int) -> np.ndarray:
    """All of ``syn1 [V, D]`` from every rank's rows ``local [V_r, D]`` (float32, on every
    rank)."""
    width = -(-vocab // ranks.world)  # the largest slice
    padded = local.new_zeros(width, local.shape[1])
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(ranks.world)]
    dist.all_gather(parts, padded)
    bounds = [Ranks(r, ranks.world).rows(vocab) for r in range(ranks.world)]
    rows = [p[: stop - start] for p, (start, stop) in zip(parts, bounds, strict=True)]
    return torch.cat(rows).cpu().numpy()


def digest(*arrays: np.ndarray) -> str:
    """A digest of arrays' shapes, dtypes and bytes (to compare runs across ranks)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(np.ascontiguousarray(a).view(np.uint8).reshape(-1).data)
    return h.hexdigest()


class Parallel:
    """What :func:`crossent.word2vec.train` does differently across ranks: agreed
    stages; for the softmax this rank's slice of the output vectors and the gathering at the
    end, for the others this rank's share of the corpus."""

    def __init__(self) -> None:
        self.ranks = Ranks.current()

    def settings(
        self,
        config: TrainConfig | None,
        device: Any,
        model: SkipGram | None,
        corpus: CorpusLike | Any,
    ) -> torch.device:
        """The device, once every rank has resolved its own and the settings (a resumed
        model's too) and the corpus agree; then the settings a parallel run needs."""
        from crossent.word2vec.training.train import resume_config

        position = None if model is None else vars(model.position)

        def stage() -> tuple[torch.device, TrainConfig, dict[str, Any]]:
            cfg = config or TrainConfig()
            if model is not None:
                cfg = model.config if config is None else resume_config(model, **config.to_dict())
            return resolve_device(device, cfg.loss), cfg, corpus_identity(as_corpus(corpus))

        dev, cfg, _ = agreed(
            "settings",
            stage,
            lambda r: r[1].to_dict() | {"device": r[0].type, "position": position, "corpus": r[2]},
        )
        check_parallel_config(cfg)
        return dev

    def prepare(
        self, stage: Callable[[], tuple[SkipGram, EncodedCorpus]]
    ) -> tuple[SkipGram, EncodedCorpus]:
        """Build the model and encode the corpus on every rank; both must agree."""

        def key(result: tuple[SkipGram, EncodedCorpus]) -> tuple[str, str]:
            m, enc = result
            vocab = digest(np.asarray(m.vocab.words, dtype=str), m.vocab.counts, m.syn0)
            return vocab, digest(np.asarray(enc.words), enc.offsets)

        return agreed("the vocabulary and corpus", stage, key)

    def weights(self, model: SkipGram, device: torch.device) -> Weights:
        rows = self.ranks.rows(len(model.vocab))
        return weights_on(model, device, rows, group=world_group())

    def gather(self, weights: Weights, model: SkipGram) -> None:
        model.syn1[...] = gather_rows(weights.syn1, self.ranks, len(model.vocab))

    def data_parallel(
        self, corpus: CorpusLike | Any, config: TrainConfig | None, model: SkipGram | None
    ) -> tuple[SkipGram, EncodedCorpus, list[int]]:
        """This rank's share of the corpus, encoded; the model (built from every rank's
        counts, or the one given); every rank's words per epoch."""
        from crossent.word2vec.training.dataparallel import (
            check_resumed_corpus,
            global_fingerprint,
        )
        from crossent.word2vec.training.train import resume_config

        piece = shard(as_corpus(corpus), self.ranks.rank, self.ranks.world)
        with contextlib.ExitStack() as stack:
            counted: CountedCorpus | None = None
            if model is None:  # this rank's share read once: counted, kept for encoding
                cfg = config or TrainConfig()

                def read() -> CountedCorpus:
                    return stack.enter_context(read_once(piece, lowercase=cfg.lowercase))

                counted = agreed("the corpus", read, lambda _: None)
                model = self._build(counted.counts, cfg)
            elif config is not None:
                model.config = resume_config(model, **config.to_dict())
            built = model

            def encode() -> EncodedCorpus:
                if counted is not None:
                    return counted.encode(built.vocab.index)
                return encode_corpus(piece, built.vocab.index, lowercase=built.config.lowercase)

            def key(_: EncodedCorpus) -> str:
                words = np.asarray(built.vocab.words, dtype=str)
                return digest(words, built.vocab.counts, built.syn0)

            enc, shards = agreed_with("the vocabulary", encode, key, _shard_info)
        _check_shards(shards)
        fingerprint = global_fingerprint(shards)
        check_resumed_corpus(model, fingerprint)
        model.corpus = fingerprint
        return model, enc, [int(s["words"]) for s in shards]

    def _build(self, counts: Counter[str], config: TrainConfig) -> SkipGram:
        """Rank 0 merges every rank's counts of its share in rank order (the corpus's
        first-seen order) and builds the vocabulary, which every rank receives."""
        from crossent.word2vec.training.train import build_model

        parts: list[Any] | None = [None] * self.ranks.world if self.ranks.rank == 0 else None
        with collective("the vocabulary exchange"):
            dist.gather_object(counts, parts, dst=0)
        payload: list[Any] = [None]
        if parts is not None:
            merged: Counter[str] = Counter()
            for part in parts:
                merged.update(part)
            try:
                if not merged:
                    raise CorpusError("corpus: no words in any rank's share of the corpus")
                vocab = build_model([], config, counts=merged).vocab
                payload = [(None, vocab.words, vocab.counts)]
            except ValueError as exc:  # shared with the other ranks, then raised here
                payload = [(f"{type(exc).__name__}: {exc}", None, None)]
                with collective("the vocabulary exchange"):
                    dist.broadcast_object_list(payload, src=0)
                raise
        with collective("the vocabulary exchange"):
            dist.broadcast_object_list(payload, src=0)
        message, words, word_counts = payload[0]
        if message is not None:
            raise RankFailed(f"distributed: rank 0 failed ({message})")
        return SkipGram.initial(config, Vocabulary(list(words), np.asarray(word_counts)))


def _shard_info(enc: EncodedCorpus) -> dict[str, Any]:
    lengths = np.diff(enc.offsets)
    return enc.fingerprint() | {"longest": int(lengths.max()) if len(lengths) else 0}


def _check_shards(shards: list[dict[str, Any]]) -> None:
    """Words to train on, across all ranks (every rank raises the same error)."""
    if sum(int(s["words"]) for s in shards) == 0:
        raise CorpusError("corpus: no in-vocabulary words to train on")
    if max(int(s["longest"]) for s in shards) < 2:
        raise CorpusError(
            "corpus: no sentence has two in-vocabulary words: no (centre, context) pair"
        )
