"""Information theory of discrete distributions: information, entropy, cross-entropy, KL, JS.

Conventions (the seed note's section 3):

- natural logarithms (nats) unless ``base`` is given (``base=2`` gives bits);
- ``0 · log 0 = 0``; KL and cross-entropy are ``+inf`` where ``q = 0 < p``;
- negative or NaN probabilities raise ValueError;
- distributions must sum to 1 along ``axis`` (within a tolerance for the input's own
  precision: float16/bfloat16 distributions are checked as 16-bit numbers), else
  ValueError — unless ``normalize=True``, which divides each by its sum first (SciPy's
  ``stats.entropy`` always does this silently; here it is asked for), without overflow
  even for entries near the largest float;
- ``axis`` defaults to the last axis for 1-D and 2-D inputs; with more dimensions it must
  be given (SciPy's default is axis 0, NumPy users expect -1: no guess);
- on NumPy inputs a result without dimensions is a NumPy scalar (``np.float64``), as
  SciPy's ``stats.entropy`` and ``special.rel_entr`` return it; other libraries keep their
  0-d arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from crossent._array import (
    Array,
    any_true,
    as_array,
    is_floating,
    namespace,
    normalize_axis,
    numpy_scalar,
    quiet,
    upcast,
)
from crossent._validation import check_base, check_probability_entries, check_shape

__all__ = ["cross_entropy", "entropy", "information", "js_divergence", "kl_divergence"]


def information(p: Any, *, base: float | None = None) -> Array:
    r"""Self-information (surprisal) of an event of probability ``p``: :math:`I = -\log p`.

    Args:
      p: probabilities in [0, 1], any shape.
      base: logarithm base (``None``: nats, 2: bits).

    Returns:
      ``-log p`` elementwise, same shape as ``p`` (``+inf`` where ``p = 0``).

    >>> float(information(0.5, base=2))
    1.0
    """
    xp, p = _probabilities(p, "p")
    base = check_base(base)
    with quiet(xp):
        return _in_base(xp, -xp.log(p), base)


def entropy(
    p: Any, *, axis: int | None = None, base: float | None = None, normalize: bool = False
) -> Array:
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i` along ``axis``.

    Args:
      p: distributions ``[..., n]`` (``n`` along ``axis``).
      axis: the outcome axis (default: the last, for 1-D and 2-D inputs only).
      base: logarithm base (``None``: nats).
      normalize: divide ``p`` by its sum first instead of requiring it to sum to 1.

    Returns:
      Array of ``p``'s shape without ``axis``.

    >>> float(entropy([0.5, 0.5], base=2))
    1.0
    """
    xp, p, axis = _distribution(p, "p", axis, normalize)
    base = check_base(base)
    with quiet(xp):
        return _in_base(xp, 0.0 - xp.sum(_xlogy(xp, p, p), axis=axis), base)


def cross_entropy(
    p: Any, q: Any, *, axis: int | None = None, base: float | None = None, normalize: bool = False
) -> Array:
    r"""Cross-entropy of distributions :math:`H(p, q) = -\sum_i p_i \log q_i` along ``axis``.

    ``H(p, q) = H(p) + KL(p‖q)``; ``+inf`` where some ``q_i = 0 < p_i``.

    Args:
      p: true distributions ``[..., n]``.
      q: predicted distributions, same shape as ``p``.
      axis: the outcome axis (default: the last, for 1-D and 2-D inputs only).
      base: logarithm base (``None``: nats).
      normalize: normalise ``p`` and ``q`` to sum to 1 first.

    Returns:
      Array of the shape without ``axis``.

    >>> round(float(cross_entropy([0.0, 1.0, 0.0], [0.2, 0.7, 0.1])), 4)  # = -log 0.7
    0.3567
    """
    return _pairwise(p, q, axis, base, normalize, _cross_entropy_nats)


