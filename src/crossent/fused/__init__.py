"""Large-vocabulary softmax: ``linear_cross_entropy`` without the N×V logits.

Reading order, one way: :mod:`.api` (the public function) → :mod:`.checks` (arguments) →
:mod:`.plan` (which loop, chunk size, vocabulary slice) → :mod:`.autograd` (one autograd
function for every plan, reductions) → :mod:`.loop` (the chunk loop for every torch device)
or :mod:`.triton.runner` (CUDA: cuBLAS + Triton kernels, no workspace beyond the gradients)
→ :mod:`.targets` (the targets as weight vectors over a vocabulary slice) and :mod:`.comm`
(the slice's reductions: none in one process, all-reduces over ``torch.distributed``).
:mod:`.records` holds the values passed between them, :mod:`.outputs` the public result
type, :mod:`.reference` the naive materialising reference, :mod:`.op` the custom operator
used under ``torch.compile``, and :mod:`.parallel` the vocabulary-parallel function (the
shard layout; the same loop with a distributed slice); :mod:`.inputs` adapts what training
loops pass (autocast, the causal shift, token-count normalisation) and :mod:`.log_probs`
gives per-token log-probabilities and entropies for RL.

Implementations (``impl=``): ``"torch"``, ``"triton"``, ``"naive"``; ``"auto"`` picks
Triton for CUDA tensors, else the chunked torch loop.
"""

from crossent.fused.api import LinearCrossEntropyKwargs, linear_cross_entropy
from crossent.fused.log_probs import linear_log_probs, vocab_parallel_linear_log_probs
from crossent.fused.outputs import LinearCrossEntropyOutput
from crossent.fused.parallel import vocab_parallel_linear_cross_entropy
from crossent.fused.reference import linear_cross_entropy_reference

__all__ = [
    "LinearCrossEntropyKwargs",
    "LinearCrossEntropyOutput",
    "linear_cross_entropy",
    "linear_cross_entropy_reference",
    "linear_log_probs",
    "vocab_parallel_linear_cross_entropy",
    "vocab_parallel_linear_log_probs",
]
