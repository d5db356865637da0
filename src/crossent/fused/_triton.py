"""CUDA path of ``linear_cross_entropy``: cuBLAS for the matrix products, Triton for the rest.

The same row-chunk algorithm as :mod:`._chunked` (6·N·D·V flops with a scalar upstream
gradient), with the chunk's softmax, loss, statistics and logit gradient done by one Triton
kernel in two streaming passes over the chunk (:func:`._triton_kernels.row_kernel`), and the
weight gradient accumulated in float32 across chunks by a Triton GEMM without temporaries.
No host-device synchronisation and no atomics: the result is deterministic.
"""

from __future__ import annotations

import os

import torch

from crossent.fused._chunked import Options, _Grads, _Targets

_CHUNK_BUDGET_BYTES = 512 * 2**20
_HALF = (torch.float16, torch.bfloat16)
_CUBLAS_FP32_OUT = [True]  # whether torch.addmm(..., out_dtype=float32) works here


def triton_usable(hidden: torch.Tensor) -> bool:
    """Whether the Triton path can run on ``hidden``'s device (CUDA, or the interpreter)."""
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if not (hidden.is_cuda or interpreted) or hidden.dtype == torch.float64:
        return False
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def default_chunk(vocab: int, dtype: torch.dtype) -> int:
    """Rows per chunk: a 512 MiB logits buffer, 128 to 8192 rows, a multiple of 128."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    rows = _CHUNK_BUDGET_BYTES // (vocab * itemsize)
    return int(min(max(rows // 128 * 128, 128), 8192))


def run_chunks_triton(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    t: _Targets,
    opts: Options,
    need: tuple[bool, bool, bool],
    ce_scale: torch.Tensor | None = None,
    z_scale: torch.Tensor | None = None,
) -> tuple[dict[str, torch.Tensor], _Grads]:
    """As :func:`._chunked.run_chunks_torch`, on CUDA with Triton kernels (inputs not upcast)."""
    import triton

    from crossent.fused import _triton_kernels as kernels

    n, d = hidden.shape
    vocab, dev = weight.shape[0], hidden.device
    chunk = max(1, min(opts.chunk_size, n))
    buf = torch.empty(chunk, vocab, device=dev, dtype=hidden.dtype)  # logits, then gradient
    out = torch.empty(n, 8, device=dev, dtype=torch.float32)
    write = ce_scale is not None and z_scale is not None and any(need)
    grads = _Grads(
        torch.empty_like(hidden) if write and need[0] else None,
        torch.zeros(vocab, d, device=dev, dtype=torch.float32) if write and need[1] else None,
        torch.zeros(vocab, device=dev, dtype=torch.float32) if write and need[2] else None,
    )
    cw = t.cw
    cw_sum = None if cw is None else cw.sum().reshape(1)
    targets = t.y if t.prob else t.raw
    stride_y = targets.stride(0) if t.prob else 1
    sce = ce_scale.contiguous() if write and ce_scale is not None else out
    sz = z_scale.contiguous() if write and z_scale is not None else out
    block_v = min(4096, triton.next_power_of_2(vocab))
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        h, z = hidden[rows], buf[: rows.stop - start]
        if bias is None:
            torch.mm(h, weight.T, out=z)
        else:
            torch.addmm(bias, h, weight.T, out=z)
        kernels.row_kernel[(z.shape[0],)](
            z,
            z.stride(0),
            targets[rows],
            stride_y,
            out if cw is None else cw,
            out if cw_sum is None else cw_sum,
            sce[rows] if write else out,
            sz[rows] if write else out,
            out[rows],
            out.stride(0),
            vocab,
            opts.ignore_index,
            opts.label_smoothing,
            opts.z_loss,
            1.0 if opts.softcap is None else opts.softcap,
            CLASS=not t.prob,
            HAS_CW=cw is not None,
            HAS_CAP=opts.softcap is not None,
            WRITE_GRAD=write,
            BLOCK_V=block_v,
            num_warps=8 if block_v >= 2048 else 4,
        )
        if not write:
            continue
        if grads.hidden is not None:
            torch.mm(z, weight, out=grads.hidden[rows])
        if grads.weight is not None:
            _accumulate_weight_grad(kernels, grads.weight, z, h)
        if grads.bias is not None:
            grads.bias.add_(z.sum(0, dtype=torch.float32))
    result = {
        "ce": out[:, 0],
        "zl": out[:, 1],
        "lse": out[:, 2],
        "entropy": out[:, 3],
        "y_sum": out[:, 4],
        "y_dot_z": out[:, 5],
        "argmax": out[:, 6].long(),
    }
    return result, grads


def _accumulate_weight_grad(
    kernels: object, acc: torch.Tensor, g: torch.Tensor, h: torch.Tensor
) -> None:
    """``acc (float32 [V, D]) += gᵀ h`` for ``g [c, V]``, ``h [c, D]``."""
    if g.dtype not in _HALF:
        acc.addmm_(g.T.to(acc.dtype), h.to(acc.dtype))
        return
    if acc.is_cuda and _CUBLAS_FP32_OUT[0]:
        try:  # cuBLAS: 16-bit inputs, float32 C accumulated in place
            torch.addmm(acc, g.T, h, out_dtype=torch.float32, out=acc)
            return
        except (RuntimeError, TypeError):
            _CUBLAS_FP32_OUT[0] = False  # this torch lacks it: the Triton GEMM below
    import triton

    m, n, k = acc.shape[0], acc.shape[1], g.shape[0]

    def grid(meta: dict[str, int]) -> tuple[int, int]:
        return triton.cdiv(m, meta["BLOCK_M"]), triton.cdiv(n, meta["BLOCK_N"])

    kernels.accumulate_at_b[grid](  # type: ignore[attr-defined]
        g,
        h,
        acc,
        m,
        n,
        k,
        g.stride(0),
        g.stride(1),
        h.stride(0),
        h.stride(1),
        acc.stride(0),
        acc.stride(1),
    )
