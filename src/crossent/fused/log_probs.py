r"""Per-token log-probabilities and entropies of a linear layer's softmax, for RL.

Policy-gradient losses (PPO, GRPO) need, for every token, :math:`\log p_\theta(y_t)` of the
sampled token and often the entropy :math:`H_t = -\sum_c p_c \log p_c` of the policy, at a
sampling temperature, with gradients for arbitrary upstream gradients (the advantage-weighted
ratio, an entropy bonus) — verl's fused kernel computes the same pair. Both come from one
pass of the fused chunk loop (:mod:`crossent.fused.loop`): :math:`\log p(y_t) = -\ell_t` of
the unsmoothed, unweighted cross-entropy with ``reduction="none"``, and the entropy its
statistics already gather; their backward recomputes the logits once, with

.. math::
    \frac{\partial}{\partial z_j}\bigl(g_t \log p_{y_t} + u_t H_t\bigr)
    = g_t(\delta_{j y_t} - p_j) - u_t\, p_j(\log p_j + H_t).

Memory: one chunk of logits, as the loss.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, overload

import torch
from typing_extensions import Unpack

from crossent.fused.api import linear_cross_entropy
from crossent.fused.inputs import check_shift, shift_targets
from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.fused.parallel import vocab_parallel_linear_cross_entropy


class LinearLogProbsKwargs(TypedDict, total=False):
    """The options of :func:`linear_log_probs` besides ``return_entropy``."""

    temperature: float
    softcap: float | None
    shift: int | bool
    ignore_index: int
    chunk_size: int | None
    impl: str


@overload
def linear_log_probs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = ...,
    *,
    return_entropy: Literal[False] = ...,
    **options: Unpack[LinearLogProbsKwargs],
) -> torch.Tensor: ...


@overload
def linear_log_probs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = ...,
    *,
    return_entropy: Literal[True],
    **options: Unpack[LinearLogProbsKwargs],
) -> tuple[torch.Tensor, torch.Tensor]: ...


def linear_log_probs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    temperature: float = 1.0,
    softcap: float | None = None,
    return_entropy: bool = False,
    shift: int | bool = 0,
    ignore_index: int = -100,
    chunk_size: int | None = None,
    impl: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""``log p(targets)`` under ``softmax(softcap((hidden @ weight.T + bias) / temperature))``,
    and the entropy of each distribution, without materialising the logits.

    Args:
      hidden: ``[..., D]``; weight: ``[V, D]``; bias: optional ``[V]``.
      targets: ``[...]`` integer class indices (``ignore_index`` positions give 0).
      temperature, softcap, shift, chunk_size, impl: as in
        :func:`crossent.linear_cross_entropy`.
      return_entropy: also return the entropy ``[...]`` of each predicted distribution
        (0 at ignored positions).

    Returns:
      ``log_probs [...]`` (in ``hidden``'s dtype), and with ``return_entropy`` the pair
      ``(log_probs, entropy)`` (entropy in float32 or float64); both differentiable.

    >>> h, W, y = torch.randn(5, 4), torch.randn(9, 4), torch.tensor([1, 0, 8, -100, 2])
    >>> logp, ent = linear_log_probs(h, W, y, return_entropy=True)
    >>> ref = torch.log_softmax(h @ W.T, -1).gather(1, y.clamp(min=0)[:, None])[:, 0]
    >>> bool(torch.allclose(logp[y != -100], ref[y != -100], atol=1e-5)), float(logp[3])
    (True, 0.0)
    """
    out = linear_cross_entropy(
        hidden,
        weight,
        _class_targets(targets),
        bias,
        ignore_index=ignore_index,
        softcap=softcap,
        temperature=temperature,
        shift=shift,
        reduction="none",
        return_stats=True,
        chunk_size=chunk_size,
        impl=impl,
    )
    return _log_probs(out, targets, shift, ignore_index, return_entropy)


class ParallelLogProbsKwargs(LinearLogProbsKwargs, total=False):
    """:class:`LinearLogProbsKwargs` and the vocabulary layout over the ranks."""

    group: Any
    vocab_start: int | None
    vocab_size: int | None


def vocab_parallel_linear_log_probs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    return_entropy: bool = False,
    **options: Unpack[ParallelLogProbsKwargs],
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """:func:`linear_log_probs` with ``weight`` split by rows over a ``torch.distributed``
    group (``group``, ``vocab_start``, ``vocab_size`` as in
    :func:`~crossent.fused.vocab_parallel_linear_cross_entropy`; ``impl`` must be
    ``"auto"`` or ``"torch"``); the same values and ``hidden`` gradient on every rank."""
    unknown = sorted(set(options) - set(ParallelLogProbsKwargs.__annotations__))
    if unknown:
        raise TypeError(
            f"vocab_parallel_linear_log_probs: unexpected option {unknown[0]!r}; expected "
            f"some of {sorted(ParallelLogProbsKwargs.__annotations__)}"
        )
    shift, ignore_index = options.get("shift", 0), options.get("ignore_index", -100)
    out = vocab_parallel_linear_cross_entropy(
        hidden,
        weight,
        _class_targets(targets),
        bias,
        reduction="none",
        return_stats=True,
        **options,
    )
    return _log_probs(out, targets, shift, ignore_index, return_entropy)


def _class_targets(targets: torch.Tensor) -> torch.Tensor:
    if isinstance(targets, torch.Tensor) and targets.is_floating_point():
        raise TypeError(
            f"targets: expected integer class indices (log-probabilities of the given "
            f"tokens), got dtype {targets.dtype}"
        )
    return targets


def _log_probs(
    out: LinearCrossEntropyOutput,
    targets: torch.Tensor,
    shift: int | bool,
    ignore_index: int,
    return_entropy: bool,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``-loss`` and the entropy, both 0 (not -0) at ignored positions."""
    valid = shift_targets(targets, check_shift(shift), ignore_index) != ignore_index
    log_probs = torch.where(valid, -out.loss, 0.0)
    if not return_entropy:
        return log_probs
    return log_probs, torch.where(valid, out.entropy, 0.0)
