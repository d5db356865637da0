r"""The top of the Huffman tree, buffered per job: hierarchical softmax without the shared
root.

Every path of word2vec.c's Huffman tree starts at the root, so with several threads every
window of every thread writes the same few inner-node rows of ``syn1`` (the root, its
children, …): the cache lines of those rows bounce between cores on every window, and
the second thread buys little (measured in ``benchmarks/RESULTS.md``). A job therefore keeps
the ``HOT_NODES`` most visited inner nodes — the highest ids: an inner node is created
after its children, so its id is larger and its subtree's count too, and the set is closed
under ancestors, a prefix of every path — as a local copy plus its own pending updates.
The first window after a flush that uses a buffered node reads its row from ``syn1``
into ``snap`` (taking in what the other threads flushed); windows read ``snap + delta``
and add their gradients to ``delta``; every ``FLUSH_WINDOWS`` windows (and at the end of
the job) the deltas of the nodes used are added to ``syn1``. Each buffered row is read
and written once per flush interval, not once per window.

With one thread this is the same arithmetic as updating ``syn1`` in place (the rounding of
``snap + delta`` aside): nothing else writes ``syn1`` between flushes. With several, a hot
row is stale by at most ``FLUSH_WINDOWS`` windows of the other threads (Hogwild is stale by
one window already).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crossent.word2vec.training.blocks import gather

HOT_NODES = 63
"""Inner nodes buffered: the top six levels of a balanced tree (50 kB per job at D = 100)."""
FLUSH_WINDOWS = 16
"""Windows between two flushes of the buffered nodes into the shared ``syn1``."""

HotRows = tuple[int, np.ndarray, np.ndarray, np.ndarray]
"""``(first, snap, delta, used)``, made by :func:`hot_buffers`."""


@njit(inline="always")
def hot_buffers(syn1: np.ndarray, hs: bool) -> HotRows:  # pragma: no cover - compiled
    """The buffer of ``syn1 [V−1, D]``'s top nodes (``H = 0`` without hierarchical
    softmax): ``snap`` (rows read since the last flush), ``delta`` (pending updates, zero),
    and ``used`` int64 ``[2H + 1]``: ``used[0]`` slots used since the last flush, listed in
    ``used[1..]``, and ``used[1 + H + s] = 1`` for a used slot ``s``."""
    hot = min(HOT_NODES, syn1.shape[0]) if hs else 0
    first = syn1.shape[0] - hot
    snap = np.empty((hot, syn1.shape[1]), dtype=syn1.dtype)
    delta = np.zeros_like(snap)
    used = np.zeros(2 * hot + 1, dtype=np.int64)
    return first, snap, delta, used


@njit(inline="always")
def gather_path(  # pragma: no cover - compiled
    syn1: np.ndarray,
    hot: HotRows,
    codes: np.ndarray,
    points: np.ndarray,
    length: int,
    c: int,
    rows: np.ndarray,
    slots: np.ndarray,
    labels: np.ndarray,
    out: np.ndarray,
) -> int:
    """Units ``0..length`` of the block: word ``c``'s path, root first (``rows`` its nodes,
    ``labels[0]`` its ``1 − code`` targets, ``out`` the current vectors: ``snap + delta``
    for a buffered node, else the row of ``syn1``). Returns how many leading nodes are
    buffered; their slots are ``slots[0..]``."""
    first, snap, delta, used = hot
    n_slots = snap.shape[0]
    n_hot = 0
    for q in range(length):
        p = points[c, q]
        rows[q], labels[0, q] = p, 1.0 - codes[c, q]
        dst = out[q]
        if p >= first:
            s = p - first
            slots[q] = s
            n_hot += 1
            if used[1 + n_slots + s] == 0:  # first use since the flush: read the row
                used[1 + n_slots + s] = 1
                used[0] += 1
                used[used[0]] = s
                src = syn1[p]
                for d in range(dst.shape[0]):
                    snap[s, d] = src[d]
            for d in range(dst.shape[0]):
                dst[d] = snap[s, d] + delta[s, d]
        else:
            gather(syn1, p, out, q)
    return n_hot


@njit(inline="always")
def flush(syn1: np.ndarray, hot: HotRows) -> None:  # pragma: no cover - compiled
    """Add the pending updates of the nodes used since the last flush to ``syn1`` and
    zero them."""
    first, snap, delta, used = hot
    n_slots = snap.shape[0]
    for i in range(1, used[0] + 1):
        s = used[i]
        row, pending = syn1[first + s], delta[s]
        for d in range(row.shape[0]):
            row[d] += pending[d]
            pending[d] = 0.0
        used[1 + n_slots + s] = 0
    used[0] = 0
