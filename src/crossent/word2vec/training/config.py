"""Training configuration of word2vec (skip-gram or CBOW), with word2vec.c's defaults."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, SupportsInt, cast

from crossent._validation import is_int

LOSSES = ("ns", "hs", "hs+ns", "softmax")
MODELS = ("skipgram", "cbow")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (word2vec.c names in brackets).

    ``loss``: ``"ns"`` negative sampling, ``"hs"`` hierarchical softmax, ``"hs+ns"`` both
    summed per example (word2vec.c's ``-hs 1 -negative N``), ``"softmax"`` the seed's exact
    full softmax through :func:`crossent.linear_cross_entropy`. ``model``: ``"skipgram"``
    (every (centre, context) pair of a window is a training pair; ``ns``/``hs`` train it
    as word2vec.c does, each context vector predicting the centre, the window's pairs sharing
    one draw of negatives; ``softmax`` as the seed's formula, the centre's vector predicting
    each context word — the pairs are the same set either way) or ``"cbow"`` (the mean —
    ``cbow_mean=False``: the sum — of the context vectors predicts the centre).
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
    threads: int = field(default_factory=lambda: default_threads())  # [-threads]: all cores
    seed: int = 1
    loss: str = "ns"
    lowercase: bool = False
    job_words: int = 10_000  # words per job handed to a worker thread
    batch_pairs: int = 1024  # loss="softmax": pairs per SGD step (whole windows; RESULTS.md)
    model: str = "skipgram"  # [-cbow 0 / 1]
    cbow_mean: bool = True  # [-cbow 1 uses the mean]; False: the sum of the context vectors
    ns_exponent: float = 0.75  # negatives drawn from count^ns_exponent
    shrink_windows: bool = True  # gensim's name for the dynamic window
    sync_every: int = 200_000  # across ranks (data-parallel): words per rank between syncs

    def __post_init__(self) -> None:
        for name, (low, high) in _INT_RANGES.items():
            object.__setattr__(self, name, _check_int(name, getattr(self, name), low, high))
        if self.max_vocab is not None:
            object.__setattr__(
                self, "max_vocab", _check_int("max_vocab", self.max_vocab, 1, 2**31 - 1)
            )
        if self.loss not in LOSSES:
            raise ConfigError("loss", f"expected one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.loss in ("ns", "hs+ns") and self.negative < 1:
            raise ConfigError(
                "negative", f"negative sampling needs negative >= 1 (loss {self.loss!r}), got 0"
            )
        if self.model not in MODELS:
            raise ConfigError("model", f"expected one of {', '.join(MODELS)}, got {self.model!r}")
        _check_float("alpha", self.alpha, 0.0, math.inf, "a positive learning rate", open_low=True)
        _check_float("min_alpha_ratio", self.min_alpha_ratio, 0.0, 1.0, "a ratio in [0, 1]")
        _check_float("sample", self.sample, 0.0, 1.0, "a threshold in [0, 1)", open_high=True)
        _check_float("ns_exponent", self.ns_exponent, -100.0, 100.0, "a number in [-100, 100]")
        for name in ("lowercase", "cbow_mean", "shrink_windows"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(name, f"expected True or False, got {getattr(self, name)!r}")

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
        """The configuration saved by :meth:`to_dict` (unknown keys are an error)."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(unknown[0], "unknown setting")
        return cls(**data)

    def resumed(self, **requested: Any) -> TrainConfig:
        """This (saved) configuration, continued with the ``requested`` settings.

        ``epochs`` (continue to that many epochs in all) and ``threads`` may change;
        any other setting must equal the saved one (else ``ConfigError`` naming it)."""
        for name, value in requested.items():
            if name not in self.__dataclass_fields__:
                raise ConfigError(name, "unknown setting")
            if name not in ("epochs", "threads") and value != getattr(self, name):
                raise ConfigError(
                    name,
                    f"{value!r} contradicts the checkpoint, which was trained with "
                    f"{getattr(self, name)!r} (a resumed run keeps its settings)",
                )
        return replace(self, **requested)


_GENSIM_ALIASES = {  # gensim's argument -> TrainConfig's field (or how to say it)
    "vector_size": "dim",
    "workers": "threads",
    "max_final_vocab": "max_vocab",
    "batch_words": "job_words",
    "min_alpha": "min_alpha_ratio (min_alpha / alpha)",
    "sg": "model ('skipgram' for sg=1, 'cbow' for sg=0)",
    "hs": "loss ('hs', or 'hs+ns' with negative > 0)",
    "iter": "epochs",
    "size": "dim",
}
_dataclass_init = TrainConfig.__init__


def _init(self: TrainConfig, *args: Any, **kwargs: Any) -> None:
    """The dataclass's ``__init__``; a gensim argument name gets a TypeError that says
    TrainConfig's name for it, and that :class:`crossent.word2vec.Word2Vec` takes gensim's."""
    for name in kwargs:
        if name not in TrainConfig.__dataclass_fields__:
            ours = _GENSIM_ALIASES.get(name)
            hint = (
                f": TrainConfig uses word2vec.c's names ({name} is {ours}); or use "
                f"crossent.word2vec.Word2Vec({name}=...), which takes gensim's"
                if ours
                else f"; expected one of {', '.join(TrainConfig.__dataclass_fields__)}"
            )
            raise TypeError(f"TrainConfig() got an unexpected keyword argument {name!r}{hint}")
    _dataclass_init(self, *args, **kwargs)


TrainConfig.__init__ = _init  # type: ignore[method-assign]


class ConfigError(ValueError):
    """A setting out of range, of the wrong type, or contradicting a checkpoint.

    ``field`` is the setting's name (the command line shows it as ``--field``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


_INT_RANGES = {  # inclusive; upper bounds keep memory and time finite, far above any use
    "dim": (1, 100_000),
    "window": (1, 1_000),
    "negative": (0, 1_000),
    "min_count": (1, 2**62),
    "epochs": (1, 1_000_000),
    "threads": (1, 4_096),
    "seed": (0, 2**63 - 1),
    "job_words": (1, 1 << 30),
    "batch_pairs": (1, 1 << 24),
    "sync_every": (1, 1 << 40),
}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as a Python int (NumPy integers too, as everywhere else), in range."""
    if not is_int(value):
        raise ConfigError(name, f"expected an integer, got {value!r}")
    value = int(cast(SupportsInt, value))
    if value < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ConfigError(name, f"expected {what}, got {value!r}")
    if value > high:
        raise ConfigError(name, f"expected at most {high:,}, got {value!r}")
    return value


def _check_float(
    name: str,
    value: object,
    low: float,
    high: float,
    what: str,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConfigError(name, f"expected {what}, got {value!r}")
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if not math.isfinite(value) or too_low or too_high:
        raise ConfigError(name, f"expected {what}, got {value!r}")


def default_threads() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
