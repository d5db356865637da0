"""Input checks shared by every public function, and their error messages.

Each message names the argument, what was expected and what came.
"""

from __future__ import annotations

import math
from typing import Any

from crossent._array import Array, any_true, is_floating, is_integer

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")


def check_floating(xp: Any, x: Array, name: str) -> None:
    if not is_floating(xp, x):
        raise TypeError(f"{name}: expected a floating-point array, got dtype {x.dtype}")


def check_label_smoothing(label_smoothing: float) -> None:
    ok = isinstance(label_smoothing, (int, float)) and 0.0 <= label_smoothing <= 1.0
    if not ok:
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")


def check_base(base: float | None) -> None:
    if base is None:
        return
    if not isinstance(base, (int, float)) or not (base > 0 and base != 1 and math.isfinite(base)):
        raise ValueError(f"base: expected a positive number other than 1, got {base!r}")


def check_no_nan(xp: Any, x: Array, name: str) -> None:
    if any_true(xp, xp.isnan(x)):
        raise ValueError(f"{name}: contains NaN at {_first_index(xp, xp.isnan(x))}")


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
    """No NaN, no negative (and, if asked, nothing above 1): one fused pass when all is well,
    the detailed checks (naming the first offending entry) only when it is not."""
    ok = (x >= 0) & (x <= 1) if at_most_one else x >= 0  # NaN compares False
    if not any_true(xp, ~ok):
        return
    check_no_nan(xp, x, name)
    check_nonnegative(xp, x, name)
    check_at_most_one(xp, x, name)


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
