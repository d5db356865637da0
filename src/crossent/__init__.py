"""crossent: the softmax / cross-entropy family, correct, fast and memory-light.

Layer 1 (this import, NumPy/PyTorch/JAX through one code path): information theory
(:mod:`crossent.info`), stable log-sum-exp and softmax (:mod:`crossent.special`), and the
softmax and binary cross-entropy losses (:mod:`crossent.losses`).

``import crossent`` imports neither torch nor jax: framework support loads when one of
their arrays is passed in.
"""

from __future__ import annotations

from crossent.info import cross_entropy, entropy, information, js_divergence, kl_divergence
from crossent.losses import binary_cross_entropy_with_logits, softmax_cross_entropy
from crossent.special import log_softmax, logsumexp, softmax

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "entropy",
    "information",
    "js_divergence",
    "kl_divergence",
    "log_softmax",
    "logsumexp",
    "softmax",
    "softmax_cross_entropy",
]
