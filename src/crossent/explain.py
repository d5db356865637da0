"""``crossent explain``: the seed note's arithmetic, computed and printed side by side.

For a vector of logits (or probabilities) and a target it reports the information of each
outcome, the entropy, the cross-entropy and the KL divergence, both seed forms of the loss
(which agree), and what goes wrong with the seed's batched one-liner
``(-output_layer[:, Y] + torch.log(torch.sum(torch.exp(output_layer), dim=1))).mean()``:
``output_layer[:, Y]`` picks columns, so the result broadcasts to B×B, and ``exp``
overflows for logits above ~88 in float32. Everything here is NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.info import cross_entropy, entropy, information, kl_divergence
from crossent.losses import softmax_cross_entropy
from crossent.special import logsumexp, softmax

SEED_LOGITS = (1.0, 2.0, 0.5)
SEED_TARGET = (0.0, 1.0, 0.0)


@dataclass
class Explanation:
    """Every quantity ``crossent explain`` prints (in nats unless named ``_bits``)."""

    logits: list[float]
    probabilities: list[float]
    target: list[float]
    information: list[float]
    information_bits: list[float]
    entropy_prediction: float
    entropy_target: float
    cross_entropy: float
    kl_divergence: float
    form1: float
    form2: float
    seed_batch: dict[str, Any] = field(default_factory=dict)


def explain(
    logits: list[float] | None = None,
    probabilities: list[float] | None = None,
    target: list[float] | None = None,
) -> Explanation:
    """Compute the explanation for ``logits`` (or ``probabilities``) against ``target``.

    ``target`` is a distribution or a one-hot vector (default: the seed's ``[0, 1, 0]``).
    """
    if logits is not None and probabilities is not None:
        raise ValueError("give either logits or probabilities, not both")
    if probabilities is not None:
        q = np.asarray(probabilities, dtype=np.float64)
        z = np.log(np.where(q > 0, q, np.finfo(np.float64).tiny))
    else:
        z = np.asarray(SEED_LOGITS if logits is None else logits, dtype=np.float64)
    y = np.asarray(SEED_TARGET if target is None else target, dtype=np.float64)
    if y.shape != z.shape:
        raise ValueError(
            f"target: expected {z.shape[0]} probabilities (one per class), got {y.shape[0]}"
        )
    p = np.asarray(softmax(z))
    k = int(np.argmax(y))
    return Explanation(
        logits=z.tolist(),
        probabilities=p.tolist(),
        target=y.tolist(),
        information=np.asarray(information(p)).tolist(),
        information_bits=np.asarray(information(p, base=2)).tolist(),
        entropy_prediction=float(entropy(p)),
        entropy_target=float(entropy(y)),
        cross_entropy=float(cross_entropy(y, p)),
        kl_divergence=float(kl_divergence(y, p)),
        form1=float(-z[k] + logsumexp(z)),
        form2=float(softmax_cross_entropy(z[None, :], y[None, :])),
        seed_batch=_seed_one_liner(z),
    )


def _seed_one_liner(z: np.ndarray) -> dict[str, Any]:
    """The seed's batched line on a small batch, against the correct stable loss."""
    batch = np.stack([z, 0.5 * z, z[::-1]]).astype(np.float32)  # [B, C]
    labels = np.array([1, 0, 2])[: batch.shape[0]] % batch.shape[1]  # [B]
    with np.errstate(over="ignore", invalid="ignore"):
        picked = -batch[:, labels]  # [B, B]: columns, not one logit per row
        naive = picked + np.log(np.sum(np.exp(batch), axis=1))  # broadcasts to [B, B]
        big = batch * 100
        overflow = -big[np.arange(len(labels)), labels] + np.log(np.sum(np.exp(big), axis=1))
    return {
        "batch_shape": list(batch.shape),
        "naive_intermediate_shape": list(naive.shape),
        "naive_loss": float(naive.mean()),
        "correct_loss": float(softmax_cross_entropy(batch, labels)),
        "logits_x100_naive": float(overflow.mean()),
        "logits_x100_correct": float(softmax_cross_entropy(big, labels)),
    }