def kl_divergence(
    p: Any, q: Any, *, axis: int | None = None, base: float | None = None, normalize: bool = False
) -> Array:
    r"""Kullback–Leibler divergence :math:`D_{KL}(p\|q) = \sum_i p_i \log(p_i / q_i)`.

    Computed as SciPy's ``rel_entr`` (the ratio inside the log, exact when ``p ≈ q``);
    ``+inf`` where some ``q_i = 0 < p_i``; 0 exactly when ``p = q``; never negative
    (rounding below 0 is clamped, where SciPy can return -1e-17).

    Args:
      p: true distributions ``[..., n]``.
      q: approximating distributions, same shape as ``p``.
      axis: the outcome axis (default: the last, for 1-D and 2-D inputs only).
      base: logarithm base (``None``: nats).
      normalize: normalise ``p`` and ``q`` to sum to 1 first.

    Returns:
      Array of the shape without ``axis``, ``>= 0``.

    >>> round(float(kl_divergence([1.0, 0.0, 0.0, 0.0], [0.7, 0.1, 0.1, 0.1])), 4)
    0.3567
    """
    return _pairwise(p, q, axis, base, normalize, _kl_nats)


def js_divergence(
    p: Any, q: Any, *, axis: int | None = None, base: float | None = None, normalize: bool = False
) -> Array:
    r"""Jensen–Shannon divergence :math:`\tfrac12 KL(p\|m) + \tfrac12 KL(q\|m)`, m = (p+q)/2.

    The divergence itself, bounded by ``log 2`` — the square of SciPy's
    ``spatial.distance.jensenshannon`` distance. Symmetric, finite and never negative.

    Args:
      p: distributions ``[..., n]``.
      q: distributions of ``p``'s shape.
      axis: the outcome axis (default: the last, for 1-D and 2-D inputs only).
      base: logarithm base (``None``: nats; 2 gives values in [0, 1]).
      normalize: normalise ``p`` and ``q`` to sum to 1 first.

    Returns:
      Array of the shape without ``axis``.

    >>> float(js_divergence([1.0, 0.0], [0.0, 1.0], base=2))
    1.0
    """
    return _pairwise(p, q, axis, base, normalize, _js_nats)


# ----------------------------------------------------------------------------- helpers


def _pairwise(
    p: Any,
    q: Any,
    axis: int | None,
    base: float | None,
    normalize: bool,
    nats: Callable[[Any, Array, Array, int], Array],
) -> Array:
    """Validate ``p``, ``q`` (:func:`_pair`) and ``base``, then ``nats(xp, p, q, axis)``
    (a quantity in nats, reduced along ``axis``) converted to ``base``."""
    xp, p, q, axis = _pair(p, q, axis, normalize)
    base = check_base(base)
    with quiet(xp):
        return _in_base(xp, nats(xp, p, q, axis), base)


def _cross_entropy_nats(xp: Any, p: Array, q: Array, axis: int) -> Array:
    r""":math:`-\sum_i p_i \log q_i` along ``axis``."""
    return 0.0 - xp.sum(_xlogy(xp, p, q), axis=axis)


def _kl_nats(xp: Any, p: Array, q: Array, axis: int) -> Array:
    r""":math:`\sum_i p_i \log(p_i / q_i)` along ``axis``, rounding below 0 clamped."""
    return _nonnegative(xp, xp.sum(_rel_entr(xp, p, q), axis=axis))


def _js_nats(xp: Any, p: Array, q: Array, axis: int) -> Array:
    r""":math:`\tfrac12 KL(p\|m) + \tfrac12 KL(q\|m)`, ``m = (p + q) / 2``, along ``axis``."""
    m = (p + q) / 2
    total = xp.sum(_rel_entr(xp, p, m), axis=axis) + xp.sum(_rel_entr(xp, q, m), axis=axis)
    return _nonnegative(xp, total / 2)


def _xlogy(xp: Any, x: Array, y: Array) -> Array:
    """``x * log(y)`` with ``0 * log(anything) = 0`` (and zero gradients there)."""
    return x * xp.log(xp.where(x == 0, 1.0, y))


def _rel_entr(xp: Any, x: Array, y: Array) -> Array:
    """``x * log(x / y)``: 0 where x = 0, +inf where x > 0 = y."""
    zero = x == 0
    return x * xp.log(xp.where(zero, 1.0, x) / xp.where(zero, 1.0, y))


