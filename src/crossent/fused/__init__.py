"""Large-vocabulary softmax: ``linear_cross_entropy`` without the N×V logits.

Implementations (``impl=``): ``"torch"`` — the chunked PyTorch path for every device
(:mod:`._chunked`); ``"triton"`` — cuBLAS + Triton kernels for CUDA, no workspace beyond
the gradients (:mod:`._triton`); ``"naive"`` — the materialising reference
(:mod:`._reference`); ``"auto"`` picks Triton for CUDA tensors, else the chunked path.
Eager calls go through an autograd function that computes the gradients in the forward
pass (:mod:`._function`); under ``torch.compile`` the loss is a custom operator (:mod:`._op`).
:func:`vocab_parallel_linear_cross_entropy` splits the vocabulary over the ranks of a
``torch.distributed`` group (:mod:`.parallel`).
"""

from crossent.fused._api import linear_cross_entropy
from crossent.fused._reference import linear_cross_entropy_reference
from crossent.fused._types import LinearCrossEntropyOutput
from crossent.fused.parallel import vocab_parallel_linear_cross_entropy

__all__ = [
    "LinearCrossEntropyOutput",
    "linear_cross_entropy",
    "linear_cross_entropy_reference",
    "vocab_parallel_linear_cross_entropy",
]
