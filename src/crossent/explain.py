"""``crossent explain``: the seed note's arithmetic, computed and printed side by side.

*The seed* is the study note this library grew from: it derives the skip-gram word2vec
loss ``J = -u_oᵀ v_c + log Σ_w exp(u_wᵀ v_c)`` as the cross-entropy ``-Σ_c y_c log p_c``
between a one-hot target ``y`` and the prediction ``p = softmax(z)``, with the example
logits ``z = (1, 2, 0.5)`` and target class 1.

For a vector of logits (or predicted probabilities) and a target (a class index or a
distribution; required with your own numbers: the seed's class 1 is the default only for
the seed's logits) :func:`explain` reports the information of each outcome, the
entropies, the cross-entropy and the KL divergence with their per-class terms
(``H(y, p) = H(y) + KL(y‖p)``), both of the seed's forms of the loss (``-z_k +
logsumexp(z)`` for one class ``k`` and ``-Σ_c y_c log p_c``: equal for a one-hot target,
and why they differ for a soft one), and what goes wrong with the seed's batched one-liner
``(-output_layer[:, Y] + torch.log(torch.sum(torch.exp(output_layer), dim=1))).mean()``:
``output_layer[:, Y]`` picks columns, so the result broadcasts to B×B (shown on a batch of
rotations of the given logits, whose true loss is the given one), and ``exp`` overflows
in float32 for logits above ``log(float32 max) ≈ 88.72``. Everything here is NumPy;
:func:`to_json` gives strict JSON and :func:`plot_explanation` a picture.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossent.info import cross_entropy, entropy, information, kl_divergence
from crossent.losses import softmax_cross_entropy
from crossent.special import logsumexp, softmax

SEED_LOGITS = (1.0, 2.0, 0.5)
SEED_TARGET = 1
SEED = (
    "The seed is the study note behind crossent: the skip-gram word2vec loss "
    "J = -u_o·v_c + log Σ_w exp(u_w·v_c) is the cross-entropy -Σ_c y_c log p_c between a "
    "one-hot target y and p = softmax(z); its example is z = (1, 2, 0.5) with target class 1."
)
FLOAT32_EXP_LIMIT = math.log(float(np.finfo(np.float32).max))  # ≈ 88.72: exp overflows above
SUM_TOLERANCE = 1e-6


class TargetRequired(ValueError):
    """Logits or probabilities were given without a target (the seed's class 1 belongs to
    the seed's logits, not to any others)."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        classes = "0, the only class" if num_classes == 1 else f"from 0 to {num_classes - 1}"
        count = "1 probability" if num_classes == 1 else f"{num_classes} probabilities"
        #: what to give: "the true class (...) or a target distribution of C probabilities"
        self.hint = f"the true class ({classes}) or a target distribution of {count}"
        super().__init__(f"target: required with your own logits or probabilities: {self.hint}")


@dataclass(frozen=True)
class BatchDemo:
    """The seed's batched one-liner on B = 3 rows made from the logits ``z``: row ``b`` is
    ``z`` rotated by ``b`` places and its label ``Y[b]`` the class ``k`` rotated with it, so
    every row's true loss is ``-z_k + logsumexp(z)`` (form 1, the explained loss for a
    one-hot target) and so is their mean, ``correct_loss``."""

    batch_shape: list[int]  # [B, C]
    labels: list[int]  # Y, [B]: (k + b) mod C
    naive_intermediate_shape: list[int]  # [B, B]: output_layer[:, Y] picks columns
    naive_loss: float  # the one-liner's mean, in float32 as PyTorch's default dtype
    correct_loss: float  # one target logit per row: form 1 (float64)


@dataclass(frozen=True)
class OverflowDemo:
    """The naive ``log(sum(exp(z)))`` in float32 against the max-shifted logsumexp."""

    limit: float  # exp(x) overflows float32 for x above this
    logits_overflow: bool  # whether the given logits themselves overflow
    naive_loss: float  # naive form 1 on the given logits, float32
    shift: float  # added to every logit to show an overflow (0 if they already overflow)
    shifted_naive_loss: float  # naive form 1 on the shifted logits: inf when exp overflows
    shifted_stable_loss: float  # the same loss, max-shifted: the shift leaves it unchanged


@dataclass(frozen=True)
class Explanation:
    """Every quantity ``crossent explain`` prints (in nats unless named ``_bits``).

    ``y`` is the target, ``p = softmax(z)`` the prediction. Per-class terms:
    ``cross_entropy_terms[c] = -y_c log p_c`` (sum: H(y, p)), ``entropy_terms[c] =
    -y_c log y_c`` (sum: H(y)), ``kl_terms[c] = y_c log(y_c / p_c)`` (sum: KL(y‖p)).
    """

    seed: str  # what the seed is (the same text for every input)
    intro: str  # what is explained: the seed's example, or the given numbers and target
    logits: list[float]
    probabilities: list[float]
    target: list[float]
    normalized: bool  # whether the inputs were rescaled to sum to 1 (normalize=True)
    information: list[float]
    information_bits: list[float]
    entropy_prediction: float
    entropy_target: float
    cross_entropy: float
    kl_divergence: float
    cross_entropy_terms: list[float]
    entropy_terms: list[float]
    kl_terms: list[float]
    form1_class: int  # the class k of form 1: the target's index, or its largest entry
    form1: float  # -z_k + logsumexp(z)
    form2: float  # -Σ_c y_c log p_c
    forms_note: str  # why the two forms agree, or why and by how much they differ
    seed_batch: BatchDemo
    overflow: OverflowDemo


def explain(
    logits: Sequence[float] | None = None,
    probabilities: Sequence[float] | None = None,
    target: int | Sequence[float] | None = None,
    *,
    normalize: bool = False,
) -> Explanation:
    """Compute the explanation for ``logits`` (or ``probabilities``) against ``target``.

    Args:
      logits: ``[C]`` finite logits (default: the seed's ``(1, 2, 0.5)``).
      probabilities: ``[C]`` predicted probabilities instead of logits (their logits are
        ``log p``, ``-inf`` where ``p = 0``).
      target: a class index in ``[0, C)`` or a distribution ``[C]``; required with
        ``logits`` or ``probabilities`` (the seed's class 1 is the default only for the
        seed's own logits).
      normalize: rescale ``probabilities`` and a distribution ``target`` to sum to 1;
        without it, inputs that do not sum to 1 (±1e-6) raise ValueError.

    >>> r = explain()
    >>> round(r.form1, 6), round(r.form2, 6), round(r.cross_entropy, 6)
    (0.464369, 0.464369, 0.464369)
    """
    if logits is not None and probabilities is not None:
        raise ValueError("give either logits or probabilities, not both")
    own = logits is not None or probabilities is not None
    if probabilities is not None:
        p = _distribution(probabilities, "probabilities", normalize)
        with np.errstate(divide="ignore"):
            z = np.log(p)  # logits of p (up to a constant); -inf where p = 0
    else:
        z = _finite(SEED_LOGITS if logits is None else logits, "logits")
        p = np.asarray(softmax(z))
    if target is None and own:
        raise TargetRequired(z.shape[0])
    y, k = _target(SEED_TARGET if target is None else target, z.shape[0], normalize)
    with np.errstate(divide="ignore", invalid="ignore"):
        ce_terms = np.where(y > 0, -y * np.log(p), 0.0)
        h_terms = np.where(y > 0, -y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    form1 = float(-z[k] + logsumexp(z))
    form2 = float(softmax_cross_entropy(z[None, :], y[None, :]))
    return Explanation(
        seed=SEED,
        intro=_intro(probabilities, z, p, y, target) if own else SEED,
        logits=z.tolist(),
        probabilities=p.tolist(),
        target=y.tolist(),
        normalized=normalize,
        information=np.asarray(information(p)).tolist(),
        information_bits=np.asarray(information(p, base=2)).tolist(),
        entropy_prediction=float(entropy(p)),
        entropy_target=float(entropy(y)),
        cross_entropy=float(cross_entropy(y, p)),
        kl_divergence=float(kl_divergence(y, p)),
        cross_entropy_terms=ce_terms.tolist(),
        entropy_terms=h_terms.tolist(),
        kl_terms=(ce_terms - h_terms).tolist(),
        form1_class=k,
        form1=form1,
        form2=form2,
        forms_note=_forms_note(y, k, form1, form2),
        seed_batch=_seed_one_liner(z, k),
        overflow=_overflow(z, k),
    )


def _numbers(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:g}" for v in x.tolist()) + ")"


def _intro(
    probabilities: object,
    z: np.ndarray,
    p: np.ndarray,
    y: np.ndarray,
    target: int | Sequence[float] | None,
) -> str:
    """The opening sentence for the given numbers (the seed's sentence is for its own)."""
    c = z.shape[0]
    what = (
        f"Your logits z = {_numbers(z)}"
        if probabilities is None
        else f"Your predicted probabilities p = {_numbers(p)} (logits z = log p)"
    )
    k = int(np.argmax(y))
    against = (
        f"target class {k}"
        if y[k] == 1.0 and isinstance(target, (int, np.integer))
        else f"target distribution y = {_numbers(y)}"
    )
    return (
        f"{what} over {c} class{'es' if c != 1 else ''}, {against}: the loss explained below "
        "is the cross-entropy -Σ_c y_c log p_c between the target y and p = softmax(z), "
        "the seed's skip-gram loss on your numbers."
    )


def _finite(values: Sequence[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name}: expected a non-empty list of numbers, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: expected finite numbers, got {x.tolist()}")
    return x


def _distribution(values: Sequence[float], name: str, normalize: bool) -> np.ndarray:
    """``values`` as a distribution: >= 0 and summing to 1, or rescaled if ``normalize``."""
    x = _finite(values, name)
    if np.any(x < 0):
        raise ValueError(f"{name}: probabilities must be >= 0, got {x.tolist()}")
    total = float(x.sum())
    if normalize:
        if total == 0:
            raise ValueError(f"{name}: cannot normalize values that sum to 0")
        return x / total
    if abs(total - 1) > SUM_TOLERANCE:
        raise ValueError(
            f"{name}: expected probabilities summing to 1, got {x.tolist()} (sum {total:.6g}); "
            "pass normalize=True (--normalize) to rescale them"
        )
    return x


def _target(target: int | Sequence[float], num_classes: int, normalize: bool) -> tuple[Any, int]:
    """The target distribution ``[C]`` and the class ``k`` form 1 uses."""
    if isinstance(target, bool):
        raise TypeError("target: expected a class index or a distribution, got a bool")
    if isinstance(target, (int, np.integer)):
        if not 0 <= target < num_classes:
            raise ValueError(f"target: class index {target} is out of range [0, {num_classes - 1}]")
        y = np.zeros(num_classes)
        y[int(target)] = 1.0
        return y, int(target)
    y = _distribution(target, "target", normalize)
    if y.shape[0] != num_classes:
        raise ValueError(
            f"target: expected a class index or {num_classes} probabilities (one per class), "
            f"got {y.shape[0]}"
        )
    return y, int(np.argmax(y))


def _forms_note(y: np.ndarray, k: int, form1: float, form2: float) -> str:
    """Why form 1 (class ``k`` only) and form 2 (every class, weighted by y) agree or not."""
    if y[k] == 1.0:
        return (
            f"the target is one-hot (class {k}), so form 2's sum has the single term "
            f"-log p_{k}: both forms are the same number"
        )
    gap = form2 - form1
    return (
        f"the target is soft: form 1 keeps only class {k} (the target's largest entry, the "
        f"first on a tie) and "
        f"gives -log p_{k}; form 2 weighs -log p_c of every class by y_c. They differ by "
        f"Σ_c y_c (log p_{k} - log p_c) = {gap:.6f}, which is 0 only for a one-hot target "
        f"or when every class with y_c > 0 has the same p_c"
    )


def _naive_form1(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The seed's unshifted ``-z_y + log Σ exp(z)`` per row, in float32 (may overflow)."""
    z32 = z.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lse = np.log(np.sum(np.exp(z32), axis=-1))
        out: np.ndarray = -np.take_along_axis(z32, labels[..., None], axis=-1)[..., 0] + lse
    return out


def _overflow(z: np.ndarray, k: int) -> OverflowDemo:
    """Naive exp on the given logits; if they do not overflow, on logits shifted until the
    largest is 100 (softmax is shift-invariant: the true loss does not change)."""
    label = np.array(k)
    overflows = bool(z.max() > FLOAT32_EXP_LIMIT)
    shift = 0.0 if overflows else 100.0 - float(z.max())
    shifted = z + shift
    return OverflowDemo(
        limit=FLOAT32_EXP_LIMIT,
        logits_overflow=overflows,
        naive_loss=float(_naive_form1(z, label)),
        shift=shift,
        shifted_naive_loss=float(_naive_form1(shifted, label)),
        shifted_stable_loss=float(softmax_cross_entropy(shifted.astype(np.float32), label)),
    )


def _seed_one_liner(z: np.ndarray, k: int, rows: int = 3) -> BatchDemo:
    """The seed's batched line on ``rows`` rotations of ``z`` (labels rotated with them, so
    each row's true loss is form 1's), against the correct per-row loss."""
    batch = np.stack([np.roll(z, b) for b in range(rows)])  # [B, C]; row b, column (k+b)%C: z_k
    labels = (k + np.arange(rows)) % z.shape[0]  # [B]
    b32 = batch.astype(np.float32)  # the seed's PyTorch code runs in float32
    with np.errstate(over="ignore", invalid="ignore"):
        picked = -b32[:, labels]  # [B, B]: columns, not one logit per row
        naive = picked + np.log(np.sum(np.exp(b32), axis=1))  # broadcasts to [B, B]
    return BatchDemo(
        batch_shape=list(batch.shape),
        labels=labels.tolist(),
        naive_intermediate_shape=list(naive.shape),
        naive_loss=float(naive.mean()),
        correct_loss=float(softmax_cross_entropy(batch, labels)),
    )


# ----------------------------------------------------------------------------- output


def to_json(result: Explanation) -> str:
    """``result`` as strict JSON (RFC 8259): infinities and NaN, which JSON cannot hold, are
    the strings ``"inf"``, ``"-inf"`` and ``"nan"``; every other number is a number.

    >>> '"naive_loss": "inf"' in to_json(explain([100.0, 0.0], target=1))
    True
    """
    return json.dumps(_strict(dataclasses.asdict(result)), indent=2, allow_nan=False)


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def plot_explanation(result: Explanation, path: str | os.PathLike[str]) -> None:
    """Draw y and p per class, and the per-class terms of H(y, p) split into H(y) and
    KL(y‖p): the seed's decomposition ``KL = H(y, p) - H(y)`` as grouped bars.

    The format follows the file's suffix (``.png``, ``.svg``, ``.pdf``, ...); the file is
    written atomically (a temporary file beside it, renamed over it when complete) with the
    permissions of a new file (``0666`` less the umask) or those of the file it replaces.
    The legends sit below the axes, clear of the bars.
    """
    from crossent.explain_plot import save_figure

    save_figure(result, path)


def draw_explanation(result: Explanation) -> Any:
    """The figure :func:`plot_explanation` saves (a ``matplotlib.figure.Figure``, laid out;
    the caller closes it with ``matplotlib.pyplot.close``)."""
    from crossent.explain_plot import draw

    return draw(result)
