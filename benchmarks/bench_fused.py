"""Fused linear cross-entropy vs the naive ``F.cross_entropy(h @ W.T, t)`` on CPU, float32.

Each measurement runs in its own process (so peak memory is that case's own): forward +
backward time (best of ``--repeat``) and peak resident memory above the inputs. The naive
path runs with ``torch.set_flush_denormal(True)`` (its best); ours never touches that flag.
Also: our time with logits of std ~30 (probabilities underflow into subnormals) relative to
our normal case, and our time per chunk size.

Run: .venv/bin/python benchmarks/bench_fused.py [--quick] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

_AVAILABLE_BYTES = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(impl: str, n: int, d: int, v: int, scale: float, repeat: int, chunk: int) -> None:
    import time

    import torch
    import torch.nn.functional as F

    from crossent import linear_cross_entropy

    g = torch.Generator().manual_seed(0)
    # filled in place: no temporaries that would raise the baseline high-water mark
    h = torch.empty(n, d).normal_(std=d**-0.5, generator=g).requires_grad_()
    w = torch.empty(v, d).normal_(std=scale, generator=g).requires_grad_()
    t = torch.randint(0, v, (n,), generator=g)
    if impl.startswith("naive"):
        torch.set_flush_denormal(True)

    def loss(h: torch.Tensor, w: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if impl.startswith("naive"):
            return F.cross_entropy(h @ w.T, t)
        return linear_cross_entropy(h, w, t, chunk_size=chunk or None)  # type: ignore[return-value]

    fn = torch.compile(loss, fullgraph=True) if impl.endswith("compiled") else loss

    def step() -> None:
        h.grad = w.grad = None
        fn(h, w, t).backward()

    if fn is not loss:
        step()  # compilation is not part of the time (it is part of the peak memory)
    base = _peak_rss()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    grads = (h.numel() + w.numel()) * 4
    print(json.dumps({"time": min(times), "extra": _peak_rss() - base, "grads": grads}))


def measure(
    impl: str, n: int, d: int, v: int, *, scale: float = 1.0, repeat: int = 3, chunk: int = 0
) -> dict[str, float] | None:
    if impl.startswith("naive") and 4 * n * v * 4 > 0.8 * _AVAILABLE_BYTES:
        return None  # the naive path would not fit in memory
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        impl,
        str(n),
        str(d),
        str(v),
        str(scale),
        str(repeat),
        str(chunk),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _row(label: str, ours: dict[str, float], naive: dict[str, float] | None) -> str:
    gib = 2**30
    if naive is None:
        return (
            f"{label:28s} {ours['time']:8.3f} {'-':>8s} {'-':>6s} "
            f"{ours['extra'] / gib:8.3f} {'-':>8s} {'-':>6s}  (naive would not fit)"
        )
    return (
        f"{label:28s} {ours['time']:8.3f} {naive['time']:8.3f} "
        f"{ours['time'] / naive['time']:6.2f} {ours['extra'] / gib:8.3f} "
        f"{naive['extra'] / gib:8.3f} {ours['extra'] / naive['extra']:6.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only N=4096, V=32000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    d = 1024
    shapes = (
        [(4096, 32000)]
        if args.quick
        else [(n, v) for v in (32000, 128256) for n in (1024, 4096, 16384)]
    )
    print(
        f"D={d}, float32, forward+backward; time in s, peak memory above inputs in GiB "
        "(gradients included on both sides)"
    )
    print(
        f"{'N x V':28s} {'ours':>8s} {'naive':>8s} {'ratio':>6s} {'ours_mem':>8s} "
        f"{'naive_mem':>8s} {'ratio':>6s}"
    )
    for n, v in shapes:
        rep = args.repeat if n * v <= 4096 * 32000 else 1
        ours = measure("ours", n, d, v, repeat=rep)
        naive = measure("naive", n, d, v, repeat=rep)
        assert ours is not None
        print(_row(f"{n} x {v}", ours, naive), flush=True)
    n, v = 4096, 32000
    normal = measure("ours", n, d, v, repeat=args.repeat)
    large = measure("ours", n, d, v, scale=30.0, repeat=args.repeat)
    naive_large = measure("naive", n, d, v, scale=30.0, repeat=1)
    assert normal and large and naive_large
    print(
        f"logits std ~30, {n} x {v}: ours {large['time']:.3f}s = "
        f"{large['time'] / normal['time']:.2f}x our normal case; naive with flush_denormal "
        f"{naive_large['time']:.3f}s"
    )
    compiled = measure("ours-compiled", n, d, v, repeat=args.repeat)
    naive_compiled = measure("naive-compiled", n, d, v, repeat=args.repeat)
    assert compiled and naive_compiled
    print(
        f"torch.compile(fullgraph=True), {n} x {v}: ours {compiled['time']:.3f}s "
        f"(= {compiled['time'] / normal['time']:.2f}x ours eager; recomputing backward), "
        f"compiled naive {naive_compiled['time']:.3f}s; ratio "
        f"{compiled['time'] / naive_compiled['time']:.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        a = sys.argv[2:]
        worker(a[0], int(a[1]), int(a[2]), int(a[3]), float(a[4]), int(a[5]), int(a[6]))
    else:
        main()