def _nonnegative(xp: Any, x: Array) -> Array:
    """Clamp rounding noise (e.g. -1e-17 for p ≈ q) of a divergence to 0."""
    return xp.where(x < 0, xp.zeros_like(x), x)


def _in_base(xp: Any, nats: Array, base: float | None) -> Array:
    """``nats`` in ``base``; a NumPy result without dimensions as a NumPy scalar (SciPy's
    convention: ``stats.entropy`` and ``special.rel_entr`` return ``np.float64``)."""
    return numpy_scalar(nats if base is None else nats / math.log(base))


def _probabilities(p: Any, name: str) -> tuple[Any, Array]:
    """Validate an array of probabilities in [0, 1] (no sum constraint)."""
    p = as_array(p)
    xp = namespace(**{name: p})
    p = _as_float(xp, p)
    check_probability_entries(xp, p, name, at_most_one=True)
    return xp, p


def _distribution(p: Any, name: str, axis: int | None, normalize: bool) -> tuple[Any, Array, int]:
    p = as_array(p)
    xp = namespace(**{name: p})
    if p.ndim == 0:
        raise ValueError(f"{name}: expected at least one dimension (the outcomes), got a scalar")
    axis = normalize_axis(axis, p.ndim)
    tol = _sum_tolerance(xp, p)
    p = _as_float(xp, p)
    check_probability_entries(xp, p, name, at_most_one=False)
    if normalize:
        # Divide by the row maximum first: the sum of entries near 1e308 overflows, the sum
        # of their ratios to the maximum (each <= 1) cannot.
        empty = p.shape[axis] == 0  # the max of nothing does not exist; its sum is 0
        peak = xp.sum(p, axis=axis, keepdims=True) if empty else xp.max(p, axis=axis, keepdims=True)
        if any_true(xp, peak == 0):
            raise ValueError(f"{name}: cannot normalize a distribution that sums to 0")
        scaled = p / peak
        return xp, scaled / xp.sum(scaled, axis=axis, keepdims=True), axis
    total = xp.sum(p, axis=axis, keepdims=True)
    off = xp.abs(total - 1) > tol
    if any_true(xp, off):
        raise ValueError(
            f"{name}: expected distributions summing to 1 along axis {axis} (±{tol:g}), "
            f"got a sum of {_first_offending(xp, total, off)}; pass normalize=True to rescale"
        )
    return xp, p, axis


def _pair(p: Any, q: Any, axis: int | None, normalize: bool) -> tuple[Any, Array, Array, int]:
    p, q = as_array(p), as_array(q)
    namespace(p=p, q=q)
    check_shape(q, tuple(p.shape), "q", "the shape of p")
    xp, p, axis = _distribution(p, "p", axis, normalize)
    _, q, _ = _distribution(q, "q", axis, normalize)
    if p.dtype != q.dtype:
        dtype = xp.result_type(p.dtype, q.dtype)
        p, q = xp.astype(p, dtype), xp.astype(q, dtype)
    return xp, p, q, axis


_SUM_TOLERANCE = {64: 1e-8, 32: 1e-4, 16: 1e-2}


def _sum_tolerance(xp: Any, p: Array) -> float:
    """How far from 1 a distribution stored in ``p``'s dtype may sum: each entry is rounded
    by up to half an ulp, so a true distribution's sum is off by up to ``eps / 2``; the
    tolerance leaves room for that (float16: 1e-2, bfloat16: 3.1e-2, float32: 1e-4)."""
    if not is_floating(xp, p):
        return _SUM_TOLERANCE[64]
    info = xp.finfo(p.dtype)
    return max(_SUM_TOLERANCE.get(info.bits, 1e-4), 4 * float(info.eps))


def _as_float(xp: Any, p: Array) -> Array:
    """Integer or boolean inputs become the default float; 16-bit floats become float32."""
    if not is_floating(xp, p):
        return xp.astype(p, xp.float64)
    return upcast(xp, p)


def _first_offending(xp: Any, total: Array, off: Array) -> float:
    flat_total = xp.reshape(total, (-1,))
    idx = int(xp.argmax(xp.astype(xp.reshape(off, (-1,)), xp.int8)))
    return float(flat_total[idx])
