r"""CUDA path of ``linear_cross_entropy``: cuBLAS for the matrix products, Triton for the rest.

Two passes, so that no workspace beyond the gradients themselves is needed:

1. **Rows.** For each chunk of rows, ``z = h Wᵀ + b`` (cuBLAS), then one Triton program per
   row (:func:`.kernels.row_kernel`) streams it twice: loss terms, log-sum-exp and
   statistics, then the logit gradient ``G`` in place; ``grad_h[rows] = G W`` and
   ``grad_b += Σ_rows G``. Cost 4·c·D·V flops per chunk.
2. **Vocabulary slices** (only when the weight gradient is wanted). For each slice of
   columns, ``z = h W[slice]ᵀ + b[slice]`` for all N rows, ``G`` from the stored ``lse``
   (:func:`.kernels.grad_kernel`), and ``grad_W[slice] = G[:, slice]ᵀ h``: one cuBLAS
   product over all N rows, accumulated in float32 inside cuBLAS and rounded once into
   ``grad_W`` — as accurate as the naive product, with no float32 V×D accumulator.

In all 8·N·D·V flops (6 without the weight gradient). The logits buffers live inside
``grad_W``'s own storage, in the part not written yet: pass 1 uses its first rows, pass 2
places each slice's ``[N, w]`` logits after the rows that slice writes, so slices shrink
towards the end of the vocabulary and the last few columns use a small ``[N, 64]`` buffer.
Peak memory is therefore the gradients plus O(N + V) — the floor for any method that
returns them. No host-device synchronisation and no atomics: the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from crossent.fused import records as rec
from crossent.fused.comm import Local
from crossent.fused.targets import Targets

_ALIGN = 64  # scratch offsets and slice widths: multiples of 64 elements (cuBLAS-friendly)
_TAIL = 64  # width of the separate buffer for the last columns of the vocabulary


def vocab_slices(vocab: int, n: int, d: int, max_width: int) -> Iterator[tuple[int, int, int]]:
    """Pass 2's plan: ``(start, stop, offset)`` per vocabulary slice, in order.

    ``offset`` is where the slice's ``[n, stop - start]`` logits go inside the flat
    ``[vocab · d]`` weight-gradient storage: at or after ``stop · d`` (rows written by this and
    earlier slices stay intact) and ending by ``vocab · d``. A slice fits when
    ``n·w + d·w ≤ d·(vocab − start) − _ALIGN``. ``offset = -1``: the slice is too narrow to
    fit (the end of the vocabulary) and uses the separate ``[n, _TAIL]`` buffer.
    """
    start = 0
    tail = max(1, min(_TAIL, max_width))
    while start < vocab:
        left = vocab - start
        width = min(max_width, left, (d * left - _ALIGN) // (n + d))
        if width < left and width >= 2 * _ALIGN:
            width -= width % _ALIGN
        if width >= min(tail, left):
            stop = start + width
            yield start, stop, -(-stop * d // _ALIGN) * _ALIGN
        else:
            stop = start + min(tail, left)
            yield start, stop, -1
        start = stop


def run_chunks_triton(
    problem: rec.Problem,
    targets: Targets,
    options: rec.Options,
    layout: rec.Layout,
    scales: rec.Scales | None,
) -> tuple[rec.RowResults, rec.Grads]:
    """As :func:`crossent.fused.loop.run_chunks`, on CUDA with Triton kernels (inputs not
    upcast; a single process only). The weight gradient comes in ``weight``'s dtype, the
    bias gradient in float32."""
    from crossent.fused.triton import kernels

    if not isinstance(layout.comm, Local):
        raise NotImplementedError("the Triton path runs in a single process")
    hidden, weight, bias = _blas_ready(problem.hidden), _blas_ready(problem.weight), problem.bias
    n, d = hidden.shape
    vocab, dev = weight.shape[0], hidden.device
    needs = rec.Needs() if scales is None else scales.needs
    write = needs.any()
    grads = rec.Grads(
        torch.empty_like(hidden) if write and needs.hidden else None,
        torch.empty(vocab, d, device=dev, dtype=weight.dtype) if write and needs.weight else None,
        torch.zeros(vocab, device=dev, dtype=torch.float32) if write and needs.bias else None,
    )
    out = torch.empty(n, kernels.OUT_WIDTH, device=dev, dtype=torch.float32)
    k = _KernelArgs(targets, options, vocab, out, scales if write else None)
    chunk = max(1, min(layout.chunk, n))
    buf = _row_buffer(grads.weight, chunk, vocab, hidden)
    for start in range(0, n, buf.shape[0]):
        rows = slice(start, min(start + buf.shape[0], n))
        z = buf[: rows.stop - start]
        _logits(z, hidden[rows], weight, bias)
        k.rows(z, rows)
        if grads.hidden is not None:
            torch.mm(z, weight, out=grads.hidden[rows])
        if grads.bias is not None:
            grads.bias.add_(z.sum(0, dtype=torch.float32))
    if grads.weight is not None and n == 0:
        grads.weight.zero_()  # no rows: a zero gradient, not an uninitialised one
    elif grads.weight is not None:
        _weight_grad(grads.weight, hidden, weight, bias, k, max_width=chunk * vocab // n)
    return _results(out, options.with_stats), grads


def _results(out: torch.Tensor, with_stats: bool) -> rec.RowResults:
    """The named columns of the kernels' ``OUT [N, OUT_WIDTH]``."""
    from crossent.fused.triton import kernels as k

    stats = None
    if with_stats:
        argmax = out[:, k.COL_ARGMAX.value].long()
        stats = rec.RowStats(out[:, k.COL_ENTROPY.value], out[:, k.COL_Y_DOT_Z.value], argmax)
    return rec.RowResults(
        ce=out[:, k.COL_CE.value],
        z_loss=out[:, k.COL_Z_LOSS.value],
        lse=out[:, k.COL_LSE.value],
        stats=stats,
    )


