"""crossent: the softmax / cross-entropy family, correct, fast and memory-light.

Layer 2 (:mod:`crossent.fused`, loaded on first use because it needs torch):
``linear_cross_entropy`` — the loss of ``hidden @ weight.T`` without the N×V logits — and
``linear_log_probs`` (per-token log-probabilities and entropies, for RL);
:mod:`crossent.nn` has the loss's module form.

Layer 3 (:mod:`crossent.word2vec`, loaded on first use because it needs numba):
skip-gram training, vector files and evaluation.

Layer 1 (this import, NumPy/PyTorch/JAX through one code path): information theory
(:mod:`crossent.info`), stable log-sum-exp and softmax (:mod:`crossent.special`), and the
softmax and binary cross-entropy losses (:mod:`crossent.losses`).

``import crossent`` imports neither torch nor jax: framework support loads when one of
their arrays is passed in.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "linear_cross_entropy",
    "linear_log_probs",
    "log_softmax",
    "logsumexp",
    "softmax",
    "softmax_cross_entropy",
]


_LAZY = {
    "linear_cross_entropy": "crossent.fused",
    "linear_log_probs": "crossent.fused",
    "nn": "crossent.nn",
    "fused": "crossent.fused",
    "word2vec": "crossent.word2vec",
}
_MODULES = ("nn", "fused", "word2vec")


def __getattr__(name: str) -> Any:
    """Load torch-backed parts on first access, so that ``import crossent`` stays light."""
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name in _MODULES else getattr(module, name)
    raise AttributeError(f"module 'crossent' has no attribute {name!r}")
