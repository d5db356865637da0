r"""Triton kernels of the CUDA path of ``linear_cross_entropy`` (see :mod:`._triton`).

``row_kernel``: one program per row of a chunk of logits ``z [c, V]`` (the matrix product
``h Wᵀ`` comes from cuBLAS). Pass 1 streams the row in ``BLOCK_V`` blocks with an online
max / sum-exp and gathers everything the loss needs (log-sum-exp, target terms, entropy,
argmax); pass 2, when gradients are wanted, overwrites the row with
:math:`G = (s A + 2\zeta t\,\mathrm{lse})\,p - s\,a` (times the softcap derivative), the
same formula as the chunked torch path. Accumulation is float32 whatever the logits' dtype.

``accumulate_at_b``: ``C += Aᵀ B`` with ``C`` float32 and ``A``, ``B`` 16-bit — the weight
gradient summed over row chunks in float32, without a temporary.

Neither kernel uses atomics: results do not depend on scheduling (deterministic).
"""

from __future__ import annotations

import os

import triton
import triton.language as tl

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"


@triton.jit
def _capped(z, cap, HAS_CAP: tl.constexpr):
    if HAS_CAP:
        # cap · tanh(z / cap), tanh written with exp (1 − 2/(e^{2x}+1)); returns tanh too
        t = 1.0 - 2.0 / (tl.exp(2.0 * z / cap) + 1.0)
        return cap * t, t
    return z, z


