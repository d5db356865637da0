"""The math layer under ``torch.compile(fullgraph=True)``: same values and gradients as eager.

While traced, the value checks (NaN, negative probabilities, class range, sums to 1) cannot
run — they need the values — and are skipped; shapes and dtypes are still checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

import crossent

G = torch.Generator().manual_seed(0)
Z = torch.randn(6, 5, generator=G, dtype=torch.float64) * 3
Y = torch.tensor([0, 4, 2, -100, 1, 3])
P = torch.softmax(torch.randn(6, 5, generator=G, dtype=torch.float64), -1)
W = torch.rand(5, generator=G, dtype=torch.float64)

CASES: dict[str, Callable[[torch.Tensor], Any]] = {
    "logsumexp": lambda z: crossent.logsumexp(z, axis=-1),
    "softmax": lambda z: crossent.softmax(z, axis=0),
    "log_softmax": lambda z: crossent.log_softmax(z),
    "softmax_ce": lambda z: crossent.softmax_cross_entropy(
        z, Y, weight=W, label_smoothing=0.1, reduction="sum"
    ),
    "softmax_ce_prob": lambda z: crossent.softmax_cross_entropy(z, P, reduction="none"),
    "bce": lambda z: crossent.binary_cross_entropy_with_logits(z, P, pos_weight=W),
    "entropy": lambda z: crossent.entropy(torch.softmax(z, -1), base=2),
    "cross_entropy": lambda z: crossent.cross_entropy(P, torch.softmax(z, -1)),
    "kl": lambda z: crossent.kl_divergence(P, torch.softmax(z, -1)),
    "js": lambda z: crossent.js_divergence(torch.softmax(z, -1), P),
    "information": lambda z: crossent.information(torch.sigmoid(z)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fullgraph_compile_matches_eager(name: str) -> None:
    fn = CASES[name]
    z1, z2 = Z.clone().requires_grad_(), Z.clone().requires_grad_()
    eager = fn(z1)
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")(z2)
    torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(eager.sum(), z1)
    (g2,) = torch.autograd.grad(compiled.sum(), z2)
    torch.testing.assert_close(g2, g1, rtol=1e-12, atol=1e-12)


def test_inf_rows_keep_scipy_conventions_when_compiled() -> None:
    z = torch.tensor([[0.0, float("inf"), 1.0], [float("-inf"), 0.0, 2.0]])
    eager = crossent.log_softmax(z)
    compiled = torch.compile(crossent.log_softmax, fullgraph=True, backend="aot_eager")(z)
    torch.testing.assert_close(compiled, eager, equal_nan=True)
