r"""What every word2vec kernel draws and looks up: word2vec.c's random stream, subsampling,
the (shrunk) window, negative draws, and tabulated :math:`\sigma` and :math:`\log\sigma`.

All are numba functions inlined into the kernels (:mod:`.skipgram_kernel`,
:mod:`.cbow_kernel`, :mod:`.kernels`). The random stream is word2vec.c's linear
congruential generator ``x ← x·25214903917 + 11 (mod 2⁶⁴)``, so one thread and one seed
give bit-identical vectors.

numba caches a compiled kernel by its own file's time stamp only: after editing this module,
delete ``training/__pycache__/*.nb[ci]`` (or touch ``skipgram_kernel.py`` and
``cbow_kernel.py``), or the cached kernels keep the old code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MULT = np.uint64(25214903917)
_ADD = np.uint64(11)
_SHIFT = np.uint64(16)
_LOW16 = np.uint64(0xFFFF)
_HIGH = np.uint64(32)

# sigma(x) and log sigma(x) tabulated on [-TABLE_RANGE, TABLE_RANGE] and interpolated
# linearly: error below 1e-6 (float32 resolution of the loss), no exp/log per unit. Outside
# the range sigma is 0 or 1 and log sigma(x) is x or 0 within 1.2e-7.
TABLE_RANGE = 16.0
TABLE_SIZE = 8193
_GRID = np.linspace(-TABLE_RANGE, TABLE_RANGE, TABLE_SIZE)
SIGMOID_TABLE = 1.0 / (1.0 + np.exp(-_GRID))
LOG_SIGMOID_TABLE = -np.logaddexp(0.0, -_GRID)
_SCALE = (TABLE_SIZE - 1) / (2 * TABLE_RANGE)
# both, interleaved: one index computation and one cache line give sigma and log sigma
_BOTH = np.ascontiguousarray(np.stack([SIGMOID_TABLE, LOG_SIGMOID_TABLE], axis=1))


@njit(inline="always")
def next_random(state: np.ndarray) -> np.uint64:  # pragma: no cover - compiled
    """Advance the LCG held in ``state[0]`` and return its new value."""
    state[0] = state[0] * _MULT + _ADD
    value: np.uint64 = state[0]
    return value


@njit(inline="always")
def sigmoid_and_log(x: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """(σ(x), log σ(x)) from one interpolated lookup of the interleaved tables (x or 0
    outside the grid for log σ; NaN gives (0, NaN), so diverged weights show in the loss
    and never index out of range). log σ(−x) is log σ(x) − x."""
    if not x > -TABLE_RANGE:
        return 0.0, x
    if x >= TABLE_RANGE:
        return 1.0, 0.0
    pos = (x + TABLE_RANGE) * _SCALE
    i = int(pos)
    t = pos - i
    p = _BOTH[i, 0] + t * (_BOTH[i + 1, 0] - _BOTH[i, 0])
    log_p = _BOTH[i, 1] + t * (_BOTH[i + 1, 1] - _BOTH[i, 1])
    return p, log_p


@njit(inline="always")
def window_bounds(
    state: np.ndarray, i: int, n: int, window: int, shrink: bool
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Positions ``[lo, hi)`` around ``i`` in a sentence of ``n``: ``window − b`` each side,
    ``b`` uniform in ``{0..window−1}`` if ``shrink`` (one draw), else ``b = 0``."""
    b = int(next_random(state) % np.uint64(window)) if shrink else 0
    return max(0, i - window + b), min(n, i + window - b + 1)


@njit(inline="always")
def subsample(
    words: np.ndarray, start: int, end: int, keep: np.ndarray, state: np.ndarray, sent: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Copy the words ``start..end`` kept by subsampling into ``sent``; returns how many
    (one draw per word whose keep probability is below 1)."""
    n = 0
    for k in range(start, end):
        w = words[k]
        if keep[w] < 1.0:
            r = float((next_random(state) >> _SHIFT) & _LOW16) / 65536.0
            if keep[w] < r:
                continue
        sent[n] = w
        n += 1
    return n


@njit(inline="always")
def draw_negative(
    state: np.ndarray, neg_prob: np.ndarray, neg_alias: np.ndarray
) -> int:  # pragma: no cover - compiled
    """One word from the alias table (one draw: the high 32 bits pick a column, bits
    16..31 toss its coin)."""
    x = next_random(state)
    col = np.int64(((x >> _HIGH) * np.uint64(neg_prob.shape[0])) >> _HIGH)
    word: int = (
        np.int64(neg_alias[col])
        if float((x >> _SHIFT) & _LOW16) >= neg_prob[col] * 65536.0
        else col
    )
    return word
