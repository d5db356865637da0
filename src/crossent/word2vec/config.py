"""Training configuration of word2vec (skip-gram or CBOW), with word2vec.c's defaults."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

LOSSES = ("ns", "hs", "hs+ns", "softmax")
MODELS = ("skipgram", "cbow")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (word2vec.c names in brackets).

    ``loss``: ``"ns"`` negative sampling, ``"hs"`` hierarchical softmax, ``"hs+ns"`` both
    summed per example (word2vec.c's ``-hs 1 -negative N``), ``"softmax"`` the seed's exact
    full softmax through :func:`crossent.linear_cross_entropy`. ``model``: ``"skipgram"``
    (the centre predicts each context word) or ``"cbow"`` (the mean — ``cbow_mean=False``:
    the sum — of the context vectors predicts the centre).
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
    batch_pairs: int = 256  # (centre, context) pairs per fused-op step for loss="softmax"
    model: str = "skipgram"  # [-cbow 0 / 1]
    cbow_mean: bool = True  # [-cbow 1 uses the mean]; False: the sum of the context vectors
    ns_exponent: float = 0.75  # negatives drawn from count^ns_exponent
    shrink_windows: bool = True  # gensim's name for the dynamic window

    def __post_init__(self) -> None:
        for name in ("dim", "window", "epochs", "threads", "min_count", "job_words", "batch_pairs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not isinstance(self.negative, int) or self.negative < 0:
            raise ValueError(f"negative: expected an integer >= 0, got {self.negative!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {self.loss!r}")
        if self.loss in ("ns", "hs+ns") and self.negative < 1:
            raise ValueError(
                f"negative: negative sampling needs negative >= 1 (loss={self.loss!r}), got 0"
            )
        if self.model not in MODELS:
            raise ValueError(f"model: expected one of {MODELS}, got {self.model!r}")
        if not isinstance(self.ns_exponent, (int, float)) or not abs(self.ns_exponent) < 1e3:
            raise ValueError(f"ns_exponent: expected a finite number, got {self.ns_exponent!r}")
        if not (self.alpha > 0):
            raise ValueError(f"alpha: expected a positive learning rate, got {self.alpha!r}")
        if not (0 <= self.sample < 1):
            raise ValueError(f"sample: expected a threshold in [0, 1), got {self.sample!r}")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ValueError(f"max_vocab: expected a positive integer, got {self.max_vocab!r}")

    @property
    def hs(self) -> bool:
        """Whether training uses hierarchical softmax (``"hs"`` or ``"hs+ns"``)."""
        return self.loss in ("hs", "hs+ns")

    @property
    def ns(self) -> bool:
        """Whether training uses negative sampling (``"ns"`` or ``"hs+ns"``)."""
        return self.loss in ("ns", "hs+ns")

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
