"""Math layer against its peers, measured in the same run (ratios; absolute times are noisy).

- softmax_cross_entropy forward+backward, N=8192, C=32000, float32, vs F.cross_entropy
  (plain, and with weight + label smoothing + ignored rows);
- entropy / KL / JS on a large batch of distributions, vs scipy (NumPy) and torch.

Run: .venv/bin/python benchmarks/bench_losses.py
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import spatial, stats

import crossent
from _timing import best_time


def _ce_case(options: dict[str, object]) -> tuple[float, float]:
    g = torch.Generator().manual_seed(0)
    n, c = 8192, 32000
    logits = torch.randn(n, c, generator=g).requires_grad_()
    targets = torch.randint(0, c, (n,), generator=g)
    targets[::5] = -100

    def ours() -> None:
        crossent.softmax_cross_entropy(logits, targets, **options).backward()  # type: ignore[arg-type]

    def peer() -> None:
        F.cross_entropy(logits, targets, **options).backward()  # type: ignore[arg-type]

    return best_time(ours, repeat=3), best_time(peer, repeat=3)


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'case':58s} {'ours':>9s} {'peer':>9s} {'ratio':>6s}")
    cases = {
        "softmax_cross_entropy fwd+bwd 8192x32000 vs F.cross_entropy": {},
        "  + weight, label_smoothing=0.1": {
            "weight": torch.rand(32000),
            "label_smoothing": 0.1,
        },
    }
    for name, options in cases.items():
        ours, peer = _ce_case(options)
        print(f"{name:58s} {ours:9.4f} {peer:9.4f} {ours / peer:6.2f}")

    rng = np.random.default_rng(0)
    p = rng.random((20000, 512))
    p /= p.sum(-1, keepdims=True)
    q = rng.random((20000, 512))
    q /= q.sum(-1, keepdims=True)
    tp, tq = torch.from_numpy(p), torch.from_numpy(q)
    rows = [
        (
            "entropy numpy 20000x512 vs scipy.stats.entropy",
            lambda: crossent.entropy(p),
            lambda: stats.entropy(p, axis=-1),
        ),
        (
            "kl numpy vs scipy.stats.entropy(p, q)",
            lambda: crossent.kl_divergence(p, q),
            lambda: stats.entropy(p, q, axis=-1),
        ),
        (
            "js numpy vs scipy jensenshannon**2",
            lambda: crossent.js_divergence(p, q),
            lambda: spatial.distance.jensenshannon(p, q, axis=-1) ** 2,
        ),
        (
            "kl torch vs F.kl_div(q.log(), p).sum(-1)",
            lambda: crossent.kl_divergence(tp, tq),
            lambda: F.kl_div(tq.log(), tp, reduction="none").sum(-1),
        ),
    ]
    for name, ours_fn, peer_fn in rows:
        ours_t, peer_t = best_time(ours_fn), best_time(peer_fn)
        print(f"{name:58s} {ours_t:9.4f} {peer_t:9.4f} {ours_t / peer_t:6.2f}")


if __name__ == "__main__":
    main()
