r"""Chunked linear cross-entropy for every torch device: the N×V logits never exist.

Rows are processed ``chunk_size`` at a time. For a chunk of hidden rows ``h [c, D]``:

1. ``z = h Wᵀ + b`` into one reusable ``[c, V]`` buffer (softcapped: ``cap·tanh(z/cap)``);
2. every row's target is written as a weight vector :math:`a_i` over the vocabulary, so that
   :math:`\ell_i = A_i\,\mathrm{lse}_i - a_i \cdot z_i` with :math:`A_i = \sum_c a_{ic}`
   (class targets: :math:`a_i = (1-\varepsilon) w_{y_i} e_{y_i} + \tfrac{\varepsilon}{V} w`;
   probability targets: :math:`a_i = w \odot ((1-\varepsilon) y_i + \varepsilon/V)`;
   ignored rows: :math:`a_i = 0`);
3. the buffer becomes the softmax in place; the z-loss adds :math:`\zeta\,\mathrm{lse}_i^2`;
4. when gradients are wanted it becomes :math:`G = (s_i A_i + 2\zeta t_i \mathrm{lse}_i)\,p_i
   - s_i a_i` (``s``, ``t``: the upstream gradient times the reduction's scale for the
   cross-entropy and the z-loss), then ``grad_h = G W``, ``grad_W += Gᵀ h``, ``grad_b += Σ G``.

With a scalar upstream gradient (``mean``/``sum``) the gradients are computed during the
forward pass for a unit upstream gradient and scaled in backward (6·N·D·V flops in all);
with ``reduction="none"`` the backward pass recomputes the logits with the real per-row
upstream gradient (8·N·D·V flops). Softmax probabilities below 2⁻⁶⁴ of the row maximum are
flushed to zero, so no subnormal float reaches a matrix multiply (on CPUs those are 25–50×
slower), without touching global torch state. 16-bit inputs are computed in float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

_FLUSH = 2.0**-64  # exp(z - max) below this is set to 0 (far under float32 resolution)
_EXP_FLOOR = -80.0  # exp(-80) = 1.8e-35 is still a normal float32; flushed to 0 just after


@dataclass(frozen=True)
class Options:
    """Static options of one call (already validated)."""

    ignore_index: int
    label_smoothing: float
    z_loss: float
    softcap: float | None
    reduction: str
    chunk_size: int
    with_stats: bool


class _Targets:
    """Targets of all rows in the form ``A_i·lse_i − a_i·z_i`` (see the module docstring)."""

    def __init__(
        self,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        vocab: int,
        opts: Options,
        dtype: torch.dtype,
    ) -> None:
        self.prob = targets.is_floating_point()
        self.raw = targets
        self.eps = opts.label_smoothing
        self.vocab = vocab
        self.cw = None if class_weight is None else class_weight.to(dtype)  # [V]
        self.cw_sum: torch.Tensor | float = vocab if self.cw is None else self.cw.sum()
        if self.prob:
            self.y = targets  # [N, V]
            self.valid = torch.ones(targets.shape[0], dtype=torch.bool, device=targets.device)
            self.denom = torch.tensor(float(targets.shape[0]), dtype=dtype, device=targets.device)
        else:
            self.valid = targets != opts.ignore_index  # [N]
            self.safe = torch.where(self.valid, targets, 0)  # [N]
            ones = torch.ones(targets.shape, dtype=dtype, device=targets.device)
            w_y = ones if self.cw is None else self.cw[self.safe]
            self.w_y = torch.where(self.valid, w_y, 0.0)  # [N]
            self.denom = self.w_y.sum()
        self.n_valid = self.valid.sum().to(dtype)

    def terms(self, rows: slice, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """``A [c]``, ``a·z [c]`` and (probability targets) ``a [c, V]`` for a chunk of logits."""
        eps, vocab = self.eps, self.vocab
        if self.prob:
            a = self.y[rows].to(z.dtype)
            if eps > 0:
                a = a * (1 - eps) + eps / vocab
            if self.cw is not None:
                a = a * self.cw
            a_dot_z = torch.bmm(a.unsqueeze(1), z.unsqueeze(2)).view(-1)
            return a.sum(1), a_dot_z, a
        w_y = self.w_y[rows]
        z_y = z.gather(1, self.safe[rows, None]).view(-1)
        total, a_dot_z = (1 - eps) * w_y, (1 - eps) * w_y * z_y
        if eps > 0:
            smooth = (eps / vocab) * self.valid[rows].to(z.dtype)
            w_dot_z = z.sum(1) if self.cw is None else z @ self.cw
            total, a_dot_z = total + smooth * self.cw_sum, a_dot_z + smooth * w_dot_z
        return total, a_dot_z, None

    def statistics(self, out: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Entropy, target log-probability and argmax correctness per row."""
        logprob = out["y_dot_z"] - out["y_sum"] * out["lse"]
        correct = out["argmax"] == (self.y.argmax(1) if self.prob else self.safe)
        if not self.prob:
            correct &= self.valid
        return out["entropy"], logprob, correct

    def plain_terms(self, rows: slice, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``Σ_c y_c`` and ``y·z`` of the raw targets (no weights, no smoothing), for statistics."""
        if self.prob:
            y = self.y[rows].to(z.dtype)
            return y.sum(1), torch.bmm(y.unsqueeze(1), z.unsqueeze(2)).view(-1)
        v = self.valid[rows].to(z.dtype)
        return v, v * z.gather(1, self.safe[rows, None]).view(-1)

    def subtract(self, g: torch.Tensor, rows: slice, scale: torch.Tensor, a: Any) -> None:
        """``g -= scale_i · a_i`` in place."""
        if self.prob:
            g.addcmul_(scale[:, None], a, value=-1.0)
            return
        eps = self.eps
        g.scatter_add_(1, self.safe[rows, None], (-(1 - eps) * scale * self.w_y[rows])[:, None])
        if eps > 0:
            smooth = scale * (eps / self.vocab) * self.valid[rows].to(g.dtype)
            if self.cw is None:
                g.sub_(smooth[:, None])
            else:
                g.addr_(smooth, self.cw, alpha=-1.0)


@dataclass
class _Grads:
    hidden: torch.Tensor | None
    weight: torch.Tensor | None
    bias: torch.Tensor | None


def _logits_(
    buf: torch.Tensor,
    h: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    cap: float | None,
    tanh_buf: torch.Tensor | None,
) -> None:
    """``buf = softcap(h Wᵀ + b)``; ``tanh_buf`` keeps ``tanh(z/cap)`` for the gradient."""
    if b is None:
        torch.mm(h, w.T, out=buf)
    else:
        torch.addmm(b, h, w.T, out=buf)
    if cap is not None and tanh_buf is not None:
        torch.tanh(buf.div_(cap), out=tanh_buf)
        torch.mul(tanh_buf, cap, out=buf)


def _exp_shift_(z: torch.Tensor, m: torch.Tensor) -> None:
    """In place ``z ← exp(z − m)`` row by row (``m [c]``); never a subnormal result (those
    make CPU matmuls 25–50× slower): inputs clamped at -80, results below 2⁻⁶⁴ flushed."""
    z.sub_(m[:, None]).clamp_(min=_EXP_FLOOR).exp_()
    F.threshold(z, _FLUSH, 0.0, inplace=True)


def _exp_shifted_(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """In place ``z ← exp(z − max)`` (tiny values flushed); returns ``lse [c]`` and ``Σ exp``."""
    m = z.amax(1)  # [c]
    _exp_shift_(z, m)
    s = z.sum(1)  # [c]
    return m + s.log(), s


def upcast_inputs(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The inputs in their accumulation dtype (16-bit → float32)."""
    dt = compute_dtype(hidden.dtype)
    return hidden.to(dt), weight.to(dt), None if bias is None else bias.to(dt)


def new_grads(hidden: torch.Tensor, weight: torch.Tensor, need: tuple[bool, bool, bool]) -> _Grads:
    """Gradient buffers for the chunk loops: grad_h written chunk by chunk, grad_W and grad_b
    accumulated (zeros)."""
    return _Grads(
        torch.empty_like(hidden) if need[0] else None,
        torch.zeros_like(weight) if need[1] else None,
        weight.new_zeros(weight.shape[0]) if need[2] else None,
    )


def apply_logit_grad(
    g: torch.Tensor,
    tanh_buf: torch.Tensor | None,
    h: torch.Tensor,
    weight: torch.Tensor,
    grads: _Grads,
    rows: slice,
) -> None:
    """From a chunk's logit gradient ``g [c, V]`` (before the softcap): chain rule through
    ``cap·tanh(z/cap)`` (``tanh_buf`` is consumed), then ``grad_h[rows] = g W``,
    ``grad_W += gᵀ h``, ``grad_b += Σ_rows g``."""
    if tanh_buf is not None:
        g.mul_(tanh_buf.mul_(tanh_buf).neg_().add_(1.0))
    if grads.hidden is not None:
        torch.mm(g, weight, out=grads.hidden[rows])
    if grads.weight is not None:
        grads.weight.addmm_(g.T, h)
    if grads.bias is not None:
        grads.bias.add_(g.sum(0))


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for 16-bit floats, else the dtype itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def run_chunks_torch(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    t: _Targets,
    opts: Options,
    need: tuple[bool, bool, bool],
    ce_scale: torch.Tensor | None = None,
    z_scale: torch.Tensor | None = None,
) -> tuple[dict[str, torch.Tensor], _Grads]:
    """One pass over the row chunks: per-row loss terms, statistics and, where ``need``
    says so, the gradients for the given per-row upstream scales (``[N]`` each).

    Inputs are computed in their accumulation dtype (16-bit → float32)."""
    hidden, weight, bias = upcast_inputs(hidden, weight, bias)
    dt = hidden.dtype
    n, vocab = hidden.shape[0], weight.shape[0]
    chunk = max(1, min(opts.chunk_size, n))
    dev = hidden.device
    buf = torch.empty(chunk, vocab, device=dev, dtype=dt)
    tanh_buf = torch.empty_like(buf) if opts.softcap is not None else None
    out = {k: torch.zeros(n, device=dev, dtype=dt) for k in ("ce", "zl", "lse")}
    if opts.with_stats:
        out["entropy"] = torch.zeros(n, device=dev, dtype=dt)
        out["y_sum"] = torch.zeros(n, device=dev, dtype=dt)
        out["y_dot_z"] = torch.zeros(n, device=dev, dtype=dt)
        out["argmax"] = torch.zeros(n, device=dev, dtype=torch.long)
    grads = new_grads(hidden, weight, need)
    valid = t.valid.to(dt)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        h, z = hidden[rows], buf[: rows.stop - start]
        tb = None if tanh_buf is None else tanh_buf[: rows.stop - start]
        _logits_(z, h, weight, bias, opts.softcap, tb)
        total, a_dot_z, a = t.terms(rows, z)
        if opts.with_stats:
            out["argmax"][rows] = z.argmax(1)
            out["y_sum"][rows], out["y_dot_z"][rows] = t.plain_terms(rows, z)
        lse, sum_exp = _exp_shifted_(z)  # z now holds exp(z - max)
        out["lse"][rows] = lse
        out["ce"][rows] = total * lse - a_dot_z
        out["zl"][rows] = opts.z_loss * valid[rows] * lse * lse
        if opts.with_stats:
            # H = -Σ p log p with p = e / s:  H = log s − Σ e log e / s
            out["entropy"][rows] = sum_exp.log() - torch.special.xlogy(z, z).sum(1) / sum_exp
        if ce_scale is None or z_scale is None or not any(need):
            continue
        s_ce, s_z = ce_scale[rows], z_scale[rows]
        coef = (s_ce * total + 2 * opts.z_loss * valid[rows] * s_z * lse) / sum_exp
        z.mul_(coef[:, None])  # p · (s A + 2ζ t lse)
        t.subtract(z, rows, s_ce, a)  # − s a
        apply_logit_grad(z, tb, h, weight, grads, rows)
    return out, grads
