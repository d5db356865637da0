"""torch.nn modules wrapping crossent's losses (imports torch)."""

from __future__ import annotations

import torch
from typing_extensions import Unpack

from crossent.fused import (
    LinearCrossEntropyKwargs,
    LinearCrossEntropyOutput,
    linear_cross_entropy,
)


class LinearCrossEntropyLoss(torch.nn.Module):
    r"""Module form of :func:`crossent.linear_cross_entropy` (loss of ``hidden @ weight.T``).

    Every option of the function is fixed at construction (``class_weight`` becomes a
    buffer, so it follows ``.to(device)``); ``forward(hidden, weight, targets, bias=None)``
    takes the projection as arguments, so the module composes with an existing
    ``nn.Linear`` head (``loss(h, head.weight, y, head.bias)``) without copying it.

    Shapes: hidden ``[..., D]``, weight ``[V, D]``, targets ``[...]`` or ``[..., V]``.
    Returns the loss (scalar, or ``[...]`` with ``reduction="none"``), or with
    ``return_stats=True`` a :class:`~crossent.fused.LinearCrossEntropyOutput`.

    >>> import torch
    >>> loss = LinearCrossEntropyLoss(label_smoothing=0.1)
    >>> head = torch.nn.Linear(8, 50)
    >>> value = loss(torch.randn(4, 8), head.weight, torch.tensor([1, 2, 3, 4]), head.bias)
    >>> value.shape
    torch.Size([])
    """

    def __init__(
        self, *, return_stats: bool = False, **options: Unpack[LinearCrossEntropyKwargs]
    ) -> None:
        super().__init__()
        known = LinearCrossEntropyKwargs.__annotations__
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(
                f"LinearCrossEntropyLoss: unknown option {unknown[0]!r}; expected some of "
                f"{sorted(known)}, or return_stats"
            )
        self.class_weight: torch.Tensor | None
        self.register_buffer("class_weight", options.pop("class_weight", None))
        self.options = options
        self.return_stats = return_stats

    def forward(
        self,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        targets: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor | LinearCrossEntropyOutput:
        options: LinearCrossEntropyKwargs = {**self.options, "class_weight": self.class_weight}
        if self.return_stats:
            return linear_cross_entropy(hidden, weight, targets, bias, return_stats=True, **options)
        return linear_cross_entropy(hidden, weight, targets, bias, **options)

    def extra_repr(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.options.items()]
        return ", ".join([*shown, *(["return_stats=True"] if self.return_stats else [])])
