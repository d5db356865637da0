"""Vocabulary-parallel loss on CPU (gloo): W split over 2 processes vs one process.

Forward + backward of ``vocab_parallel_linear_cross_entropy`` with each of 2 ranks holding
half of W's rows (one thread each), against ``linear_cross_entropy`` in one process with the
whole W (1 thread, then 2 threads), in the same run. The loss and grad_h must agree.

Run: .venv/bin/python benchmarks/bench_parallel.py [N D V]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from crossent.fused import linear_cross_entropy, vocab_parallel_linear_cross_entropy

REPEAT = 3


def _inputs(n: int, d: int, v: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(n, d, generator=g) / d**0.5
    w = torch.randn(v, d, generator=g)
    return h, w, torch.randint(0, v, (n,), generator=g)


def _time(fn: object) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _rank(rank: int, world: int, tmp: str, shape: tuple[int, int, int]) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{tmp}/store", rank=rank, world_size=world)
    n, d, v = shape
    h, w, y = _inputs(n, d, v)
    rows = slice(rank * v // world, (rank + 1) * v // world)
    h = h.requires_grad_()
    w_r = w[rows].clone().requires_grad_()

    def step() -> None:
        h.grad = w_r.grad = None
        dist.barrier()
        vocab_parallel_linear_cross_entropy(h, w_r, y).backward()

    step()  # warm-up
    t = _time(step)
    if rank == 0:
        assert h.grad is not None
        torch.save((t, h.grad), f"{tmp}/rank0.pt")
    dist.destroy_process_group()


def main() -> None:
    n, d, v = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (4096, 1024, 32000)
    h, w, y = _inputs(n, d, v)
    h.requires_grad_()
    w.requires_grad_()

    def single() -> None:
        h.grad = w.grad = None
        linear_cross_entropy(h, w, y).backward()

    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        single()
        results[threads] = _time(single)
    assert h.grad is not None
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_rank, args=(2, tmp, (n, d, v)), nprocs=2, join=True)
        par, grad_h = torch.load(f"{tmp}/rank0.pt")
    err = float((grad_h - h.grad).abs().max())
    print(f"N={n} D={d} V={v} float32, forward+backward, median of {REPEAT}")
    print(f"one process, 1 thread : {results[1]:.3f} s")
    print(f"one process, 2 threads: {results[2]:.3f} s")
    print(
        f"2 ranks x 1 thread    : {par:.3f} s  (ratio vs 1 process 2 threads: "
        f"{par / results[2]:.2f}, vs 1 thread: {par / results[1]:.2f}); max |grad_h diff| {err:.1e}"
    )


if __name__ == "__main__":
    main()