@triton.jit
def row_kernel(
    Z,
    stride_z,
    Y,
    stride_y,
    CW,
    CWSUM,
    SCE,
    SZ,
    OUT,
    stride_out,
    V,
    ignore_index,
    eps,
    zloss,
    cap,
    CLASS: tl.constexpr,
    HAS_CW: tl.constexpr,
    HAS_CAP: tl.constexpr,
    WRITE_GRAD: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    z_row = Z + row * stride_z
    y_row = Y + row * stride_y
    m = -float("inf")
    s = 0.0
    sum_ez = 0.0  # Σ e^{z-m} z, rescaled with m: entropy = lse − Σ p z
    w_dot_z = 0.0  # class targets: Σ w_c z_c; probability targets: Σ a_c z_c
    a_sum = 0.0
    y_sum = 0.0
    y_dot_z = 0.0
    best = -float("inf")
    best_i = 0
    for start in range(0, V, BLOCK_V):
        offs = start + tl.arange(0, BLOCK_V)
        mask = offs < V
        raw = tl.load(z_row + offs, mask=mask, other=0.0).to(tl.float32)
        z, _ = _capped(raw, cap, HAS_CAP)
        zz = tl.where(mask, z, 0.0)
        zm = tl.where(mask, z, -float("inf"))
        blk_max = tl.max(zm, 0)
        best_i = tl.where(blk_max > best, start + tl.argmax(zm, 0), best_i)
        best = tl.maximum(best, blk_max)
        new_m = tl.maximum(m, blk_max)
        e = tl.where(mask, tl.exp(zm - new_m), 0.0)
        scale = tl.exp(m - new_m)
        s = s * scale + tl.sum(e, 0)
        sum_ez = sum_ez * scale + tl.sum(e * zz, 0)
        m = new_m
        if HAS_CW:
            w = tl.load(CW + offs, mask=mask, other=0.0)
        else:
            w = tl.where(mask, 1.0, 0.0)
        if CLASS:
            w_dot_z += tl.sum(w * zz, 0)
        else:
            y = tl.load(y_row + offs, mask=mask, other=0.0).to(tl.float32)
            a = w * (y * (1.0 - eps) + eps / V)
            a_sum += tl.sum(a, 0)
            w_dot_z += tl.sum(a * zz, 0)
            y_sum += tl.sum(y, 0)
            y_dot_z += tl.sum(y * zz, 0)
    lse = m + tl.log(s)
    if HAS_CW:
        cw_sum = tl.load(CWSUM).to(tl.float32)
    else:
        cw_sum = V * 1.0
    if CLASS:
        target = tl.load(Y + row * stride_y)
        valid = target != ignore_index
        safe = tl.where(valid, target, 0)
        z_y, _ = _capped(tl.load(z_row + safe).to(tl.float32), cap, HAS_CAP)
        if HAS_CW:
            w_y = tl.load(CW + safe)
        else:
            w_y = 1.0
        v = tl.where(valid, 1.0, 0.0)
        w_y = w_y * v
        total = (1.0 - eps) * w_y + (eps / V) * cw_sum * v
        a_dot_z = (1.0 - eps) * w_y * z_y + (eps / V) * v * w_dot_z
        y_sum = v
        y_dot_z = v * z_y
    else:
        v = 1.0
        total = a_sum
        a_dot_z = w_dot_z
    out = OUT + row * stride_out
    tl.store(out + 0, total * lse - a_dot_z)
    tl.store(out + 1, zloss * v * lse * lse)
    tl.store(out + 2, lse)
    tl.store(out + 3, lse - sum_ez / s)
    tl.store(out + 4, y_sum)
    tl.store(out + 5, y_dot_z)
    tl.store(out + 6, best_i.to(tl.float32))
    if WRITE_GRAD:
        s_ce = tl.load(SCE + row)
        coef = s_ce * total + 2.0 * zloss * tl.load(SZ + row) * lse * v
        for start in range(0, V, BLOCK_V):
            offs = start + tl.arange(0, BLOCK_V)
            mask = offs < V
            raw = tl.load(z_row + offs, mask=mask, other=0.0).to(tl.float32)
            z, t = _capped(raw, cap, HAS_CAP)
            g = coef * tl.exp(z - lse)
            if HAS_CW:
                w = tl.load(CW + offs, mask=mask, other=0.0)
            else:
                w = tl.where(mask, 1.0, 0.0)
            if CLASS:
                g -= tl.where(offs == safe, s_ce * (1.0 - eps) * w_y, 0.0)
                g -= s_ce * (eps / V) * v * w
            else:
                y = tl.load(y_row + offs, mask=mask, other=0.0).to(tl.float32)
                g -= s_ce * w * (y * (1.0 - eps) + eps / V)
            if HAS_CAP:
                g = g * (1.0 - t * t)
            tl.store(z_row + offs, g.to(Z.dtype.element_ty), mask=mask)


def _gemm_configs() -> list[triton.Config]:
    if INTERPRET:
        return [triton.Config({"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 16}, num_warps=4)]
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": 64}, num_warps=w, num_stages=st)
        for bm, bn, w, st in (
            (128, 256, 8, 3),
            (256, 128, 8, 3),
            (128, 128, 8, 4),
            (128, 128, 4, 4),
        )
    ]


@triton.autotune(configs=_gemm_configs(), key=["M", "N", "K"], restore_value=["C"])
@triton.jit
def accumulate_at_b(
    A,
    B,
    C,
    M,
    N,
    K,
    stride_ak,
    stride_am,
    stride_bk,
    stride_bn,
    stride_cm,
    stride_cn,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    """C[M, N] += A[K, M]ᵀ · B[K, N] (C float32)."""
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ptrs = C + rm[:, None].to(tl.int64) * stride_cm + rn[None, :] * stride_cn
    c_mask = (rm[:, None] < M) & (rn[None, :] < N)
    acc = tl.load(c_ptrs, mask=c_mask, other=0.0)
    for k in range(0, K, BLOCK_K):
        rk = k + tl.arange(0, BLOCK_K)
        a = tl.load(
            A + rk[:, None].to(tl.int64) * stride_ak + rm[None, :] * stride_am,
            mask=(rk[:, None] < K) & (rm[None, :] < M),
            other=0.0,
        )  # [BK, BM]
        b = tl.load(
            B + rk[:, None].to(tl.int64) * stride_bk + rn[None, :] * stride_bn,
            mask=(rk[:, None] < K) & (rn[None, :] < N),
            other=0.0,
        )  # [BK, BN]
        acc += tl.dot(tl.trans(a), b, out_dtype=tl.float32)
    tl.store(c_ptrs, acc, mask=c_mask)
