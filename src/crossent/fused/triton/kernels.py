r"""Triton kernels of the CUDA loop of ``linear_cross_entropy`` (see :mod:`.runner`).

``row_kernel``: one program per row of a chunk of logits ``z [c, V]`` (the matrix product
``h Wᵀ`` comes from cuBLAS). Pass 1 streams the row in ``BLOCK_V`` blocks with an online
max / sum-exp and gathers everything the loss needs (log-sum-exp, target terms, entropy,
argmax); pass 2, when gradients are wanted, overwrites the row with the logit gradient

.. math::
    G_{ij} = \bigl(c_i\, p_{ij} - u_i\, p_{ij}(z_{ij} - \mathrm{lse}_i + H_i) - s_i a_{ij}\bigr)
    \,(1 - t_{ij}^2) / T, \qquad c_i = s_i A_i + 2\zeta t_i \mathrm{lse}_i,

the formula of the chunked torch path (:math:`z = \operatorname{softcap}(\text{raw} / T)`,
:math:`t_{ij}` = tanh of the softcap, 0 without it; :math:`u_i` the entropy's upstream
gradient, :math:`H_i` the entropy; 0 on ignored rows). It also stores :math:`c_i` with the
row's results.

``grad_kernel``: the same gradient for a slice of columns ``[col0, col0 + width)`` of every
row, from the ``lse`` and :math:`c_i` that ``row_kernel`` stored — the logits are recomputed
by cuBLAS one vocabulary slice at a time, so that each slice's weight gradient
``G[:, slice]ᵀ h`` is one matrix product (see :mod:`crossent.fused.triton.runner`).

Accumulation is float32 whatever the logits' dtype. No atomics: results do not depend on
scheduling (deterministic).
"""

from __future__ import annotations

import triton
import triton.language as tl

# The per-row results ``OUT [N, OUT_WIDTH]`` (float32): one column each.
COL_CE = tl.constexpr(0)  # A_i lse_i − a_i·z_i
COL_Z_LOSS = tl.constexpr(1)  # ζ lse_i² (valid rows)
COL_LSE = tl.constexpr(2)  # log-sum-exp
COL_ENTROPY = tl.constexpr(3)  # entropy of the row's distribution
COL_Y_DOT_Z = tl.constexpr(4)  # Σ_c y_c z_c of the raw targets
COL_ARGMAX = tl.constexpr(5)  # first index of the row's maximum (as a float)
COL_COEF = tl.constexpr(6)  # c_i = s_i A_i + 2ζ t_i lse_i, kept for grad_kernel
OUT_WIDTH = 7


@triton.jit
def _capped(z, cap, HAS_CAP: tl.constexpr):
    if HAS_CAP:
        # cap · tanh(z / cap), tanh written with exp (1 − 2/(e^{2x}+1)); returns tanh too
        t = 1.0 - 2.0 / (tl.exp(2.0 * z / cap) + 1.0)
        return cap * t, t
    return z, z


@triton.jit
def _class_target(y_row, ignore_index, CW, HAS_CW: tl.constexpr):
    """A row's class target: (index, or 0 if ignored; its class weight × valid; valid)."""
    target = tl.load(y_row)
    valid = target != ignore_index
    safe = tl.where(valid, target, 0)
    v = tl.where(valid, 1.0, 0.0)
    if HAS_CW:
        w_y = tl.load(CW + safe).to(tl.float32) * v
    else:
        w_y = v
    return safe, w_y, v


