r"""``linear_cross_entropy``: the public function (checks, then the plan, then autograd).

.. math::
    z = \operatorname{softcap}\bigl((h W^\top + b) / T\bigr), \qquad
    \mathcal{L} = \operatorname{cross\_entropy}(z, y) + \zeta\,
    \operatorname{mean}_{i\ \mathrm{valid}}(\operatorname{lse}(z_i)^2)

with :func:`crossent.softmax_cross_entropy`'s semantics for class weights, label smoothing,
``ignore_index`` and reductions (the mean over zero valid rows is 0 with zero gradients;
an ignored row's loss is 0 even where its hidden state is not finite).
``softcap(z) = cap · tanh(z / cap)``. For ``reduction="sum"`` the z-loss is summed over valid
rows; for ``"none"`` it is added to each valid row. This is the seed's skip-gram loss
:math:`-u_o^\top v_c + \log\sum_w \exp(u_w^\top v_c)` with ``hidden = v_c`` and
``weight = U``.

Memory besides the gradients: one chunk of logits plus O(N + V); on the CUDA path, when the
weight gradient is wanted, only O(N + V) (the logits live in the weight gradient's storage
before it is written, see :mod:`crossent.fused.triton.runner`). Double backward is not
supported (a clear error). Under ``torch.compile`` the loss is one custom operator,
``crossent::linear_cross_entropy`` (no graph break, ``fullgraph=True`` works); its backward
recomputes the logits, so a compiled step costs 10·N·D·V flops against 6–8 in eager mode
(see :mod:`crossent.fused.op`); wrapping the call in ``torch.compiler.disable`` keeps eager
mode's cost at the price of a graph break.

In a training loop: under ``torch.autocast`` the inputs are cast as ``F.linear`` would cast
them (the softmax and the loss stay float32; the torch loop also multiplies in float32);
``shift=1`` is the causal-LM shift (position ``t`` predicts ``targets[..., t + 1]``, the
last position ignored; only the targets move); ``num_items_in_batch`` divides the summed
loss by the token count of a whole gradient-accumulation step, as Hugging Face's trainer
passes it, so micro-batches add up to the full batch's mean.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, cast, overload

import torch
from typing_extensions import Unpack

from crossent.fused.autograd import run_autograd
from crossent.fused.checks import check_options, check_target_values, check_vocabulary
from crossent.fused.inputs import check_num_items, check_shift, prepare_and_run
from crossent.fused.op import linear_cross_entropy_op
from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.fused.plan import IMPLS, plan
from crossent.fused.records import Options, Problem, Result, Statistics
from crossent.fused.reference import ReferenceKwargs, linear_cross_entropy_reference


class LinearCrossEntropyKwargs(ReferenceKwargs, total=False):
    """The options of :func:`linear_cross_entropy` besides its outputs (for ``**kwargs``)."""

    shift: int | bool
    num_items_in_batch: int | torch.Tensor | None
    chunk_size: int | None
    impl: str


_Tensor = torch.Tensor


@overload
def linear_cross_entropy(
    hidden: _Tensor,
    weight: _Tensor,
    targets: _Tensor,
    bias: _Tensor | None = ...,
    *,
    return_lse: Literal[False] = ...,
    return_stats: Literal[False] = ...,
    **options: Unpack[LinearCrossEntropyKwargs],
) -> _Tensor: ...


@overload
def linear_cross_entropy(
    hidden: _Tensor,
    weight: _Tensor,
    targets: _Tensor,
    bias: _Tensor | None = ...,
    *,
    return_lse: Literal[True],
    return_stats: Literal[False] = ...,
    **options: Unpack[LinearCrossEntropyKwargs],
) -> tuple[_Tensor, _Tensor]: ...


@overload
def linear_cross_entropy(
    hidden: _Tensor,
    weight: _Tensor,
    targets: _Tensor,
    bias: _Tensor | None = ...,
    *,
    return_lse: bool = ...,
    return_stats: Literal[True],
    **options: Unpack[LinearCrossEntropyKwargs],
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
    temperature: float = 1.0,
    shift: int | bool = 0,
    num_items_in_batch: int | torch.Tensor | None = None,
    return_lse: bool = False,
    return_stats: bool = False,
    chunk_size: int | None = None,
    impl: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor] | LinearCrossEntropyOutput:
    r"""Cross-entropy of a linear layer's logits, without materialising them (formula,
    memory and ``torch.compile`` behaviour: :mod:`crossent.fused.api`).

    Args:
      hidden: ``[..., D]`` floating (16-bit inputs are computed in float32 by the torch
        loop; the Triton loop keeps the logits in the inputs' dtype with float32
        accumulation — float16 logits beyond ±65504 overflow: prefer bfloat16).
      weight: ``[V, D]``, same dtype and device as ``hidden`` (under autocast: any).
      targets: ``[...]`` integer class indices, or ``[..., V]`` probabilities (those may
        require grad: they get ``F.cross_entropy``'s gradient).
      bias: optional ``[V]``.
      ignore_index: class-target value whose rows are skipped.
      label_smoothing: :math:`\varepsilon \in [0, 1]`.
      class_weight: optional ``[V]`` class weights (PyTorch's ``weight=``).
      reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[...]`` per-row losses).
      z_loss: :math:`\zeta \ge 0`, weight of the squared log-partition penalty.
      softcap: optional ``cap > 0``.
      temperature: :math:`T > 0`; the logits are divided by it before the softcap.
      shift: ``s ≥ 0`` (``True``: 1): position ``t`` of the axis before ``D`` predicts
        ``targets[..., t + s]``; the last ``s`` positions are ignored (class targets).
      num_items_in_batch: int or 0-d tensor; the loss is the sum over valid rows divided
        by it (``reduction="mean"`` only; no host synchronisation).
      return_lse: also return the per-row log-sum-exp ``[...]``.
      return_stats: return a :class:`LinearCrossEntropyOutput`: loss, lse, entropy (its
        gradient flows, except on ignored rows), target log-probability and correctness (not
        differentiable). A row is correct when the first index of its largest logit (ties
        broken as ``torch.argmax`` does) is the target class — for probability targets the
        first index of the row's largest probability — and never on an ignored row.
      chunk_size: rows per chunk (default: a 64 MiB logits buffer, at least 256 rows; on
        the Triton path 512 MiB, 128 to 8192 rows).
      impl: ``"auto"`` (Triton for CUDA tensors when available, else chunked torch),
        ``"torch"`` (chunked, any device), ``"triton"`` (CUDA; fused Triton kernels) or
        ``"naive"`` (materialises the logits: the reference).

    Returns:
      The loss (scalar, or ``[...]`` for ``"none"``) in ``hidden``'s dtype; with
      ``return_lse``, ``(loss, lse)``; with ``return_stats``, a ``LinearCrossEntropyOutput``.

    >>> h, W = torch.randn(6, 4), torch.randn(10, 4)
    >>> y = torch.tensor([1, 2, 3, -100, 5, 9])
    >>> fused = linear_cross_entropy(h, W, y, chunk_size=4)
    >>> bool(torch.allclose(fused, torch.nn.functional.cross_entropy(h @ W.T, y), atol=1e-6))
    True
    """
    raw = Options(ignore_index, label_smoothing, z_loss, softcap, temperature, reduction)
    raw = dataclasses.replace(raw, chunk_size=chunk_size, with_stats=return_stats, impl=impl)
    options = check_options(raw, (*IMPLS, "naive"))
    given = Problem(hidden, weight, bias, targets, class_weight)
    runner = _naive if impl == "naive" else _fused
    res = prepare_and_run(given, options, shift, num_items_in_batch, runner)
    if return_stats:
        return res
    return (res.loss, res.lse) if return_lse else res.loss


def _naive(p: Problem, o: Options) -> Result:
    """The materialising reference: plain torch operations (traced as they are)."""
    check_vocabulary(p.weight)
    scalars = {k: getattr(o, k) for k in ReferenceKwargs.__annotations__ if hasattr(o, k)}
    kwargs = cast(ReferenceKwargs, {**scalars, "class_weight": p.class_weight})
    ref = linear_cross_entropy_reference(p.hidden, p.weight, p.targets, p.bias, **kwargs)
    loss = ref.loss.to(ref.lse.dtype) if o.float32_loss else ref.loss
    return Result(loss, ref.lse, Statistics(ref.entropy, ref.target_logprob, ref.correct))


def _fused(p: Problem, options: Options) -> Result:
    """Eagerly through the autograd function; traced, as one custom operator (see
    :mod:`crossent.fused.op`), whose kernel checks the target values."""
    check_vocabulary(p.weight)
    if torch.compiler.is_compiling():
        scalars = tuple(getattr(options, f.name) for f in dataclasses.fields(options))
        loss, lse, entropy, logprob, correct = linear_cross_entropy_op(
            p.hidden, p.weight, p.targets, p.bias, p.class_weight, *scalars
        )
        stats = Statistics(entropy, logprob, correct) if options.with_stats else None
        return Result(loss, lse, stats)
    check_target_values(p.targets, p.weight.shape[0], options.ignore_index, p.class_weight)
    targets_grad = p.targets.is_floating_point() and p.targets.requires_grad
    return run_autograd(p, plan(p.hidden, p.weight.shape[0], options, targets_grad=targets_grad))


def options_from(
    kwargs: LinearCrossEntropyKwargs, *, with_stats: bool, impls: tuple[str, ...]
) -> Options:
    """The validated :class:`Options` of keyword options (defaults as the public function's);
    ``shift`` and ``num_items_in_batch`` are checked too (they act outside the op)."""
    raw = Options(
        kwargs.get("ignore_index", -100),
        kwargs.get("label_smoothing", 0.0),
        kwargs.get("z_loss", 0.0),
        kwargs.get("softcap"),
        kwargs.get("temperature", 1.0),
        kwargs.get("reduction", "mean"),
        kwargs.get("chunk_size"),
        with_stats,
        kwargs.get("impl", "auto"),
    )
    options = check_options(raw, impls)
    check_shift(kwargs.get("shift", 0))
    check_num_items(kwargs.get("num_items_in_batch"), options.reduction)
    return options


def check_keyword_options(kwargs: LinearCrossEntropyKwargs) -> None:
    """Validate a set of options before any call (e.g. a module's, at construction)."""
    options_from(kwargs, with_stats=False, impls=(*IMPLS, "naive"))
