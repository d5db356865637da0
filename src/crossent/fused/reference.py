"""Naive linear cross-entropy: materialises the N×V logits. The slow, obvious reference.

Every fast implementation in :mod:`crossent.fused` must agree with this one; tests run it in
float64 as the truth.
"""

from __future__ import annotations

from typing import TypedDict

import torch
from typing_extensions import Unpack

from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.losses import softmax_cross_entropy


class ReferenceKwargs(TypedDict, total=False):
    """The loss options every form of the fused op takes (defaults in the function)."""

    ignore_index: int
    label_smoothing: float
    class_weight: torch.Tensor | None
    reduction: str
    z_loss: float
    softcap: float | None
    temperature: float


def linear_cross_entropy_reference(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    **options: Unpack[ReferenceKwargs],
) -> LinearCrossEntropyOutput:
    """``softmax_cross_entropy(softcap((hidden @ weight.T + bias) / temperature), targets)``
    plus the z-loss.

    Shapes and options (``ignore_index=-100``, ``label_smoothing=0``, ``class_weight=None``,
    ``reduction="mean"``, ``z_loss=0``, ``softcap=None``, ``temperature=1``) as
    :func:`crossent.linear_cross_entropy`; returns every output it can give.
    """
    unknown = sorted(set(options) - set(ReferenceKwargs.__annotations__))
    if unknown:
        raise TypeError(f"linear_cross_entropy_reference: unexpected option {unknown[0]!r}")
    ignore_index = options.get("ignore_index", -100)
    reduction = options.get("reduction", "mean")
    z_loss, softcap = options.get("z_loss", 0.0), options.get("softcap")
    temperature = options.get("temperature", 1.0)
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
        weight=options.get("class_weight"),
        ignore_index=ignore_index,
        label_smoothing=options.get("label_smoothing", 0.0),
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
