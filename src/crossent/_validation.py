"""Input checks shared by every public function, and their error messages.

Each message names the argument, what was expected and what came. ``as_int`` and
``as_float`` turn the numbers a caller may pass for an option (Python or NumPy scalars)
into Python ones.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from crossent._array import Array, any_true, is_floating, is_integer, size, traced

REDUCTIONS = ("none", "mean", "sum")


def as_int(value: Any, name: str) -> int:
    """``value`` as a Python int: any integral number (``int``, ``np.int64``, ...), not bool.

    >>> import numpy as np
    >>> as_int(np.int64(3), "chunk_size")
    3
    """
    if not is_int(value):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def as_float(value: Any, name: str) -> float:
    """``value`` as a Python float: any real number (``float``, ``np.float32``, ...), not bool.

    >>> import numpy as np
    >>> as_float(np.float32(0.5), "label_smoothing")
    0.5
    """
    if not is_real(value):
        raise TypeError(f"{name}: expected a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def is_int(value: Any) -> bool:
    """An integral number (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """A real number (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")


def check_floating(xp: Any, x: Array, name: str) -> None:
    if not is_floating(xp, x):
        raise TypeError(f"{name}: expected a floating-point array, got dtype {x.dtype}")


def check_label_smoothing(label_smoothing: Any) -> float:
    """``label_smoothing`` as a float in [0, 1] (Python or NumPy number)."""
    value = as_float(label_smoothing, "label_smoothing")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
    return value


def check_base(base: Any) -> float | None:
    """``base`` as a float (positive, finite, not 1), or None for natural logarithms."""
    if base is None:
        return None
    value = as_float(base, "base")
    if not (value > 0 and value != 1 and math.isfinite(value)):
        raise ValueError(f"base: expected a positive number other than 1, got {base!r}")
    return value


def check_no_nan(xp: Any, x: Array, name: str) -> None:
    if any_true(xp, xp.isnan(x)):
        raise ValueError(f"{name}: contains NaN at {_first_index(xp, xp.isnan(x))}")


def check_finite(xp: Any, x: Array, name: str) -> None:
    bad = xp.isinf(x)
    if any_true(xp, bad):
        idx = _first_index(xp, bad)
        raise ValueError(f"{name}: expected finite values, got {_item(x, idx)} at index {idx}")


def check_nonnegative(xp: Any, x: Array, name: str) -> None:
    bad = x < 0
    if any_true(xp, bad):
        idx = _first_index(xp, bad)
        raise ValueError(f"{name}: probabilities must be >= 0, got {_item(x, idx)} at index {idx}")


def check_at_most_one(xp: Any, x: Array, name: str) -> None:
    bad = x > 1
    if any_true(xp, bad):
        idx = _first_index(xp, bad)
        raise ValueError(f"{name}: probabilities must be <= 1, got {_item(x, idx)} at index {idx}")


def check_probability_entries(xp: Any, x: Array, name: str, *, at_most_one: bool) -> None:
    """No NaN, no negative, no infinity (and, if asked, nothing above 1): two reductions
    (the minimum and maximum, NaN if any entry is NaN) when all is well, no temporary the
    size of ``x``; the detailed checks (naming the first offending entry) only when not."""
    if size(x) == 0 or traced(x):
        return
    low, high = xp.min(x), xp.max(x)
    ok = (low >= 0) & ((high <= 1) if at_most_one else (high < math.inf))  # NaN: False
    if not any_true(xp, ~ok):
        return
    check_no_nan(xp, x, name)
    check_nonnegative(xp, x, name)
    if at_most_one:
        check_at_most_one(xp, x, name)
    check_finite(xp, x, name)


def check_class_weight(xp: Any, w: Array, name: str) -> None:
    """Class weights: finite and >= 0 (a weighted mean with negative weights can divide by
    zero; NaN or infinite weights make every mean NaN)."""
    if not any_true(xp, ~((w >= 0) & (w < math.inf))):  # NaN compares False
        return
    check_no_nan(xp, w, name)
    check_finite(xp, w, name)
    bad = w < 0
    idx = _first_index(xp, bad)
    raise ValueError(f"{name}: class weights must be >= 0, got {_item(w, idx)} at index {idx}")


def check_shape(x: Array, expected: tuple[int, ...], name: str, what: str) -> None:
    if tuple(x.shape) != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)} ({what}), got {tuple(x.shape)}")


def check_broadcasts_to(x: Array, shape: tuple[int, ...], name: str) -> None:
    """``x`` must broadcast to ``shape`` without enlarging it (no silent B×B broadcast)."""
    xs = tuple(x.shape)
    ok = len(xs) <= len(shape) and all(
        a in (1, b) for a, b in zip(reversed(xs), reversed(shape), strict=False)
    )
    if not ok:
        raise ValueError(f"{name}: expected a shape that broadcasts to {tuple(shape)}, got {xs}")


def check_class_targets(xp: Any, targets: Array, num_classes: int, ignore_index: int) -> Array:
    """Validate integer class targets; return the mask of non-ignored entries."""
    if not is_integer(xp, targets):
        raise TypeError(
            f"targets: expected an integer or floating array, got dtype {targets.dtype}"
        )
    valid = targets != ignore_index
    bad = valid & ((targets < 0) | (targets >= num_classes))
    if any_true(xp, bad):
        idx = _first_index(xp, bad)
        raise IndexError(
            f"targets: class index {_item(targets, idx)} at index {idx} is out of range "
            f"[0, {num_classes - 1}] (ignore_index={ignore_index})"
        )
    return valid


def _first_index(xp: Any, mask: Array) -> tuple[int, ...]:
    """Multi-index of the first True entry of ``mask`` (host-side, for error messages)."""
    flat = xp.reshape(mask, (-1,))
    pos = int(xp.argmax(xp.astype(flat, xp.int8)))
    index = []
    for dim in reversed(tuple(mask.shape)):
        index.append(pos % dim)
        pos //= dim
    return tuple(reversed(index))


def _item(x: Array, idx: tuple[int, ...]) -> Any:
    value = x[idx]
    return value.item() if hasattr(value, "item") else value