def _dense_rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself when its last axis has stride 1 (and, 1-D, no stride 0), else a copy."""
    if x.dim() == 1:
        return x if x.stride(0) == 1 or x.numel() <= 1 else x.contiguous()
    return x if x.stride(-1) == 1 and x.stride(0) >= x.shape[-1] else x.contiguous()


def _blas_ready(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself when cuBLAS can read it in place (row- or column-major, any leading
    dimension), else one contiguous copy — not one per matrix product."""
    return x if x.stride(-1) == 1 or x.stride(0) == 1 else x.contiguous()


def _row_buffer(
    grad_w: torch.Tensor | None, chunk: int, vocab: int, like: torch.Tensor
) -> torch.Tensor:
    """Pass 1's ``[c, V]`` logits: the first rows of ``grad_W``'s storage when it holds enough
    of them (``c·V ≤ V·D`` with ``c`` at least ``min(chunk, 128)``), else a buffer of its own."""
    if grad_w is not None:
        rows = min(chunk, grad_w.shape[1])
        if rows >= min(chunk, 128):
            return grad_w.view(-1)[: rows * vocab].view(rows, vocab)
    return like.new_empty(chunk, vocab)


class _KernelArgs:
    """The arguments the two Triton kernels share, and their launches."""

    def __init__(
        self,
        t: Targets,
        options: rec.Options,
        vocab: int,
        out: torch.Tensor,
        scales: rec.Scales | None,
    ) -> None:
        import triton

        self.options, self.vocab, self.out = options, vocab, out
        self.write = scales is not None
        # the kernels step along a row with stride 1: rows of targets and the class weights
        # must be dense (a strided or expanded view is copied once)
        self.targets = _dense_rows(t.raw)
        self.stride_y = self.targets.stride(0) if t.probabilities else 1
        cw = None if t.class_weight is None else t.class_weight.contiguous()
        self.cw = out if cw is None else cw  # placeholders where a pointer is unused
        self.cw_sum = out if cw is None else cw.sum().reshape(1)
        self.sce = out if scales is None else scales.ce.contiguous()
        self.sz = out if scales is None else scales.z_loss.contiguous()
        entropy = None if scales is None else scales.entropy
        self.sent = out if entropy is None else entropy.contiguous()
        self.cap = 1.0 if options.softcap is None else options.softcap
        self.inv_t = 1.0 / options.temperature
        self.flags = {
            "CLASS": not t.probabilities,
            "HAS_CW": cw is not None,
            "HAS_CAP": options.softcap is not None,
            "HAS_ENT": entropy is not None,
            "BLOCK_V": min(4096, triton.next_power_of_2(vocab)),
        }
        self.flags["num_warps"] = 8 if self.flags["BLOCK_V"] >= 2048 else 4

    def rows(self, z: torch.Tensor, rows: slice) -> None:
        """Loss terms and statistics of ``z [c, V]`` (rows ``rows``); ``G`` in place if wanted."""
        from crossent.fused.triton.kernels import row_kernel

        row_kernel[(z.shape[0],)](
            z,
            z.stride(0),
            self.targets[rows],
            self.stride_y,
            self.cw,
            self.cw_sum,
            self.sce[rows] if self.write else self.out,
            self.sz[rows] if self.write else self.out,
            self.sent[rows] if self.write else self.out,
            self.out[rows],
            self.out.stride(0),
            self.vocab,
            self.options.ignore_index,
            self.options.label_smoothing,
            self.options.z_loss,
            self.cap,
            self.inv_t,
            WRITE_GRAD=self.write,
            **self.flags,
        )

    def _column_flags(self, width: int) -> dict[str, object]:
        """Narrow slices (the end of the vocabulary) take 1024-wide blocks: two compiled
        variants of ``grad_kernel`` at most, not one per power of two."""
        block = self.flags["BLOCK_V"]
        if width < block:
            block = min(block, 1024)
        return dict(self.flags, BLOCK_V=block, num_warps=8 if block >= 2048 else 4)

    def columns(self, z: torch.Tensor, cols: slice) -> None:
        """``z [N, w]`` (the logits of vocabulary columns ``cols``) becomes ``G`` in place."""
        from crossent.fused.triton.kernels import grad_kernel

        width = cols.stop - cols.start
        grad_kernel[(z.shape[0],)](
            z,
            z.stride(0),
            self.targets,
            self.stride_y,
            self.cw,
            self.sce,
            self.sent,
            self.out,
            self.out.stride(0),
            cols.start,
            width,
            self.vocab,
            self.options.ignore_index,
            self.options.label_smoothing,
            self.cap,
            self.inv_t,
            **self._column_flags(width),
        )


def _weight_grad(
    grad_w: torch.Tensor,
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    k: _KernelArgs,
    max_width: int,
) -> None:
    """Pass 2: ``grad_W[s] = G[:, s]ᵀ h`` for each vocabulary slice ``s`` (see the module)."""
    n, d = hidden.shape
    vocab = weight.shape[0]
    flat = grad_w.view(-1)
    tail: torch.Tensor | None = None
    for start, stop, offset in vocab_slices(vocab, n, d, max(1, max_width)):
        width = stop - start
        if offset >= 0:
            z = flat[offset : offset + n * width].view(n, width)
        else:
            tail = hidden.new_empty(n * min(_TAIL, max_width)) if tail is None else tail
            z = tail[: n * width].view(n, width)
        cols = slice(start, stop)
        _logits(z, hidden, weight[cols], None if bias is None else bias[cols])
        k.columns(z, cols)
        torch.mm(z.T, hidden, out=grad_w[cols])


def _logits(z: torch.Tensor, h: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> None:
    """``z = h wᵀ + b`` (cuBLAS), written into ``z``."""
    if b is None:
        torch.mm(h, w.T, out=z)
    else:
        torch.addmm(b, h, w.T, out=z)
