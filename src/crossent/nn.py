"""torch.nn modules wrapping crossent's losses (imports torch)."""

from __future__ import annotations

import torch

from crossent.fused import linear_cross_entropy


class LinearCrossEntropyLoss(torch.nn.Module):
    r"""Module form of :func:`crossent.linear_cross_entropy` (loss of ``hidden @ weight.T``).

    The options are fixed at construction; ``forward(hidden, weight, targets, bias=None)``
    takes the projection as arguments, so the module composes with an existing
    ``nn.Linear`` head (``loss(h, head.weight, y, head.bias)``) without copying it.

    Shapes: hidden ``[..., D]``, weight ``[V, D]``, targets ``[...]`` or ``[..., V]``.
    Returns the loss (scalar, or ``[...]`` with ``reduction="none"``).

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
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        class_weight: torch.Tensor | None = None,
        reduction: str = "mean",
        z_loss: float = 0.0,
        softcap: float | None = None,
        chunk_size: int | None = None,
        impl: str = "auto",
    ) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        self.z_loss = z_loss
        self.softcap = softcap
        self.chunk_size = chunk_size
        self.impl = impl
        self.class_weight: torch.Tensor | None
        self.register_buffer("class_weight", class_weight)

    def forward(
        self,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        targets: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return linear_cross_entropy(
            hidden,
            weight,
            targets,
            bias,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            class_weight=self.class_weight,
            reduction=self.reduction,
            z_loss=self.z_loss,
            softcap=self.softcap,
            chunk_size=self.chunk_size,
            impl=self.impl,
        )

    def extra_repr(self) -> str:
        return (
            f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}, "
            f"z_loss={self.z_loss}, softcap={self.softcap}, impl={self.impl!r}"
        )
