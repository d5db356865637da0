"""Full-softmax skip-gram across the ranks of ``torch.distributed`` (launched by torchrun).

Every rank reads the same corpus and runs the same job stream (one job at a time,
``threads=1``). The output vectors ``U`` are split by vocabulary rows: rank ``r`` of ``K``
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

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from crossent.word2vec.formats.corpus import EncodedCorpus
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.device import resolve_device, weights_on
from crossent.word2vec.training.model import SkipGram

if TYPE_CHECKING:
    from crossent.word2vec.training.softmax import Weights

T = TypeVar("T")


class RankFailed(ValueError):
    """Another rank of the run failed; this one stops too (the message names the rank)."""


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
        dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
    if device == "cuda" and torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return f"cuda:{local}", True
    return device, True


def leave() -> None:
    """Leave the process group before the process exits, all ranks together (a rank that
    tore its group down while another still used it, or exited with it alive, was seen to
    abort at exit: "terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
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
    error: Exception | None = None
    result: Any = None
    try:
        result = stage()
        mine: tuple[str | None, Any] = (None, key(result))
    except Exception as exc:  # shared with the other ranks, then raised here
        error, mine = exc, (f"{type(exc).__name__}: {exc}", None)
    outcomes: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(outcomes, mine)
    if error is not None:
        raise error
    for rank, (message, _) in enumerate(outcomes):
        if message is not None:
            raise RankFailed(f"distributed: rank {rank} failed ({message})")
    keys = [k for _, k in outcomes]
    for rank, k in enumerate(keys[1:], start=1):
        if k != keys[0]:
            raise ValueError(
                f"distributed: ranks disagree on {what}: {_difference(keys[0], k, rank)}"
            )
    return result  # type: ignore[no-any-return]


def _difference(first: Any, other: Any, rank: int) -> str:
    if isinstance(first, dict) and isinstance(other, dict):
        names = sorted(n for n in first.keys() | other.keys() if first.get(n) != other.get(n))
        return ", ".join(
            f"{n}={first.get(n)!r} on rank 0, {other.get(n)!r} on rank {rank}" for n in names
        )
    return f"{first!r} on rank 0, {other!r} on rank {rank}"


def check_parallel_config(config: TrainConfig) -> None:
    """The settings a vocabulary-parallel run needs (the same on every rank by now)."""
    if config.loss != "softmax":
        raise ValueError(
            f"loss: training across ranks (torchrun) splits the full softmax by vocabulary; "
            f"loss={config.loss!r} is not supported, use --loss softmax"
        )
    if config.model != "skipgram":
        raise ValueError(
            f"model: training across ranks (torchrun) supports skip-gram, got {config.model!r}"
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
    """What :func:`crossent.word2vec.train` does differently across ranks: agreed stages,
    this rank's slice of the output vectors, the gathering at the end."""

    def __init__(self) -> None:
        self.ranks = Ranks.current()

    def settings(self, config: TrainConfig, device: Any, model: SkipGram | None) -> torch.device:
        """The device, once every rank has resolved its own and all settings agree; then
        the settings a parallel run needs (the same on every rank)."""
        position = None if model is None else vars(model.position)
        dev = agreed(
            "settings",
            lambda: resolve_device(device, config.loss),
            lambda d: config.to_dict() | {"device": d.type, "position": position},
        )
        check_parallel_config(config)
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
