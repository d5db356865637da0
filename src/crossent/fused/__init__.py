"""Large-vocabulary softmax: ``linear_cross_entropy`` without the N×V logits.

Implementations (``impl=``): ``"torch"`` — the chunked PyTorch path for every device
(:mod:`._chunked`); ``"naive"`` — the materialising reference (:mod:`._reference`);
``"auto"`` picks the chunked path (the dispatch point for a CUDA kernel).
"""

from crossent.fused._api import linear_cross_entropy
from crossent.fused._reference import linear_cross_entropy_reference
from crossent.fused._types import LinearCrossEntropyOutput

__all__ = ["LinearCrossEntropyOutput", "linear_cross_entropy", "linear_cross_entropy_reference"]
