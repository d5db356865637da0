"""Stable log-sum-exp, softmax and log-softmax for NumPy, PyTorch and JAX arrays.

All three shift by the maximum along ``axis`` so that no ``exp`` overflows, and follow
SciPy's conventions (a NumPy result without dimensions is a NumPy scalar) and its
conventions for infinities: ``logsumexp([-inf, -inf]) = -inf``,
``logsumexp([inf, -inf]) = inf``, ``log_softmax([inf, -inf]) = [nan, -inf]``.
``axis`` defaults to the last axis for 1-D and 2-D inputs; inputs with more dimensions
must name it (PyTorch puts classes on dim 1 of ``[N, C, d1, ...]``, JAX last: no guess).
On PyTorch they run its fused kernels (``torch.logsumexp``, ``torch.softmax``,
``torch.log_softmax``) where these agree with that convention; the generic code next to
them is the reference for every other library.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crossent._array import (
    Array,
    as_array,
    is_torch,
    namespace,
    normalize_axis,
    numpy_scalar,
    quiet,
    traced,
    upcast,
)
from crossent._validation import check_floating

__all__ = ["log_softmax", "logsumexp", "softmax"]


def logsumexp(
    x: Any, *, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Array:
    r"""Log of the sum of exponentials along ``axis``, computed without overflow.

    .. math:: \operatorname{lse}(x) = m + \log \sum_i e^{x_i - m}, \quad m = \max_i x_i

    Args:
      x: floating array ``[..., n, ...]``; 16-bit floats are accumulated in float32. A 0-d
        ``x`` is one value: its log-sum-exp is itself (``axis`` 0, -1 or None).
      axis: the axis, or tuple of axes, to reduce (default: the last, for 1-D and 2-D
        ``x`` only); ``()`` reduces nothing, as in SciPy.
      keepdims: keep the reduced axes with length 1 (as SciPy's ``keepdims``, PyTorch's
        ``keepdim``).

    Returns:
      Array of ``x``'s shape without the reduced axes (with them as 1 if ``keepdims``), in
      ``x``'s dtype. Reducing an empty axis gives -inf.

    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # naive log(sum(exp)) overflows
    1000.6931471805599
    >>> logsumexp(np.zeros((2, 3, 4)), axis=(0, 2), keepdims=True).shape
    (1, 3, 1)
    """
    x = as_array(x)
    xp = namespace(x=x)
    check_floating(xp, x, "x")
    axes = _axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    # the reduced axes moved last and merged into one: [kept..., prod(reduced)]
    z = xp.reshape(
        xp.permute_dims(x, (*kept, *axes)), (*(x.shape[i] for i in kept), _prod(x.shape, axes))
    )
    out = _logsumexp_last(xp, z)
    if keepdims:
        out = xp.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return numpy_scalar(out)


def _logsumexp_last(xp: Any, x: Array) -> Array:
    """Log-sum-exp of a floating array along its last axis, in its dtype."""
    if x.shape[-1] == 0:
        return xp.full(tuple(x.shape[:-1]), -float("inf"), dtype=x.dtype)
    z = upcast(xp, x)
    if is_torch(xp):
        import torch

        return torch.logsumexp(z, dim=-1).to(x.dtype)
    with quiet(xp):
        return xp.astype(_logsumexp(xp, z, z.ndim - 1, keepdims=False), x.dtype)


def _axes(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """The axes to reduce, non-negative and sorted (a 0-d array: none)."""
    if ndim == 0:
        for a in axis if isinstance(axis, tuple) else (axis,):
            _scalar_axis(a)
        return ()
    if not isinstance(axis, tuple):
        return (normalize_axis(axis, ndim),)
    axes = tuple(normalize_axis(a, ndim) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis: expected distinct axes, got {axis}")
    return tuple(sorted(axes))


def _scalar_axis(axis: Any) -> None:
    """A 0-d array has one value and, as in SciPy and PyTorch, accepts axis 0, -1 or None."""
    if axis is None:
        return
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"axis: expected an int, got {axis!r}")
    if axis not in (0, -1):
        raise IndexError(f"axis: expected an axis in [-1, 0] for a 0-d input, got {axis}")


def _prod(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for i in axes:
        n *= int(shape[i])
    return n


def log_softmax(x: Any, *, axis: int | None = None) -> Array:
    r"""Logarithm of the softmax along ``axis``: :math:`x_i - \operatorname{lse}(x)`.

    Args:
      x: floating array ``[..., n, ...]``; a 0-d ``x`` is one class (its log-softmax is 0,
        ``axis`` 0, -1 or None, as in SciPy and PyTorch).
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
    if x.ndim == 0:  # one value, one class: log 1 = 0 (NaN stays NaN, as in SciPy)
        _scalar_axis(axis)
        return numpy_scalar(xp.reshape(log_softmax(xp.reshape(x, (1,))), ()))
    axis = normalize_axis(axis, x.ndim)
    with quiet(xp):
        return xp.astype(log_softmax_(xp, upcast(xp, x), axis), x.dtype)


def softmax(x: Any, *, axis: int | None = None) -> Array:
    r"""Softmax along ``axis``: :math:`e^{x_i - m} / \sum_j e^{x_j - m}`.

    Args:
      x: floating array ``[..., n, ...]``; a 0-d ``x`` is one class (its softmax is 1,
        ``axis`` 0, -1 or None, as in SciPy and PyTorch).
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
    if x.ndim == 0:  # one value, one class: probability 1 (NaN stays NaN, as in SciPy)
        _scalar_axis(axis)
        return numpy_scalar(xp.reshape(softmax(xp.reshape(x, (1,))), ()))
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
