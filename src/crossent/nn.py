"""torch.nn modules wrapping crossent's losses (imports torch).

``CrossEntropyLoss`` and ``BCEWithLogitsLoss`` take PyTorch's constructor and call
signatures (classes on dim 1), so they replace ``torch.nn``'s modules in existing code;
``LinearCrossEntropyLoss`` is the module form of the fused large-vocabulary loss.
"""

from __future__ import annotations

import warnings

import torch
from typing_extensions import Unpack

from crossent._validation import as_int, check_label_smoothing, check_reduction
from crossent.fused import (
    LinearCrossEntropyKwargs,
    LinearCrossEntropyOutput,
    linear_cross_entropy,
)
from crossent.fused.api import check_keyword_options
from crossent.losses import binary_cross_entropy_with_logits, softmax_cross_entropy


class LinearCrossEntropyLoss(torch.nn.Module):
    r"""Module form of :func:`crossent.linear_cross_entropy` (loss of ``hidden @ weight.T``).

    Every option of the function is fixed at construction (``class_weight`` becomes a
    buffer, so it follows ``.to(device)``); ``forward(hidden, weight, targets, bias=None)``
    takes the projection as arguments, so the module composes with an existing
    ``nn.Linear`` head (``loss(h, head.weight, y, head.bias)``) without copying it.

    Shapes: hidden ``[..., D]``, weight ``[V, D]``, targets ``[...]`` or ``[..., V]``.
    Returns the loss (scalar, or ``[...]`` with ``reduction="none"``); with
    ``return_lse=True`` the pair ``(loss, lse)`` (``lse [...]``, the per-row log-sum-exp);
    with ``return_stats=True`` a :class:`~crossent.fused.LinearCrossEntropyOutput`, as the
    function returns them.

    >>> import torch
    >>> loss = LinearCrossEntropyLoss(label_smoothing=0.1)
    >>> head = torch.nn.Linear(8, 50)
    >>> value = loss(torch.randn(4, 8), head.weight, torch.tensor([1, 2, 3, 4]), head.bias)
    >>> value.shape
    torch.Size([])
    """

    def __init__(
        self,
        *,
        return_lse: bool = False,
        return_stats: bool = False,
        **options: Unpack[LinearCrossEntropyKwargs],
    ) -> None:
        super().__init__()
        known = LinearCrossEntropyKwargs.__annotations__
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(
                f"LinearCrossEntropyLoss: unknown option {unknown[0]!r}; expected some of "
                f"{sorted(known)}, or return_lse, return_stats"
            )
        for name, flag in (("return_lse", return_lse), ("return_stats", return_stats)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name}: expected a bool, got {flag!r}")
        check_keyword_options(options)
        self.class_weight: torch.Tensor | None
        self.register_buffer("class_weight", options.pop("class_weight", None))
        self.options = options
        self.return_lse = return_lse
        self.return_stats = return_stats

    def forward(
        self,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        targets: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor] | LinearCrossEntropyOutput:
        options: LinearCrossEntropyKwargs = {**self.options, "class_weight": self.class_weight}
        if self.return_stats:
            return linear_cross_entropy(hidden, weight, targets, bias, return_stats=True, **options)
        if self.return_lse:
            return linear_cross_entropy(hidden, weight, targets, bias, return_lse=True, **options)
        return linear_cross_entropy(hidden, weight, targets, bias, **options)

    def extra_repr(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.options.items()]
        flags = [f"{k}=True" for k in ("return_lse", "return_stats") if getattr(self, k)]
        return ", ".join([*shown, *flags])


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce are deprecated (as in PyTorch); use reduction= instead",
        DeprecationWarning,
        stacklevel=3,
    )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _class_axis(input: torch.Tensor) -> int:
    """PyTorch's class dimension: 0 for an unbatched ``[C]``, else 1 (``[N, C, d1, ...]``)."""
    return 0 if input.ndim == 1 else 1


class CrossEntropyLoss(torch.nn.Module):
    r"""Drop-in for ``torch.nn.CrossEntropyLoss`` on :func:`crossent.softmax_cross_entropy`.

    Same constructor and call as PyTorch's: ``CrossEntropyLoss(weight=None, size_average=None,
    ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0)`` (``weight`` is
    the first positional argument; ``size_average``/``reduce`` are deprecated, as in
    PyTorch) and ``loss(input, target)``, classes on dim 1.

    Shapes: input ``[C]``, ``[N, C]`` or ``[N, C, d1, ...]``; target class indices of input's
    shape without the class dim (any integer dtype), or probabilities of input's shape.
    Returns a scalar, or the per-element losses ``[N, d1, ...]`` with ``reduction="none"``.

    Differences from PyTorch (all documented in :func:`crossent.softmax_cross_entropy`):
    targets of any integer dtype (PyTorch: int64 and uint8 only); the mean over no
    non-ignored row is 0 with zero gradient (PyTorch: NaN); class weights must be finite and
    >= 0, and an undefined weighted mean raises ValueError (PyTorch: NaN); label smoothing
    outside [0, 1] raises; 16-bit inputs are accumulated in float32.

    >>> import torch
    >>> loss = CrossEntropyLoss(torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
    >>> x, y = torch.randn(4, 3, 5), torch.tensor([[0, 1, 2, 1, 0]] * 4)
    >>> ref = torch.nn.CrossEntropyLoss(torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
    >>> torch.allclose(loss(input=x, target=y), ref(x, y))
    True
    """

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)
        check_reduction(self.reduction)
        self.ignore_index = as_int(ignore_index, "ignore_index")
        self.label_smoothing = check_label_smoothing(label_smoothing)
        self.weight: torch.Tensor | None
        self.register_buffer("weight", weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = softmax_cross_entropy(
            input,
            target,
            axis=_class_axis(input),
            weight=self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )
        return out

    def extra_repr(self) -> str:
        return (
            f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}"
        )


class BCEWithLogitsLoss(torch.nn.Module):
    r"""Drop-in for ``torch.nn.BCEWithLogitsLoss`` on
    :func:`crossent.binary_cross_entropy_with_logits`.

    Same constructor and call as PyTorch's: ``BCEWithLogitsLoss(weight=None,
    size_average=None, reduce=None, reduction="mean", pos_weight=None)`` and
    ``loss(input, target)``.

    Shapes: input ``[...]``; target probabilities in [0, 1] of input's shape; ``weight`` and
    ``pos_weight`` broadcast to input's shape (``pos_weight`` typically ``[C]`` against
    ``[N, C]``). Returns a scalar, or input's shape with ``reduction="none"``.

    Differences from PyTorch: targets outside [0, 1], NaN weights and weights that would
    enlarge the input by broadcasting raise; the mean over an empty input is 0 (PyTorch:
    NaN); 16-bit inputs are accumulated in float32.

    >>> import torch
    >>> x, y = torch.randn(4, 3), torch.rand(4, 3)
    >>> loss = BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))
    >>> ref = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))
    >>> torch.allclose(loss(x, y), ref(input=x, target=y))
    True
    """

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)
        check_reduction(self.reduction)
        self.weight: torch.Tensor | None
        self.pos_weight: torch.Tensor | None
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = binary_cross_entropy_with_logits(
            input, target, weight=self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )
        return out

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
