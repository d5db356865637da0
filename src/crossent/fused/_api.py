"""``linear_cross_entropy``: the public entry point, its input checks and the ``impl`` dispatch."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from crossent._array import namespace
from crossent._validation import (
    check_class_targets,
    check_label_smoothing,
    check_probability_entries,
    check_reduction,
)
from crossent.fused._chunked import Options, _Targets, run_chunks_torch
from crossent.fused._function import ChunkedLinearCrossEntropy, ChunkLoop
from crossent.fused._op import linear_cross_entropy_op
from crossent.fused._reference import linear_cross_entropy_reference
from crossent.fused._triton import default_chunk as triton_chunk
from crossent.fused._triton import run_chunks_triton, triton_usable
from crossent.fused._types import LinearCrossEntropyOutput

IMPLS = ("auto", "torch", "triton", "naive")
_CHUNK_BUDGET_BYTES = 64 * 2**20  # logits buffer(s) of one chunk
_CHUNK_MIN_ROWS = 256  # below this, re-reading grad_W (V×D) once per chunk dominates


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: torch.Tensor | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    softcap: float | None = None,
    return_lse: bool = False,
    return_stats: bool = False,
    chunk_size: int | None = None,
    impl: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor] | LinearCrossEntropyOutput:
    r"""Cross-entropy of a linear layer's logits, without materialising them.

    .. math::
        z = \operatorname{softcap}(h W^\top + b), \qquad
        \mathcal{L} = \operatorname{cross\_entropy}(z, y) + \zeta\,
        \operatorname{mean}_{i\ \mathrm{valid}}(\operatorname{lse}(z_i)^2)

    with :func:`crossent.softmax_cross_entropy`'s semantics for class weights, label
    smoothing, ``ignore_index`` and reductions (the mean over zero valid rows is 0 with zero
    gradients). ``softcap(z) = cap · tanh(z / cap)``. For ``reduction="sum"`` the z-loss is
    summed over valid rows; for ``"none"`` it is added to each valid row. This is the seed's
    skip-gram loss :math:`-u_o^\top v_c + \log\sum_w \exp(u_w^\top v_c)` with ``hidden = v_c``
    and ``weight = U``. Extra memory besides the gradients: one chunk of logits plus
    O(N + V); on the CUDA path, when the weight gradient is wanted, only O(N + V) (the
    logits live in the weight gradient's storage before it is written, see
    :mod:`crossent.fused._triton`). Double backward is not supported (a clear error).
    Under ``torch.compile`` the loss is one custom operator, ``crossent::linear_cross_entropy``
    (no graph break, ``fullgraph=True`` works); its backward recomputes the logits, so a
    compiled step costs 10·N·D·V flops against 6–8 in eager mode (see
    :mod:`crossent.fused._op`); wrapping the call in ``torch.compiler.disable`` keeps eager
    mode's cost at the price of a graph break.

    Args:
      hidden: ``[..., D]`` floating (16-bit inputs are computed in float32).
      weight: ``[V, D]``, same dtype and device as ``hidden``.
      targets: ``[...]`` integer class indices, or ``[..., V]`` probabilities.
      bias: optional ``[V]``.
      ignore_index: class-target value whose rows are skipped.
      label_smoothing: :math:`\varepsilon \in [0, 1]`.
      class_weight: optional ``[V]`` class weights (PyTorch's ``weight=``).
      reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[...]`` per-row losses).
      z_loss: :math:`\zeta \ge 0`, weight of the squared log-partition penalty.
      softcap: optional ``cap > 0``.
      return_lse: also return the per-row log-sum-exp ``[...]``.
      return_stats: return a :class:`LinearCrossEntropyOutput` (loss, lse, entropy, target
        log-probability, argmax correctness; statistics are not differentiable).
      chunk_size: rows per chunk (default: a 64 MiB logits buffer, at least 256 rows; on
        the Triton path 512 MiB, 128 to 8192 rows).
      impl: ``"auto"`` (Triton for CUDA tensors when available, else chunked torch),
        ``"torch"`` (chunked, any device), ``"triton"`` (CUDA; fused Triton kernels) or
        ``"naive"`` (materialises the logits: the reference).

    Returns:
      The loss (scalar, or ``[...]`` for ``"none"``) in ``hidden``'s dtype; with
      ``return_lse``, ``(loss, lse)``; with ``return_stats``, a ``LinearCrossEntropyOutput``.

    >>> import torch
    >>> h, W = torch.randn(6, 4), torch.randn(10, 4)
    >>> y = torch.tensor([1, 2, 3, -100, 5, 9])
    >>> fused = linear_cross_entropy(h, W, y, chunk_size=4)
    >>> naive = torch.nn.functional.cross_entropy(h @ W.T, y)
    >>> bool(torch.allclose(fused, naive, atol=1e-6))
    True
    """
    _check_inputs(hidden, weight, targets, bias, class_weight, ignore_index)
    check_reduction(reduction)
    check_label_smoothing(label_smoothing)
    _check_options(z_loss, softcap, chunk_size, impl)
    batch_shape = tuple(hidden.shape[:-1])
    vocab = weight.shape[0]
    h2 = hidden.reshape(-1, hidden.shape[-1])  # [N, D]
    t2 = targets.reshape(-1, vocab) if targets.is_floating_point() else targets.reshape(-1).long()
    options = CallOptions(
        ignore_index,
        float(label_smoothing),
        float(z_loss),
        None if softcap is None else float(softcap),
        reduction,
        0 if chunk_size is None else chunk_size,
        return_stats,
        impl,
    )
    compiling = torch.compiler.is_compiling()
    if not compiling:  # (traced, the values are checked inside the custom operator)
        _check_target_values(t2, vocab, ignore_index)
    if impl == "naive":  # plain torch operations: traced as they are under torch.compile
        res = linear_cross_entropy_reference(
            h2,
            weight,
            t2,
            bias,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
            class_weight=class_weight,
            reduction=reduction,
            z_loss=z_loss,
            softcap=softcap,
        )
    elif compiling:  # one opaque custom operator (see ._op)
        res = LinearCrossEntropyOutput(
            *linear_cross_entropy_op(h2, weight, t2, bias, class_weight, *options)
        )
    else:
        opts, loop = plan(h2, vocab, options)
        res = _chunked(h2, weight, t2, bias, class_weight, opts, loop)
    n = h2.shape[0]
    res = LinearCrossEntropyOutput(  # per-row outputs back to hidden's batch shape
        *(x.reshape(batch_shape) if x.dim() == 1 and x.numel() == n else x for x in res)
    )
    if return_stats:
        return res
    if return_lse:
        return res.loss, res.lse
    return res.loss


class CallOptions(NamedTuple):
    """The non-tensor arguments of one call, validated (the custom operators' scalars)."""

    ignore_index: int
    label_smoothing: float
    z_loss: float
    softcap: float | None
    reduction: str
    chunk_size: int  # 0: the default of the chosen implementation
    with_stats: bool
    impl: str


_TORCH = ChunkLoop("linear_cross_entropy", _Targets, run_chunks_torch)
_TRITON = ChunkLoop("linear_cross_entropy", _Targets, run_chunks_triton)


def plan(hidden: torch.Tensor, vocab: int, c: CallOptions) -> tuple[Options, ChunkLoop]:
    """The chunk loop to run (Triton or torch) and its options, defaults resolved
    (``c.impl`` is ``"auto"``, ``"torch"`` or ``"triton"``)."""
    use_triton = _use_triton(c.impl, hidden)
    chunk = c.chunk_size or (
        triton_chunk(vocab, hidden.dtype) if use_triton else _default_chunk(vocab, c.softcap)
    )
    opts = Options(
        ignore_index=c.ignore_index,
        label_smoothing=c.label_smoothing,
        z_loss=c.z_loss,
        softcap=c.softcap,
        reduction=c.reduction,
        chunk_size=chunk,
        with_stats=c.with_stats,
    )
    return opts, _TRITON if use_triton else _TORCH


def _chunked(
    h: torch.Tensor,
    w: torch.Tensor,
    t: torch.Tensor,
    b: torch.Tensor | None,
    cw: torch.Tensor | None,
    opts: Options,
    loop: ChunkLoop,
) -> LinearCrossEntropyOutput:
    grad_on = torch.is_grad_enabled()
    need = (
        grad_on and h.requires_grad,
        grad_on and w.requires_grad,
        grad_on and b is not None and b.requires_grad,
    )
    outs = ChunkedLinearCrossEntropy.apply(h, w, b, t, cw, opts, need, loop)  # type: ignore[no-untyped-call]
    if not opts.with_stats:
        empty = outs[1].new_empty(0)
        return LinearCrossEntropyOutput(outs[0], outs[1], empty, empty, empty)
    return LinearCrossEntropyOutput(*outs)


def _use_triton(impl: str, hidden: torch.Tensor) -> bool:
    """``auto``: Triton for CUDA tensors of 16/32-bit floats when triton imports."""
    if impl == "torch":
        return False
    usable = triton_usable(hidden)
    if impl == "triton" and not usable:
        raise ValueError(
            f"impl: 'triton' needs CUDA tensors of float16/bfloat16/float32 and the triton "
            f"package, got a {hidden.dtype} tensor on {hidden.device}"
        )
    return usable and (impl == "triton" or hidden.is_cuda)


def _default_chunk(vocab: int, softcap: float | None) -> int:
    """Rows per chunk: the memory budget, but never so few that grad_W traffic dominates.

    Each chunk re-reads and re-writes the V×D weight gradient (8·V·D bytes) against
    6·c·D·V flops of matrix multiplies, so ``c`` rows amortise it about ``c``-fold.
    """
    buffers = 2 if softcap is not None else 1
    return max(_CHUNK_MIN_ROWS, _CHUNK_BUDGET_BYTES // (4 * vocab * buffers))


def _check_inputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    class_weight: torch.Tensor | None,
    ignore_index: int,
) -> None:
    for name, x in (
        ("hidden", hidden),
        ("weight", weight),
        ("targets", targets),
        ("bias", bias),
        ("class_weight", class_weight),
    ):
        if x is not None and not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not hidden.is_floating_point() or hidden.dim() < 1:
        raise TypeError(
            f"hidden: expected a floating [..., D] tensor, got dtype {hidden.dtype} "
            f"and shape {tuple(hidden.shape)}"
        )
    if weight.dim() != 2 or weight.shape[1] != hidden.shape[-1]:
        raise ValueError(
            f"weight: expected shape [V, {hidden.shape[-1]}] (D of hidden), "
            f"got {tuple(weight.shape)}"
        )
    vocab = weight.shape[0]
    for name, x in (("weight", weight), ("bias", bias)):
        if x is not None and (x.dtype != hidden.dtype or x.device != hidden.device):
            raise TypeError(
                f"{name}: expected dtype {hidden.dtype} on {hidden.device} like "
                f"hidden, got {x.dtype} on {x.device}"
            )
    for name, x in (("bias", bias), ("class_weight", class_weight)):
        if x is not None and tuple(x.shape) != (vocab,):
            raise ValueError(
                f"{name}: expected shape [{vocab}] (V of weight), got {tuple(x.shape)}"
            )
    if class_weight is not None and not class_weight.is_floating_point():
        raise TypeError(f"class_weight: expected a floating tensor, got {class_weight.dtype}")
    batch = tuple(hidden.shape[:-1])
    if targets.device != hidden.device:
        raise TypeError(f"targets: expected device {hidden.device}, got {targets.device}")
    if targets.is_floating_point():
        _check_prob_targets(targets, batch, vocab, ignore_index)
    else:
        _check_class_targets(targets, batch, vocab, ignore_index)


def _check_prob_targets(
    targets: torch.Tensor, batch: tuple[int, ...], vocab: int, ignore_index: int
) -> None:
    if tuple(targets.shape) != (*batch, vocab):
        raise ValueError(
            f"targets: expected probabilities of shape {[*batch, vocab]} or class "
            f"indices of shape {list(batch)}, got {list(targets.shape)}"
        )
    if ignore_index != -100:
        raise ValueError(
            f"ignore_index: only class-index targets can ignore rows, got "
            f"ignore_index={ignore_index} with probability targets"
        )


def _check_class_targets(
    targets: torch.Tensor, batch: tuple[int, ...], vocab: int, ignore_index: int
) -> None:
    if targets.dtype == torch.bool:
        raise TypeError(
            "targets: expected integer class indices or floating probabilities, "
            "got dtype torch.bool"
        )
    if tuple(targets.shape) != batch:
        raise ValueError(
            f"targets: expected class indices of shape {list(batch)} (hidden's "
            f"batch shape), got {list(targets.shape)}"
        )


def _check_target_values(targets: torch.Tensor, vocab: int, ignore_index: int) -> None:
    """Probabilities ≥ 0 and not NaN, class indices in range: on CUDA without a host
    synchronisation (an asynchronous device assert), elsewhere with a precise message."""
    if targets.is_floating_point():
        if targets.is_cuda:
            ok = ~(torch.isnan(targets) | (targets < 0)).any()
            torch._assert_async(ok, "targets: probabilities must be >= 0 and not NaN")
        else:
            xp = namespace(targets=targets)
            check_probability_entries(xp, targets, "targets", at_most_one=False)
    elif targets.is_cuda:
        bad = (targets != ignore_index) & ((targets < 0) | (targets >= vocab))
        torch._assert_async(~bad.any(), f"targets: class index out of range [0, {vocab - 1}]")
    else:
        check_class_targets(namespace(targets=targets), targets, vocab, ignore_index)


def _check_options(z_loss: float, softcap: float | None, chunk_size: int | None, impl: str) -> None:
    if not (isinstance(z_loss, (int, float)) and math.isfinite(z_loss) and z_loss >= 0):
        raise ValueError(f"z_loss: expected a finite number >= 0, got {z_loss!r}")
    if softcap is not None and not (isinstance(softcap, (int, float)) and 0 < softcap < math.inf):
        raise ValueError(f"softcap: expected None or a finite number > 0, got {softcap!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size: expected None or an int >= 1, got {chunk_size!r}")
    if impl not in IMPLS:
        raise ValueError(f"impl: expected one of {IMPLS}, got {impl!r}")
