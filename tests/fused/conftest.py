"""Shared inputs of the fused-op tests, and the Triton interpreter where there is no GPU.

:func:`make_inputs` builds one random problem (hidden states, weight, bias, class weights,
targets, per-row upstream gradients) in float64 and converts it; each test module calls it
with its own shape and scales. The spawned workers of ``test_parallel.py`` import it too.
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():  # set before triton is imported
    os.environ.setdefault("TRITON_INTERPRET", "1")


def make_inputs(
    n: int,
    d: int,
    v: int,
    *,
    dtype: torch.dtype = torch.float64,
    prob: bool = False,
    seed: int = 0,
    ignored: float = 0.2,
    weight_scale: float = 1.0,
    bias_scale: float = 1.0,
    target_sharpness: float = 1.0,
    zero_classes: int = 0,
    device: str | torch.device = "cpu",
) -> dict[str, torch.Tensor]:
    """A random problem: ``hidden [n, d]``, ``weight [v, d]`` (entries ``N(0, weight_scale²)``),
    ``bias [v]``, ``class_weight [v]`` in [0.1, 1.1), ``upstream [n]`` and ``targets``: class
    indices with a fraction ``ignored`` set to -100, or (``prob``) rows of
    ``softmax(target_sharpness · N(0, 1))`` whose first ``zero_classes`` entries are exact
    zeros. Floating tensors in ``dtype`` (targets included), all on ``device``."""
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    x = {
        "hidden": torch.randn(n, d, generator=g, dtype=f64),
        "weight": torch.randn(v, d, generator=g, dtype=f64) * weight_scale,
        "bias": torch.randn(v, generator=g, dtype=f64) * bias_scale,
        "class_weight": torch.rand(v, generator=g, dtype=f64) + 0.1,
        "upstream": torch.randn(n, generator=g, dtype=f64),
    }
    if prob:
        y = torch.softmax(torch.randn(n, v, generator=g, dtype=f64) * target_sharpness, -1)
        y[:, :zero_classes] = 0.0
    else:
        y = torch.randint(0, v, (n,), generator=g)
        y[torch.rand(n, generator=g) < ignored] = -100
    x = {k: t.to(dtype) for k, t in x.items()}
    x["targets"] = y.to(dtype) if prob else y
    return {k: t.to(device) for k, t in x.items()}
