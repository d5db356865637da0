"""``linear_cross_entropy``: the public function (checks, then the plan, then autograd)."""

from __future__ import annotations

from typing import Literal, overload

import torch

from crossent.fused.autograd import FusedLinearCrossEntropy, wanted_grads
from crossent.fused.checks import check_impl, check_inputs, check_options, check_target_values
from crossent.fused.op import linear_cross_entropy_op
from crossent.fused.outputs import LinearCrossEntropyOutput, pack_output
from crossent.fused.plan import IMPLS, plan
from crossent.fused.records import CHUNK_DEFAULT, Options, Statistics
from crossent.fused.reference import linear_cross_entropy_reference


@overload
def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = ...,
    *,
    ignore_index: int = ...,
    label_smoothing: float = ...,
    class_weight: torch.Tensor | None = ...,
    reduction: str = ...,
    z_loss: float = ...,
    softcap: float | None = ...,
    return_lse: Literal[False] = ...,
    return_stats: Literal[False] = ...,
    chunk_size: int | None = ...,
    impl: str = ...,
) -> torch.Tensor: ...


@overload
def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = ...,
    *,
    ignore_index: int = ...,
    label_smoothing: float = ...,
    class_weight: torch.Tensor | None = ...,
    reduction: str = ...,
    z_loss: float = ...,
    softcap: float | None = ...,
    return_lse: Literal[True],
    return_stats: Literal[False] = ...,
    chunk_size: int | None = ...,
    impl: str = ...,
) -> tuple[torch.Tensor, torch.Tensor]: ...


@overload
def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = ...,
    *,
    ignore_index: int = ...,
    label_smoothing: float = ...,
    class_weight: torch.Tensor | None = ...,
    reduction: str = ...,
    z_loss: float = ...,
    softcap: float | None = ...,
    return_lse: bool = ...,
    return_stats: Literal[True],
    chunk_size: int | None = ...,
    impl: str = ...,
) -> LinearCrossEntropyOutput: ...


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
    :mod:`crossent.fused.triton.runner`). Double backward is not supported (a clear error).
    Under ``torch.compile`` the loss is one custom operator, ``crossent::linear_cross_entropy``
    (no graph break, ``fullgraph=True`` works); its backward recomputes the logits, so a
    compiled step costs 10·N·D·V flops against 6–8 in eager mode (see
    :mod:`crossent.fused.op`); wrapping the call in ``torch.compiler.disable`` keeps eager
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
        log-probability, correctness; statistics are not differentiable). A row is correct
        when the first index of its largest logit (ties broken as ``torch.argmax`` does) is
        the target class; for probability targets, the first index of the target row's
        largest probability; never on an ignored row.
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
    check_inputs(hidden, weight, targets, bias, class_weight, ignore_index)
    check_options(reduction, label_smoothing, z_loss, softcap, chunk_size)
    check_impl(impl, (*IMPLS, "naive"))
    batch_shape = tuple(hidden.shape[:-1])
    vocab = weight.shape[0]
    h2 = hidden.reshape(-1, hidden.shape[-1])  # [N, D]
    t2 = targets.reshape(-1, vocab) if targets.is_floating_point() else targets.reshape(-1).long()
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
        stats = Statistics(res.entropy, res.target_logprob, res.correct)
        res = pack_output(res.loss, res.lse, stats, batch_shape)
    else:
        options = Options(
            ignore_index=ignore_index,
            label_smoothing=float(label_smoothing),
            z_loss=float(z_loss),
            softcap=None if softcap is None else float(softcap),
            reduction=reduction,
            chunk_size=CHUNK_DEFAULT if chunk_size is None else chunk_size,
            with_stats=return_stats,
            impl=impl,
        )
        res = _fused(h2, weight, t2, bias, class_weight, options, batch_shape)
    if return_stats:
        return res
    if return_lse:
        return res.loss, res.lse
    return res.loss


def _fused(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    class_weight: torch.Tensor | None,
    options: Options,
    batch_shape: tuple[int, ...],
) -> LinearCrossEntropyOutput:
    """Eagerly through the autograd function; traced, as one custom operator (see
    :mod:`crossent.fused.op`), whose kernel checks the target values."""
    if torch.compiler.is_compiling():
        scalars = tuple(getattr(options, f) for f in Options.__dataclass_fields__)
        loss, lse, entropy, logprob, correct = linear_cross_entropy_op(
            hidden, weight, targets, bias, class_weight, *scalars
        )
        stats = Statistics(entropy, logprob, correct) if options.with_stats else None
        return pack_output(loss, lse, stats, batch_shape)
    check_target_values(targets, weight.shape[0], options.ignore_index)
    p = plan(hidden, weight.shape[0], options)
    needs = wanted_grads(hidden, weight, bias)
    loss, lse, *rest = FusedLinearCrossEntropy.apply(  # type: ignore[no-untyped-call]
        hidden, weight, bias, targets, class_weight, p, needs
    )
    stats = Statistics(*rest) if rest else None
    return pack_output(loss, lse, stats, batch_shape)
