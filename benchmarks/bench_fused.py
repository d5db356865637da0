"""Fused linear cross-entropy vs its peers on CPU, float32: the naive
``F.cross_entropy(h @ W.T, t)`` and PyTorch's own chunked
``F.linear_cross_entropy(h, W, t, options=torch.nn.LinearCrossEntropyOptions())`` ("native",
torch >= 2.13, its default options).

Each measurement runs in its own process (so peak memory is that case's own): forward +
backward time (best of ``--repeat``) and peak resident memory above the inputs and the
gradients (which every method allocates alike). The naive path runs with
``torch.set_flush_denormal(True)`` (its best); ours never touches that flag.
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
from collections.abc import Callable

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
        if impl.startswith("native"):  # "native" (default options) or "native-ROWS"
            rows = int(impl.split("-")[1]) if "-" in impl else None
            opts = torch.nn.LinearCrossEntropyOptions(
                **({} if rows is None else {"chunking_method": None, "batch_chunk_size": rows})
            )
            return F.linear_cross_entropy(h, w, t, options=opts)
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


PEERS = ("naive", "native")


def _row(label: str, ours: dict[str, float], peers: dict[str, dict[str, float] | None]) -> str:
    """Times (s) and memory above the gradients (GiB) of ours and each peer, then our ratios."""

    def mem(m: dict[str, float]) -> float:
        return (m["extra"] - m["grads"]) / 2**30

    def each(value: Callable[[dict[str, float]], float], fmt: str) -> list[str]:
        width = int(fmt.split(".")[0])
        return [format(value(p), fmt) if p else "-".rjust(width) for p in peers.values()]

    cells = [f"{label:16s}", f"{ours['time']:8.3f}", *each(lambda p: p["time"], "8.3f")]
    cells += each(lambda p: ours["time"] / p["time"], "6.2f")
    cells += [f"{mem(ours):10.3f}", *each(mem, "10.3f")]
    cells += each(lambda p: mem(ours) / max(mem(p), 1e-9), "6.3f")
    missing = [name for name, p in peers.items() if p is None]
    return " ".join(cells) + (f"  ({', '.join(missing)} would not fit)" if missing else "")


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
    _table(shapes, d, args.repeat)
    _special_cases(d, args.repeat)


def _table(shapes: list[tuple[int, int]], d: int, repeat: int) -> None:
    """Ours against every peer, one row per shape."""
    print(
        f"D={d}, float32, forward+backward; time in s (best of {repeat}), peak memory "
        "above the inputs and the gradients in GiB; ratios are ours / peer"
    )
    names = [f"{x:>8s}" for x in ("ours", *PEERS)]
    ratios = [f"{'/' + x[:5]:>6s}" for x in PEERS]
    mems = [f"{x + ' GiB':>10s}" for x in ("ours", *PEERS)]
    print(" ".join([f"{'N x V':16s}", *names, *ratios, *mems, *ratios]))
    for n, v in shapes:
        rep = repeat if n * v <= 4096 * 32000 else 1
        ours = measure("ours", n, d, v, repeat=rep)
        assert ours is not None
        peers = {name: measure(name, n, d, v, repeat=rep) for name in PEERS}
        print(_row(f"{n} x {v}", ours, peers), flush=True)


def _special_cases(d: int, repeat: int) -> None:
    """At 4096 x 32000: native with our kind of chunk size, large logits, torch.compile."""
    n, v = 4096, 32000
    normal = measure("ours", n, d, v, repeat=repeat)
    tuned = measure("native-512", n, d, v, repeat=repeat)
    large = measure("ours", n, d, v, scale=30.0, repeat=repeat)
    naive_large = measure("naive", n, d, v, scale=30.0, repeat=1)
    compiled = measure("ours-compiled", n, d, v, repeat=repeat)
    naive_compiled = measure("naive-compiled", n, d, v, repeat=repeat)
    assert normal and tuned and large and naive_large and compiled and naive_compiled
    print(
        f"native with 512-row chunks instead of its default, {n} x {v}: "
        f"{tuned['time']:.3f}s, ours {normal['time']:.3f}s, ratio "
        f"{normal['time'] / tuned['time']:.2f}; memory above the gradients "
        f"{(tuned['extra'] - tuned['grads']) / 2**30:.3f} GiB"
    )
    print(
        f"logits std ~30, {n} x {v}: ours {large['time']:.3f}s = "
        f"{large['time'] / normal['time']:.2f}x our normal case; naive with flush_denormal "
        f"{naive_large['time']:.3f}s"
    )
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
