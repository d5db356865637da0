"""How one call of the fused op runs: which chunk loop, how many rows per chunk, which slice.

:func:`plan` turns the validated :class:`~crossent.fused.records.Options` of a call into a
:class:`Plan`: the chunk loop (Triton on CUDA, the torch loop elsewhere), the rows per chunk
(the one chunk budget below) and the vocabulary slice with its reductions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from crossent.fused import records as rec
from crossent.fused.comm import Comm, Local
from crossent.fused.loop import run_chunks
from crossent.fused.targets import Targets
from crossent.fused.triton.runner import run_chunks_triton

IMPLS = ("auto", "torch", "triton")
"""Chunked implementations (``"naive"`` is the reference, not planned)."""

LOGITS_BUDGET_BYTES = {"torch": 64 * 2**20, "triton": 512 * 2**20}
"""The one chunk budget: bytes of logits per chunk, by loop. The torch loop re-reads the
V×D weight gradient once per chunk, so it wants at least ``_TORCH_MIN_ROWS`` rows; the
Triton loop keeps its logits inside the weight gradient (see
:mod:`crossent.fused.triton.runner`) and wants large, 128-aligned chunks for the GPU."""
_TORCH_MIN_ROWS = 256
_TRITON_ROWS = (128, 8192)

ChunkLoop = Callable[
    [rec.Problem, Targets, rec.Options, rec.Layout, "rec.Scales | None"],
    tuple[rec.RowResults, rec.Grads],
]
"""``(problem, targets, options, layout, scales) -> (rows, grads)``: a chunk loop."""


@dataclass(frozen=True)
class Plan:
    """One call's execution: options, the loop, and how it walks the problem."""

    name: str  # the public function, for error messages
    options: rec.Options
    loop: ChunkLoop
    layout: rec.Layout

    def run(
        self, problem: rec.Problem, targets: Targets, scales: rec.Scales | None
    ) -> tuple[rec.RowResults, rec.Grads]:
        """The loop's per-row results and the gradients ``scales`` asks for."""
        return self.loop(problem, targets, self.options, self.layout, scales)


def plan(
    hidden: torch.Tensor,
    vocab: int,
    options: rec.Options,
    comm: Comm | None = None,
    name: str = "linear_cross_entropy",
    targets_grad: bool = False,
) -> Plan:
    """The plan of a call on ``hidden [N, D]`` with ``vocab`` classes in this process
    (``comm``: the slice; default the whole vocabulary, one process). The Triton loop runs
    one process and has no gradient for probability targets (``targets_grad``)."""
    comm = Local(vocab) if comm is None else comm
    triton_can = isinstance(comm, Local) and not targets_grad
    use_triton = triton_can and use_triton_for(options.impl, hidden)
    kind = "triton" if use_triton else "torch"
    chunk = options.chunk_size
    if chunk is None:
        chunk = default_chunk(kind, vocab, hidden.dtype, options.softcap)
    loop = run_chunks_triton if use_triton else run_chunks
    return Plan(name, options, loop, rec.Layout(chunk, comm))


def default_chunk(kind: str, vocab: int, dtype: torch.dtype, softcap: float | None) -> int:
    """Rows per chunk for ``kind`` (``"torch"`` or ``"triton"``) from the logits budget.

    torch: float32 logits (two buffers with a softcap), at least 256 rows, since each chunk
    re-reads and re-writes the V×D weight gradient (8·V·D bytes) against 6·c·D·V flops.
    triton: logits in ``dtype``, 128 to 8192 rows, a multiple of 128."""
    budget = LOGITS_BUDGET_BYTES[kind]
    vocab = max(vocab, 1)
    if kind == "torch":
        buffers = 2 if softcap is not None else 1
        return max(_TORCH_MIN_ROWS, budget // (4 * vocab * buffers))
    itemsize = torch.empty((), dtype=dtype).element_size()
    rows = budget // (vocab * itemsize)
    low, high = _TRITON_ROWS
    return int(min(max(rows // low * low, low), high))


def triton_usable(hidden: torch.Tensor) -> bool:
    """Whether the Triton loop can run on ``hidden``'s device (CUDA, or the interpreter)."""
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if not (hidden.is_cuda or interpreted) or hidden.dtype == torch.float64:
        return False
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def use_triton_for(impl: str, hidden: torch.Tensor) -> bool:
    """``auto``: Triton for CUDA tensors of 16/32-bit floats when triton imports;
    ``triton`` where it cannot run is a clear error."""
    if impl == "torch":
        return False
    usable = triton_usable(hidden)
    if impl == "triton" and not usable:
        raise ValueError(
            f"impl: 'triton' needs CUDA tensors of float16/bfloat16/float32 and the triton "
            f"package, got a {hidden.dtype} tensor on {hidden.device}"
        )
    return usable and (impl == "triton" or hidden.is_cuda)
