"""Softmax cross-entropy and binary cross-entropy from logits, for NumPy, PyTorch and JAX.

``softmax_cross_entropy`` covers both forms of the seed note: integer class targets
(form 1, ``-z_y + logsumexp(z)``) and probability targets (form 2, ``-Σ_c y_c log p_c``),
with PyTorch's ``F.cross_entropy`` semantics for class weights, label smoothing,
``ignore_index`` and reductions. Deliberate differences from PyTorch:

- the mean over zero non-ignored rows (or an empty batch) is 0 with zero gradient, not NaN;
- a zero target probability on a ``-inf`` logit contributes 0, not NaN;
- ``label_smoothing`` outside [0, 1] (negative included) raises ValueError;
- class weights must be finite and >= 0 (PyTorch accepts NaN and negative weights); a row
  whose target class has weight 0 counts as an ignored row, so when every row's target
  weight is 0 the mean is 0 (PyTorch: NaN), and with label smoothing, whose terms do not
  vanish there, the mean's denominator is 0 and it raises ValueError (PyTorch: NaN; traced
  under ``torch.compile``/``jax.jit``, where no value can be checked, it is NaN too);
- float16/bfloat16 logits are accumulated in float32 (the result has the logits' dtype);
- ``axis`` is only implied (last) for 1-D and 2-D logits; for more dimensions it must be
  given (``axis=1`` is ``F.cross_entropy``'s ``[N, C, d1, ...]``), since a silent guess
  gives a different loss. :class:`crossent.nn.CrossEntropyLoss` is the PyTorch-shaped form.

Class targets may have any integer dtype (PyTorch accepts only int64 and uint8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from crossent._array import (
    Array,
    any_true,
    as_array,
    is_floating,
    is_integer,
    is_tensor,
    is_torch,
    namespace,
    normalize_axis,
    quiet,
    size,
    upcast,
)
from crossent._validation import (
    as_int,
    check_broadcasts_to,
    check_class_targets,
    check_class_weight,
    check_floating,
    check_label_smoothing,
    check_no_nan,
    check_probability_entries,
    check_reduction,
    check_shape,
)
from crossent.special import log_softmax_

__all__ = ["binary_cross_entropy_with_logits", "softmax_cross_entropy"]


def softmax_cross_entropy(
    logits: Any,
    targets: Any,
    *,
    axis: int | None = None,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Array:
    r"""Cross-entropy between ``softmax(logits)`` and class or probability targets.

    With class targets :math:`y_i` and smoothing :math:`\varepsilon` over :math:`C` classes
    (PyTorch's definition, class weights :math:`w`, :math:`\log p = \mathrm{log\_softmax}(z)`):

    .. math::
        \ell_i = (1-\varepsilon)\, w_{y_i} (-\log p_{i,y_i})
                 + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{i,c})

    and ``mean`` is :math:`\sum_i \ell_i / \sum_i w_{y_i}` over non-ignored rows. With
    probability targets :math:`y_{i,c}` (smoothed to :math:`(1-\varepsilon) y + \varepsilon/C`),
    :math:`\ell_i = -\sum_c w_c y_{i,c} \log p_{i,c}` and ``mean`` divides by the number of
    rows :math:`N`.

    Args:
      logits: floating ``[..., C, ...]`` with the classes on ``axis`` (``axis=-1``: ``[N, C]``;
        ``axis=1``: PyTorch's ``[N, C, d1, ...]``).
      targets: integer class indices of ``logits``' shape without ``axis``, or floating
        probabilities of ``logits``' shape.
      axis: the class axis; may be left out only for 1-D and 2-D logits (then -1).
      weight: optional class weights ``[C]``, finite and >= 0.
      ignore_index: class-target value whose rows are left out (class targets only).
      label_smoothing: :math:`\varepsilon \in [0, 1]`.
      reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-row losses, targets' row shape).

    Returns:
      The loss in ``logits``' dtype: a scalar, or per-row losses for ``"none"``.

    >>> import numpy as np
    >>> z = np.array([[1.0, 2.0, 0.5]])
    >>> form1 = softmax_cross_entropy(z, np.array([1]))            # -z_1 + logsumexp(z)
    >>> form2 = softmax_cross_entropy(z, np.array([[0.0, 1.0, 0.0]]))  # -Σ y_c log p_c
    >>> bool(np.isclose(form1, form2)), round(float(form1), 4)
    (True, 0.4644)
    """
    logits, targets = as_array(logits), as_array(targets)
    weight = None if weight is None else as_array(weight)
    xp = namespace(logits=logits, targets=targets, weight=weight)
    check_reduction(reduction)
    check_floating(xp, logits, "logits")
    label_smoothing = check_label_smoothing(label_smoothing)
    ignore_index = as_int(ignore_index, "ignore_index")
    if logits.ndim == 0:
        raise ValueError("logits: expected at least one dimension (the classes), got a scalar")
    axis = normalize_axis(axis, logits.ndim)
    z = upcast(xp, xp.moveaxis(logits, axis, -1))  # [..., C]
    num_classes = z.shape[-1]
    w = _class_weights(xp, weight, num_classes, z.dtype)
    with quiet(xp):
        logp = log_softmax_(xp, z, z.ndim - 1)  # [..., C]
        rows = _Rows(xp, logp, targets, w, ignore_index, label_smoothing, logits.shape, axis)
        if is_integer(xp, targets):
            row, denom = _class_target_rows(rows)
        elif is_floating(xp, targets):
            row, denom = _prob_target_rows(rows)
        else:
            raise TypeError(
                f"targets: expected integer class indices or floating probabilities, "
                f"got dtype {targets.dtype}"
            )
        if w is not None and label_smoothing > 0 and reduction == "mean":
            _check_weighted_denominator(xp, row, denom)
        return xp.astype(_reduce(xp, row, denom, reduction), logits.dtype)


def _check_weighted_denominator(xp: Any, row: Array, denom: Array) -> None:
    """Σ w_{y_i} = 0 while smoothing terms remain: the weighted mean divides by zero."""
    if any_true(xp, (denom == 0) & xp.any(row != 0)):
        raise ValueError(
            "weight: every non-ignored row's target class has weight 0, so the weighted "
            "mean's denominator Σ w_{y_i} is 0 while the label-smoothing terms are not "
            "(PyTorch returns NaN); use reduction='sum' or give the target classes a weight"
        )


def _class_weights(xp: Any, weight: Array | None, num_classes: int, dtype: Any) -> Array | None:
    if weight is None:
        return None
    check_floating(xp, weight, "weight")
    check_shape(weight, (num_classes,), "weight", "one weight per class")
    check_class_weight(xp, weight, "weight")
    return xp.astype(weight, dtype)


@dataclass(frozen=True)
class _Rows:
    """What the per-row loss of either kind of target needs."""

    xp: Any
    logp: Array  # log-probabilities [..., C], classes last
    targets: Array  # class indices [...] or probabilities, as given (classes along axis)
    w: Array | None  # class weights [C]
    ignore_index: int
    smoothing: float
    logits_shape: tuple[int, ...]
    axis: int  # the class axis of the logits and of probability targets


def _class_target_rows(rows: _Rows) -> tuple[Array, Array]:
    """Per-row losses ``[...]`` and the mean's denominator Σ w_{y_i} for class targets."""
    xp, logp, targets, w, smoothing = rows.xp, rows.logp, rows.targets, rows.w, rows.smoothing
    expected = tuple(d for i, d in enumerate(rows.logits_shape) if i != rows.axis)
    check_shape(targets, expected, "targets", "class indices: the logits' shape without axis")
    num_classes = logp.shape[-1]
    valid = check_class_targets(xp, targets, num_classes, rows.ignore_index)  # [...]
    safe = xp.where(valid, targets, xp.zeros_like(targets))
    if is_torch(xp) and safe.dtype != xp.int64:
        safe = xp.astype(safe, xp.int64)  # torch indexes with int64 only (int8..uint8 in)
    picked = xp.take_along_axis(logp, xp.expand_dims(safe, axis=-1), axis=-1)[..., 0]  # [...]
    zero = xp.zeros_like(picked)
    if w is None:
        w_y = xp.where(valid, xp.ones_like(picked), zero)
    else:
        w_y = xp.where(valid, xp.reshape(xp.take(w, xp.reshape(safe, (-1,))), safe.shape), zero)
    row = xp.where(w_y == 0, zero, -w_y * picked)  # weight 0 on a -inf logit: 0, not NaN
    if smoothing > 0:
        smooth = -xp.sum(logp if w is None else logp * w, axis=-1)  # [...]
        row = (1 - smoothing) * row + (smoothing / num_classes) * smooth
    return xp.where(valid, row, zero), xp.sum(w_y)


def _prob_target_rows(rows: _Rows) -> tuple[Array, Array]:
    """Per-row losses ``[...]`` and the mean's denominator N for probability targets."""
    xp, logp, targets, w, smoothing = rows.xp, rows.logp, rows.targets, rows.w, rows.smoothing
    if rows.ignore_index != -100:
        raise ValueError(
            f"ignore_index: only class-index targets can ignore rows, got ignore_index="
            f"{rows.ignore_index} with probability targets"
        )
    check_shape(targets, tuple(rows.logits_shape), "targets", "probabilities: the logits' shape")
    check_probability_entries(xp, targets, "targets", at_most_one=True)
    y = xp.astype(xp.moveaxis(targets, rows.axis, -1), logp.dtype)  # [..., C]
    if smoothing > 0:
        y = (1 - smoothing) * y + smoothing / logp.shape[-1]
    a = y if w is None else y * w
    # 0 · log p = 0 even where log p = -inf (PyTorch gives NaN there). Only there: elsewhere
    # a zero target keeps its gradient -w·log p, as in PyTorch.
    masked = (a == 0) & (logp == -math.inf)
    row = -xp.sum(a * xp.where(masked, xp.zeros_like(logp), logp), axis=-1)
    n_rows = 1
    for d in row.shape:
        n_rows *= d
    return row, xp.asarray(float(n_rows), dtype=row.dtype, device=_device(row))


def binary_cross_entropy_with_logits(
    logits: Any,
    targets: Any,
    *,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy of ``sigmoid(logits)`` against probabilities ``targets``.

    The two-class case of the softmax loss (seed note, section 5), in PyTorch's form with a
    positive-class weight :math:`\rho` and an element weight :math:`w`:

    .. math::
        \ell = w\,[\,(1 - y)\,x + (1 + (\rho - 1)\,y)\,\operatorname{softplus}(-x)\,],
        \quad \operatorname{softplus}(-x) = \log(1 + e^{-|x|}) + \max(-x, 0)

    stable for any ``|x|`` (no ``exp`` of a positive number). ``mean`` averages over all
    elements (0 for an empty input, where PyTorch gives NaN).

    Args:
      logits: floating ``[...]``.
      targets: probabilities in [0, 1] of ``logits``' shape.
      weight: optional element weights broadcastable to ``logits``' shape.
      pos_weight: optional positive-class weights broadcastable to ``logits``' shape
        (typically ``[num_classes]`` against ``[N, num_classes]``).
      reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Returns:
      The loss in ``logits``' dtype.

    >>> import numpy as np
    >>> float(binary_cross_entropy_with_logits(np.array([1000.0]), np.array([0.0])))
    1000.0
    """
    logits, targets = as_array(logits), as_array(targets)
    weight = None if weight is None else as_array(weight)
    pos_weight = None if pos_weight is None else as_array(pos_weight)
    xp = namespace(logits=logits, targets=targets, weight=weight, pos_weight=pos_weight)
    check_reduction(reduction)
    check_floating(xp, logits, "logits")
    check_floating(xp, targets, "targets")
    check_shape(targets, tuple(logits.shape), "targets", "the logits' shape")
    check_probability_entries(xp, targets, "targets", at_most_one=True)
    x = upcast(xp, logits)
    y = xp.astype(targets, x.dtype)
    with quiet(xp):
        # |x| written as a where so that the gradient at x = 0 is sigmoid's -1/2, not 0
        neg = x < 0
        abs_x = xp.where(neg, -x, x)
        softplus_neg = xp.log1p(xp.exp(-abs_x)) + xp.where(neg, -x, xp.zeros_like(x))
        if pos_weight is None:
            loss = (1 - y) * x + softplus_neg
        else:
            rho = _broadcast_weight(xp, pos_weight, "pos_weight", tuple(x.shape), x.dtype)
            loss = (1 - y) * x + (1 + (rho - 1) * y) * softplus_neg
        if weight is not None:
            loss = loss * _broadcast_weight(xp, weight, "weight", tuple(x.shape), x.dtype)
        denom = xp.asarray(float(size(loss)), dtype=loss.dtype, device=_device(loss))
        return xp.astype(_reduce(xp, loss, denom, reduction), logits.dtype)


def _broadcast_weight(
    xp: Any, weight: Array, name: str, shape: tuple[int, ...], dtype: Any
) -> Array:
    check_floating(xp, weight, name)
    check_broadcasts_to(weight, shape, name)
    check_no_nan(xp, weight, name)
    return xp.astype(weight, dtype)


def _reduce(xp: Any, row: Array, denom: Array, reduction: str) -> Array:
    """Apply ``reduction``; the mean over nothing (denominator 0, sum 0) is 0, not NaN.

    A zero denominator under a non-zero sum (class weights whose Σ w_{y_i} is 0 while
    label-smoothing terms remain) is undefined: eager calls raise before this; traced ones
    (no values to check) give PyTorch's NaN rather than a silent number.
    """
    if reduction == "none":
        return row
    total = xp.sum(row)
    if reduction == "sum":
        return total
    safe = xp.where(denom == 0, xp.ones_like(denom), denom)
    mean = total / safe
    return xp.where((denom == 0) & (total != 0), xp.full_like(mean, float("nan")), mean)


def _device(x: Array) -> Any:
    if is_tensor(x):  # directly: traceable by torch.compile
        return x.device
    from array_api_compat import device

    return device(x)
