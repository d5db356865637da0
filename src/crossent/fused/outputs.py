"""What ``linear_cross_entropy`` returns with ``return_stats=True``, and how results get
their shapes back."""

from __future__ import annotations

from typing import NamedTuple

import torch

from crossent.fused.records import Statistics


class LinearCrossEntropyOutput(NamedTuple):
    """The loss and the per-row statistics computed in the same pass.

    Per-row tensors have ``targets``' batch shape ``[...]``.

    Attributes:
      loss: the reduced loss (or per-row losses for ``reduction="none"``); differentiable.
      lse: ``[...]`` log-sum-exp of each row's logits (float32 or float64).
      entropy: ``[...]`` entropy of each row's predicted distribution.
      target_logprob: ``[...]`` ``log p(target)`` (class targets; 0 on ignored rows) or
        ``Σ_c y_c log p_c`` (probability targets).
      correct: ``[...]`` bool: the first index of the row's largest logit (``argmax`` as
        ``torch.argmax`` breaks ties) is the target class — for probability targets the
        first index of the target row's largest probability; False on ignored rows.
    """

    loss: torch.Tensor
    lse: torch.Tensor
    entropy: torch.Tensor
    target_logprob: torch.Tensor
    correct: torch.Tensor


def pack_output(
    loss: torch.Tensor,
    lse: torch.Tensor,
    stats: Statistics | None,
    batch_shape: tuple[int, ...],
) -> LinearCrossEntropyOutput:
    """Per-row results ``[N]`` back to the batch shape; absent statistics as empty tensors."""
    n = lse.shape[0]
    if loss.dim() == 1 and loss.shape[0] == n:  # reduction="none"
        loss = loss.reshape(batch_shape)
    if stats is None:
        empty = lse.new_empty(0)
        return LinearCrossEntropyOutput(loss, lse.reshape(batch_shape), empty, empty, empty)
    return LinearCrossEntropyOutput(
        loss,
        lse.reshape(batch_shape),
        stats.entropy.reshape(batch_shape),
        stats.target_logprob.reshape(batch_shape),
        stats.correct.reshape(batch_shape),
    )
