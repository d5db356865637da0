"""Error bounds that follow the conditioning of a computation, not the CPU that ran it.

Two correct implementations of one formula (ours and SciPy's, or PyTorch's AVX-512 kernel and
its scalar one) differ by rounding: sums taken in another order, ``exp``/``log`` with a
last-bit difference. Each step errs by a few units in the last place (ulps) of the magnitudes
that went *into* it. A result produced by cancellation, such as ``x - logsumexp(x)`` near 0 or
``logsumexp(z) - z_y`` for a confident prediction, can be far smaller than those magnitudes,
so a relative tolerance on it measures the CPU, not the code. The helpers here bound the
error by ``ulps · eps · scale``, where ``scale`` is the largest magnitude that went in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ULPS = 16
"""Default slack: a handful of roundings, each worth a few ulps, with room to spare; still
about 10^-14 relative at unit scale in float64, far below any real bug."""


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu()
        return np.asarray(x.double() if x.is_floating_point() else x)
    return np.asarray(x)


def eps_of(*arrays: Any) -> float:
    """Machine epsilon of the least precise floating dtype among ``arrays``."""
    eps = float(np.finfo(np.float64).eps)
    for a in arrays:
        dtype = getattr(a, "dtype", None)
        if dtype is None:
            continue
        if hasattr(a, "detach"):  # torch dtype
            import torch

            if dtype.is_floating_point:
                eps = max(eps, float(torch.finfo(dtype).eps))
        elif np.issubdtype(dtype, np.floating):
            eps = max(eps, float(np.finfo(dtype).eps))
    return eps


def magnitude(*inputs: Any) -> float:
    """The largest finite magnitude among ``inputs`` (at least 1: a unit-scale floor, since
    log/exp of small arguments still err by an ulp of 1)."""
    scale = 1.0
    for x in inputs:
        a = np.abs(_numpy(x).astype(np.float64, copy=False))
        a = a[np.isfinite(a)]
        if a.size:
            scale = max(scale, float(a.max()))
    return scale


def ulp_bound(*inputs: Any, ulps: float = ULPS) -> float:
    """``ulps · eps · max|inputs|``: the absolute error a well-conditioned chain of roundings
    can leave on a result computed from ``inputs``."""
    return ulps * eps_of(*inputs) * magnitude(*inputs)


def assert_close_to_inputs(
    got: Any, expected: Any, *inputs: Any, ulps: float = ULPS, msg: str = ""
) -> None:
    """``|got - expected| <= ulps · eps · max|inputs|`` elementwise (same infinities, NaN where
    NaN). Use it for any result that may come from cancellation."""
    a, b = _numpy(got), _numpy(expected)
    np.testing.assert_allclose(
        a, b, rtol=0, atol=ulp_bound(*inputs, ulps=ulps), equal_nan=True, err_msg=msg
    )
