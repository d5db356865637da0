"""Input checks of the fused op: every argument's type, shape, dtype, device and values.

Each failure is a ``TypeError`` / ``ValueError`` / ``IndexError`` naming the argument, what was
expected and what came. Shapes are checked before any work; target values (class range,
probabilities ≥ 0) on the host where that is free, and without a host synchronisation on CUDA
(an asynchronous device assert).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from crossent._array import namespace
from crossent._validation import (
    check_class_targets,
    check_class_weight,
    check_probability_entries,
    check_reduction,
    is_int,
    is_real,
)
from crossent.fused.records import Options


def check_inputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None,
    class_weight: torch.Tensor | None,
    ignore_index: int,
) -> None:
    """Types, shapes, dtypes and devices (``V``: the rows of ``weight``)."""
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
    rows = weight.shape[0]
    for name, x in (("weight", weight), ("bias", bias)):
        if x is not None and (x.dtype != hidden.dtype or x.device != hidden.device):
            raise TypeError(
                f"{name}: expected dtype {hidden.dtype} on {hidden.device} like "
                f"hidden, got {x.dtype} on {x.device}"
            )
    for name, x in (("bias", bias), ("class_weight", class_weight)):
        if x is not None and tuple(x.shape) != (rows,):
            raise ValueError(f"{name}: expected shape [{rows}] (V of weight), got {tuple(x.shape)}")
    if class_weight is not None and not class_weight.is_floating_point():
        raise TypeError(f"class_weight: expected a floating tensor, got {class_weight.dtype}")
    if class_weight is not None and class_weight.requires_grad and torch.is_grad_enabled():
        raise ValueError(
            "class_weight: no gradient flows to the class weights (as in F.cross_entropy); "
            "pass class_weight.detach()"
        )
    if targets.device != hidden.device:
        raise TypeError(f"targets: expected device {hidden.device}, got {targets.device}")
    check_target_shape(targets, tuple(hidden.shape[:-1]), rows, ignore_index)


def check_target_shape(
    targets: torch.Tensor, batch: tuple[int, ...], vocab: int, ignore_index: int
) -> None:
    """Class indices ``[...]`` (hidden's batch shape) or probabilities ``[..., V]``."""
    if targets.is_floating_point():
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
        return
    if targets.dtype == torch.bool or targets.is_complex():
        raise TypeError(
            "targets: expected integer class indices or floating probabilities, "
            f"got dtype {targets.dtype}"
        )
    if tuple(targets.shape) != batch:
        raise ValueError(
            f"targets: expected class indices of shape {list(batch)} (hidden's "
            f"batch shape), got {list(targets.shape)}"
        )


def check_vocabulary(weight: torch.Tensor) -> None:
    """A softmax needs at least one class (a vocabulary slice of one rank may be empty)."""
    if weight.shape[0] < 1:
        raise ValueError(
            f"weight: expected at least one class (V >= 1), got shape {list(weight.shape)}"
        )


def check_target_values(
    targets: torch.Tensor,
    vocab: int,
    ignore_index: int,
    class_weight: torch.Tensor | None = None,
) -> None:
    """Probabilities ≥ 0 and not NaN, class indices in ``[0, vocab)``, class weights finite
    and ≥ 0 (as :func:`crossent.softmax_cross_entropy` requires): on CUDA without a host
    synchronisation (an asynchronous device assert), elsewhere with a precise message."""
    if class_weight is not None:
        if class_weight.is_cuda:
            ok = ((class_weight >= 0) & (class_weight < math.inf)).all()  # NaN: False
            torch._assert_async(ok, "class_weight: class weights must be finite and >= 0")
        else:
            check_class_weight(namespace(w=class_weight), class_weight, "class_weight")
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


def check_options(o: Options, impls: tuple[str, ...]) -> Options:
    """The scalar options validated, numbers as Python ``int``/``float`` (NumPy scalars are
    numbers too; ``bool`` is not)."""
    check_reduction(o.reduction)
    check_impl(o.impl, impls)
    if not is_int(o.ignore_index):
        raise TypeError(f"ignore_index: expected an int, got {o.ignore_index!r}")
    if o.chunk_size is not None and (not is_int(o.chunk_size) or o.chunk_size < 1):
        raise ValueError(f"chunk_size: expected None or an int >= 1, got {o.chunk_size!r}")
    if not (is_real(o.label_smoothing) and 0 <= o.label_smoothing <= 1):
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {o.label_smoothing!r}")
    if not (is_real(o.z_loss) and math.isfinite(o.z_loss) and o.z_loss >= 0):
        raise ValueError(f"z_loss: expected a finite number >= 0, got {o.z_loss!r}")
    if o.softcap is not None and not (is_real(o.softcap) and 0 < o.softcap < math.inf):
        raise ValueError(f"softcap: expected None or a finite number > 0, got {o.softcap!r}")
    if not (is_real(o.temperature) and 0 < o.temperature < math.inf):
        raise ValueError(f"temperature: expected a finite number > 0, got {o.temperature!r}")
    return dataclasses.replace(
        o,
        ignore_index=int(o.ignore_index),
        label_smoothing=float(o.label_smoothing),
        z_loss=float(o.z_loss),
        softcap=None if o.softcap is None else float(o.softcap),
        temperature=float(o.temperature),
        chunk_size=None if o.chunk_size is None else int(o.chunk_size),
        with_stats=bool(o.with_stats),
    )


def check_impl(impl: str, choices: tuple[str, ...]) -> None:
    if impl not in choices:
        raise ValueError(f"impl: expected one of {choices}, got {impl!r}")
