"""Stable log-sum-exp, softmax and log-softmax for NumPy, PyTorch and JAX arrays.

All three shift by the maximum along ``axis`` so that no ``exp`` overflows, and follow
SciPy's conventions for infinities: ``logsumexp([-inf, -inf]) = -inf``,
``logsumexp([inf, -inf]) = inf``, ``log_softmax([inf, -inf]) = [nan, -inf]``.
``axis`` defaults to the last axis for 1-D and 2-D inputs; inputs with more dimensions
must name it (PyTorch puts classes on dim 1 of ``[N, C, d1, ...]``, JAX last: no guess).
On PyTorch they run its fused kernels (``torch.logsumexp``, ``torch.softmax``,
``torch.log_softmax``) where these agree with that convention; the generic code next to
them is the reference for every other library.
"""

from __future__ import annotations

from typing import Any

from crossent._array import (
    Array,
    as_array,
    is_torch,
    namespace,
    normalize_axis,
    quiet,
    traced,
    upcast,
)
from crossent._validation import check_floating

__all__ = ["log_softmax", "logsumexp", "softmax"]


def logsumexp(x: Any, *, axis: int | None = None) -> Array:
    r"""Log of the sum of exponentials along ``axis``, computed without overflow.

    .. math:: \operatorname{lse}(x) = m + \log \sum_i e^{x_i - m}, \quad m = \max_i x_i

    Args:
      x: floating array ``[..., n, ...]``; 16-bit floats are accumulated in float32.
      axis: the axis to reduce (default: the last, for 1-D and 2-D ``x`` only).

    Returns:
      Array of ``x``'s shape without ``axis``, in ``x``'s dtype. An empty axis gives -inf.

    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # naive log(sum(exp)) overflows
    1000.6931471805599
    """
    x = as_array(x)
    xp = namespace(x=x)
    check_floating(xp, x, "x")
    axis = normalize_axis(axis, x.ndim)
    if x.shape[axis] == 0:
        shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
        return xp.full(shape, -float("inf"), dtype=x.dtype)
    z = upcast(xp, x)
    if is_torch(xp):
        import torch

        return torch.logsumexp(z, dim=axis).to(x.dtype)
    with quiet(xp):
        return xp.astype(_logsumexp(xp, z, axis, keepdims=False), x.dtype)


def log_softmax(x: Any, *, axis: int | None = None) -> Array:
    r"""Logarithm of the softmax along ``axis``: :math:`x_i - \operatorname{lse}(x)`.

    Args:
      x: floating array ``[..., n, ...]``.
      axis: the class axis (default: the last, for 1-D and 2-D ``x`` only; required for
        more dimensions).

    Returns:
      Array of ``x``'s shape and dtype (computed in float32 for 16-bit inputs).

    >>> import numpy as np
    >>> np.round(log_softmax(np.array([0.0, 0.0])), 4)
    array([-0.6931, -0.6931])
    """
    x = as_array(x)
    xp = namespace(x=x)
    check_floating(xp, x, "x")
    axis = normalize_axis(axis, x.ndim)
    with quiet(xp):
        return xp.astype(log_softmax_(xp, upcast(xp, x), axis), x.dtype)


def softmax(x: Any, *, axis: int | None = None) -> Array:
    r"""Softmax along ``axis``: :math:`e^{x_i - m} / \sum_j e^{x_j - m}`.

    Args:
      x: floating array ``[..., n, ...]``.
      axis: the class axis (default: the last, for 1-D and 2-D ``x`` only; required for
        more dimensions).

    Returns:
      Array of ``x``'s shape and dtype whose entries along ``axis`` sum to 1.

    >>> import numpy as np
    >>> np.round(softmax(np.array([1.0, 2.0, 3.0])), 4)
    array([0.09  , 0.2447, 0.6652])
    """
    x = as_array(x)
    xp = namespace(x=x)
    check_floating(xp, x, "x")
    axis = normalize_axis(axis, x.ndim)
    if x.shape[axis] == 0:
        return x
    z = upcast(xp, x)
    if is_torch(xp):
        import torch

        return torch.softmax(z, dim=axis).to(x.dtype)
    with quiet(xp):
        m = xp.max(z, axis=axis, keepdims=True)
        m = xp.where(m == -float("inf"), xp.zeros_like(m), m)  # a +inf max makes the row NaN
        e = xp.exp(z - m)
        return xp.astype(e / xp.sum(e, axis=axis, keepdims=True), x.dtype)


def log_softmax_(xp: Any, z: Array, axis: int) -> Array:
    """Unchecked log-softmax of a floating array along a non-negative ``axis``."""
    if z.shape[axis] == 0:
        return z
    if is_torch(xp) and not traced(z):  # traced: the generic form (no data-dependent branch)
        import torch

        # torch.log_softmax gives NaN for a whole row holding +inf; SciPy keeps the
        # -inf entries. Take the fused kernel unless such a row exists.
        if z.numel() == 0 or not bool(torch.isposinf(z.detach().amax(dim=axis)).any()):
            return torch.log_softmax(z, dim=axis)
    s = z - _finite_max(xp, z, axis)
    return s - _logsumexp(xp, s, axis, keepdims=True)


def _finite_max(xp: Any, z: Array, axis: int) -> Array:
    """Row maximum with non-finite maxima replaced by 0 (keepdims), as a constant shift."""
    m = xp.max(z, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    if is_torch(xp):
        m = m.detach()  # the shift cancels out of every result: no gradient through it
    return m


def _logsumexp(xp: Any, z: Array, axis: int, *, keepdims: bool) -> Array:
    m = _finite_max(xp, z, axis)
    out = xp.log(xp.sum(xp.exp(z - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)
