"""Result type of :func:`crossent.linear_cross_entropy` with ``return_stats=True``."""

from __future__ import annotations

from typing import NamedTuple

import torch


class LinearCrossEntropyOutput(NamedTuple):
    """The loss and the per-row statistics computed in the same pass.

    Per-row tensors have ``targets``' batch shape.

    Attributes:
      loss: the reduced loss (or per-row losses for ``reduction="none"``); differentiable.
      lse: ``[...]`` log-sum-exp of each row's logits (float32 or float64).
      entropy: ``[...]`` entropy of each row's predicted distribution.
      target_logprob: ``[...]`` ``log p(target)`` (class targets; 0 on ignored rows) or
        ``Σ_c y_c log p_c`` (probability targets).
      correct: ``[...]`` bool, argmax of the logits equals the target (the argmax of the
        target distribution for probability targets); False on ignored rows.
    """

    loss: torch.Tensor
    lse: torch.Tensor
    entropy: torch.Tensor
    target_logprob: torch.Tensor
    correct: torch.Tensor
