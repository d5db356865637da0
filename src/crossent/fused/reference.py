"""Naive linear cross-entropy: materialises the N×V logits. The slow, obvious reference.

Every fast implementation in :mod:`crossent.fused` must agree with this one; tests run it in
float64 as the truth.
"""

from __future__ import annotations

import torch

from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.losses import softmax_cross_entropy


def linear_cross_entropy_reference(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: torch.Tensor | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    softcap: float | None = None,
    temperature: float = 1.0,
) -> LinearCrossEntropyOutput:
    """``softmax_cross_entropy(softcap((hidden @ weight.T + bias) / temperature), targets)``
    plus the z-loss.

    Shapes as :func:`crossent.linear_cross_entropy`; returns every output it can give.
    """
    logits = hidden @ weight.T  # [..., V]
    if bias is not None:
        logits = logits + bias
    if temperature != 1.0:
        logits = logits / temperature
    if softcap is not None:
        logits = softcap * torch.tanh(logits / softcap)
    loss = softmax_cross_entropy(
        logits,
        targets,
        axis=-1,
        weight=class_weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    lse = torch.logsumexp(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
    log_p = torch.log_softmax(logits.to(lse.dtype), dim=-1)  # [..., V]
    probability_targets = targets.is_floating_point()
    valid = (
        torch.ones(lse.shape, dtype=torch.bool, device=lse.device)
        if probability_targets
        else targets != ignore_index
    )
    z_rows = torch.where(valid, z_loss * lse**2, torch.zeros_like(lse))
    if reduction == "none":
        loss = loss + z_rows.to(loss.dtype)
    elif reduction == "sum":
        loss = loss + z_rows.sum().to(loss.dtype)
    else:
        loss = loss + (z_rows.sum() / valid.sum().clamp(min=1)).to(loss.dtype)
    entropy = -(torch.special.xlogy(log_p.exp(), log_p.exp())).sum(-1)
    if probability_targets:
        y = targets.to(log_p.dtype)
        target_logprob = (y * torch.where(y == 0, 0.0, log_p)).sum(-1)
        correct = logits.argmax(-1) == y.argmax(-1)
    else:
        safe = torch.where(valid, targets, 0)
        target_logprob = torch.where(valid, log_p.gather(-1, safe[..., None])[..., 0], 0.0)
        correct = valid & (logits.argmax(-1) == targets)
    return LinearCrossEntropyOutput(loss, lse, entropy, target_logprob, correct)
