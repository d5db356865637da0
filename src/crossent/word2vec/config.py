"""Training configuration of skip-gram word2vec, with word2vec.c's defaults."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

LOSSES = ("ns", "hs", "softmax")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (word2vec.c names in brackets).

    ``loss``: ``"ns"`` negative sampling, ``"hs"`` hierarchical softmax, ``"softmax"`` the
    seed's exact full softmax through :func:`crossent.linear_cross_entropy`.
    """

    dim: int = 100  # [-size]
    window: int = 5  # [-window], dynamic: each centre uses window − b, b ~ U{0..window−1}
    negative: int = 5  # [-negative]
    min_count: int = 5  # [-min-count]
    max_vocab: int | None = None
    sample: float = 1e-3  # [-sample]
    epochs: int = 5  # [-iter]
    alpha: float = 0.025  # [-alpha], decays linearly to alpha · min_alpha_ratio
    min_alpha_ratio: float = 1e-4
    threads: int = 1  # [-threads]
    seed: int = 1
    loss: str = "ns"
    lowercase: bool = False
    job_words: int = 10_000  # words per job handed to a worker thread
    batch_pairs: int = 1024  # loss="softmax": pairs per SGD step (whole windows; RESULTS.md)

    def __post_init__(self) -> None:
        for name in ("dim", "window", "epochs", "threads", "min_count", "job_words", "batch_pairs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not isinstance(self.negative, int) or self.negative < 0:
            raise ValueError(f"negative: expected an integer >= 0, got {self.negative!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {self.loss!r}")
        if self.loss == "ns" and self.negative < 1:
            raise ValueError("negative: negative sampling needs negative >= 1, got 0")
        if not (self.alpha > 0):
            raise ValueError(f"alpha: expected a positive learning rate, got {self.alpha!r}")
        if not (0 <= self.sample < 1):
            raise ValueError(f"sample: expected a threshold in [0, 1), got {self.sample!r}")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ValueError(f"max_vocab: expected a positive integer, got {self.max_vocab!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def default_threads() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