@triton.jit
def _store_grad(
    z_row,
    y_row,
    CW,
    col0,
    width,
    V,
    lse,
    coef,
    s_ce,
    s_ent,
    ent,
    safe,
    w_y,
    v,
    eps,
    cap,
    inv_t,
    CLASS: tl.constexpr,
    HAS_CW: tl.constexpr,
    HAS_CAP: tl.constexpr,
    HAS_ENT: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    """Overwrite ``z_row[0:width]`` (columns ``col0 + j`` of the vocabulary) with ``G``."""
    for start in range(0, width, BLOCK_V):
        offs = start + tl.arange(0, BLOCK_V)
        mask = offs < width
        cols = col0 + offs
        raw = tl.load(z_row + offs, mask=mask, other=0.0).to(tl.float32)
        z, t = _capped(raw * inv_t, cap, HAS_CAP)
        p = tl.exp(z - lse)
        g = coef * p
        if HAS_ENT:  # dH/dz = -p (log p + H)
            g -= s_ent * p * tl.where(p > 0.0, z - lse + ent, 0.0)  # -inf logits: 0
        if HAS_CW:
            w = tl.load(CW + cols, mask=mask, other=0.0).to(tl.float32)
        else:
            w = tl.where(mask, 1.0, 0.0)
        if CLASS:
            g -= tl.where(cols == safe, s_ce * (1.0 - eps) * w_y, 0.0)
            g -= s_ce * (eps / V) * v * w
            g = tl.where(v > 0.0, g, 0.0)  # ignored rows: 0 even for non-finite logits
        else:
            y = tl.load(y_row + cols, mask=mask, other=0.0).to(tl.float32)
            g -= s_ce * w * (y * (1.0 - eps) + eps / V)
        if HAS_CAP:
            g = g * (1.0 - t * t)
        g = g * inv_t
        tl.store(z_row + offs, g.to(z_row.dtype.element_ty), mask=mask)


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
    SENT,
    OUT,
    stride_out,
    V,
    ignore_index,
    eps,
    zloss,
    cap,
    inv_t,
    CLASS: tl.constexpr,
    HAS_CW: tl.constexpr,
    HAS_CAP: tl.constexpr,
    HAS_ENT: tl.constexpr,
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
    y_dot_z = 0.0
    best = -float("inf")
    best_i = 0
    for start in range(0, V, BLOCK_V):
        offs = start + tl.arange(0, BLOCK_V)
        mask = offs < V
        raw = tl.load(z_row + offs, mask=mask, other=0.0).to(tl.float32)
        z, _ = _capped(raw * inv_t, cap, HAS_CAP)
        zz = tl.where(mask, z, 0.0)
        zm = tl.where(mask, z, -float("inf"))
        blk_max = tl.max(zm, 0)
        best_i = tl.where(blk_max > best, start + tl.argmax(zm, 0), best_i)
        best = tl.maximum(best, blk_max)
        new_m = tl.maximum(m, blk_max)
        e = tl.where(mask, tl.exp(zm - new_m), 0.0)
        scale = tl.exp(m - new_m)
        s = s * scale + tl.sum(e, 0)
        sum_ez = sum_ez * scale + tl.sum(e * tl.where(e > 0.0, zz, 0.0), 0)  # -inf z: 0
        m = new_m
        if HAS_CW:
            w = tl.load(CW + offs, mask=mask, other=0.0).to(tl.float32)
        else:
            w = tl.where(mask, 1.0, 0.0)
        if CLASS:
            w_dot_z += tl.sum(w * tl.where(w != 0.0, zz, 0.0), 0)  # 0 · (-inf) = 0
        else:
            y = tl.load(y_row + offs, mask=mask, other=0.0).to(tl.float32)
            a = w * (y * (1.0 - eps) + eps / V)
            a_sum += tl.sum(a, 0)
            w_dot_z += tl.sum(a * tl.where(a != 0.0, zz, 0.0), 0)  # 0 · (-inf) = 0
            y_dot_z += tl.sum(y * tl.where(y != 0.0, zz, 0.0), 0)
    lse = m + tl.log(s)
    if HAS_CW:
        cw_sum = tl.load(CWSUM).to(tl.float32)
    else:
        cw_sum = V * 1.0
    if CLASS:
        safe, w_y, v = _class_target(y_row, ignore_index, CW, HAS_CW)
        z_y, _ = _capped(tl.load(z_row + safe).to(tl.float32) * inv_t, cap, HAS_CAP)
        total = (1.0 - eps) * w_y + (eps / V) * cw_sum * v
        a_dot_z = (1.0 - eps) * w_y * z_y
        if eps > 0.0:  # (smoothing on a -inf logit: an infinite loss, as torch's)
            a_dot_z += (eps / V) * v * w_dot_z
        y_dot_z = tl.where(v > 0.0, z_y, 0.0)
    else:
        safe, w_y, v = 0, 0.0, 1.0
        total = a_sum
        a_dot_z = w_dot_z
    out = OUT + row * stride_out
    ent = lse - sum_ez / s
    tl.store(out + COL_CE, tl.where(v > 0.0, total * lse - a_dot_z, 0.0))
    tl.store(out + COL_Z_LOSS, tl.where(v > 0.0, zloss * lse * lse, 0.0))
    tl.store(out + COL_LSE, lse)
    tl.store(out + COL_ENTROPY, ent)
    tl.store(out + COL_Y_DOT_Z, y_dot_z)
    tl.store(out + COL_ARGMAX, best_i.to(tl.float32))
    if WRITE_GRAD:
        s_ce = tl.load(SCE + row).to(tl.float32)
        coef = s_ce * total + 2.0 * zloss * tl.load(SZ + row).to(tl.float32) * lse * v
        tl.store(out + COL_COEF, coef)
        s_ent = 0.0
        if HAS_ENT:
            s_ent = tl.load(SENT + row).to(tl.float32)
        _store_grad(
            z_row, y_row, CW, 0, V, V, lse, coef, s_ce, s_ent, ent, safe, w_y, v, eps, cap,
            inv_t, CLASS, HAS_CW, HAS_CAP, HAS_ENT, BLOCK_V,
        )  # fmt: skip


@triton.jit
def grad_kernel(
    Z,
    stride_z,
    Y,
    stride_y,
    CW,
    SCE,
    SENT,
    OUT,
    stride_out,
    col0,
    width,
    V,
    ignore_index,
    eps,
    cap,
    inv_t,
    CLASS: tl.constexpr,
    HAS_CW: tl.constexpr,
    HAS_CAP: tl.constexpr,
    HAS_ENT: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    """Row ``i`` of a ``[N, width]`` slice of logits (columns ``col0…``) becomes ``G``."""
    row = tl.program_id(0).to(tl.int64)
    y_row = Y + row * stride_y
    out = OUT + row * stride_out
    lse = tl.load(out + COL_LSE)
    coef = tl.load(out + COL_COEF)
    ent = tl.load(out + COL_ENTROPY)
    s_ce = tl.load(SCE + row).to(tl.float32)
    s_ent = 0.0
    if HAS_ENT:
        s_ent = tl.load(SENT + row).to(tl.float32)
    if CLASS:
        safe, w_y, v = _class_target(y_row, ignore_index, CW, HAS_CW)
    else:
        safe, w_y, v = 0, 0.0, 1.0
    _store_grad(
        Z + row * stride_z, y_row, CW, col0, width, V, lse, coef, s_ce, s_ent, ent, safe,
        w_y, v, eps, cap, inv_t, CLASS, HAS_CW, HAS_CAP, HAS_ENT, BLOCK_V,
    )  # fmt: skip
