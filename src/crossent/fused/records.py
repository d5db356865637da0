"""The values that travel between the stages of the fused op: options, scales, results.

Types only, no logic: every stage (targets, chunk loops, autograd, custom operator) imports
them from here, so no stage needs another's internals. Shapes: ``N`` rows, ``V`` classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CHUNK_DEFAULT = 0
"""``Options.chunk_size`` meaning "the chosen implementation's default"."""


@dataclass(frozen=True)
class Options:
    """The non-tensor arguments of one call, validated (see ``linear_cross_entropy``).

    The field order and annotations are also the schema of the custom operator's scalars
    (:mod:`crossent.fused.op` builds its declaration from them).
    """

    ignore_index: int
    label_smoothing: float
    z_loss: float
    softcap: float | None
    reduction: str
    chunk_size: int  # CHUNK_DEFAULT: the implementation's default
    with_stats: bool
    impl: str  # "auto", "torch" or "triton"


@dataclass(frozen=True)
class Needs:
    """Which gradients the caller wants."""

    hidden: bool = False
    weight: bool = False
    bias: bool = False

    def any(self) -> bool:
        return self.hidden or self.weight or self.bias


NO_GRADS = Needs()


@dataclass(frozen=True)
class Scales:
    """Per-row upstream gradients ``[N]`` of the loop's two differentiable row terms: the
    cross-entropy ``s_i`` and the z-loss ``t_i`` (the reduction's scale included)."""

    ce: torch.Tensor
    z_loss: torch.Tensor


@dataclass
class Grads:
    """Gradient buffers of a chunk loop (``None``: not wanted). ``hidden [N, D]`` is written
    chunk by chunk; ``weight [V, D]`` and ``bias [V]`` are accumulated."""

    hidden: torch.Tensor | None
    weight: torch.Tensor | None
    bias: torch.Tensor | None


@dataclass
class RowStats:
    """What a chunk loop gathers per row for ``return_stats`` (``[N]`` each).

    ``y_dot_z`` is :math:`\\sum_c y_c z_c` of the raw targets (no weights or smoothing);
    ``argmax`` the first index of the row's largest logit, a global class index.
    """

    entropy: torch.Tensor
    y_dot_z: torch.Tensor
    argmax: torch.Tensor


@dataclass
class RowResults:
    """Per-row output of a chunk loop, ``[N]`` each, in the accumulation dtype.

    ``ce`` is :math:`A_i\\,\\mathrm{lse}_i - a_i \\cdot z_i` (0 on ignored rows), ``z_loss``
    :math:`\\zeta\\,\\mathrm{lse}_i^2` on valid rows (see :mod:`crossent.fused.targets`)."""

    ce: torch.Tensor
    z_loss: torch.Tensor
    lse: torch.Tensor
    stats: RowStats | None


@dataclass
class Statistics:
    """The statistics ``return_stats`` gives, ``[N]`` each (see ``LinearCrossEntropyOutput``)."""

    entropy: torch.Tensor
    target_logprob: torch.Tensor
    correct: torch.Tensor
