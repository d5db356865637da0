"""The values that travel between the stages of the fused op: options, scales, results.

Types only, no logic: every stage (targets, chunk loops, autograd, custom operator) imports
them from here, so no stage needs another's internals. Shapes: ``N`` rows, ``V`` classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crossent.fused.comm import Comm


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
    temperature: float  # logits are (h Wᵀ + b) / temperature, before the softcap
    reduction: str
    chunk_size: int | None = None  # None: the implementation's default
    with_stats: bool = False
    impl: str = "auto"  # "auto", "torch" or "triton" ("naive" never reaches a plan)
    float32_loss: bool = False  # the loss in float32 (autocast), not in hidden's dtype


@dataclass(frozen=True)
class Problem:
    """The tensors of one call, rows flattened: ``hidden [N, D]``, ``weight [V_r, D]``, ``bias
    [V_r]``, ``targets [N]`` (class indices) or ``[N, V_r]`` (probabilities), ``class_weight
    [V_r]`` (``V_r``: the classes of this process's vocabulary slice)."""

    hidden: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None
    targets: torch.Tensor
    class_weight: torch.Tensor | None


@dataclass(frozen=True)
class Layout:
    """How a chunk loop walks a problem: rows per chunk, and the vocabulary slice."""

    chunk: int
    comm: Comm


@dataclass(frozen=True)
class Needs:
    """Which gradients the caller wants."""

    hidden: bool = False
    weight: bool = False
    bias: bool = False
    targets: bool = False  # probability targets only

    def any(self) -> bool:
        return self.hidden or self.weight or self.bias or self.targets


NO_GRADS = Needs()


@dataclass(frozen=True)
class Scales:
    """What a chunk loop needs to compute gradients: the per-row upstream gradients ``[N]``
    of its differentiable row terms — the cross-entropy ``s_i`` and the z-loss ``t_i`` (the
    reduction's scale included) and, if given, the entropy ``u_i`` — and which gradients
    are wanted."""

    ce: torch.Tensor
    z_loss: torch.Tensor
    needs: Needs
    entropy: torch.Tensor | None = None


@dataclass
class Grads:
    """Gradient buffers of a chunk loop (``None``: not wanted). ``hidden [N, D]`` and
    ``targets [N, V_r]`` (probability targets) are written chunk by chunk; ``weight [V, D]``
    and ``bias [V]`` are accumulated."""

    hidden: torch.Tensor | None
    weight: torch.Tensor | None
    bias: torch.Tensor | None
    targets: torch.Tensor | None = None


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


@dataclass
class Result:
    """What a call computes, per row ``[N]`` (the loss: scalar or ``[N]``)."""

    loss: torch.Tensor
    lse: torch.Tensor
    stats: Statistics | None
