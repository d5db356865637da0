"""GPU: fused linear cross-entropy against its peers, side by side in one run (bfloat16).

For (N, D, V) in {(8192, 4096, 128256), (8192, 2304, 256000)}: forward+backward time
(median of 5 after warm-up, CUDA events) and peak memory above the inputs
(``max_memory_allocated``, gradients included for everyone) of naive PyTorch,
``torch.compile``d naive, Liger-Kernel's fused linear cross-entropy, Cut Cross-Entropy and
ours (``impl="triton"``). First, accuracy against a float32 truth on a smaller shape.

Run on a CUDA machine with liger-kernel and cut-cross-entropy installed:
    PYTHONPATH=src python3 benchmarks/bench_fused_gpu.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from crossent import linear_cross_entropy

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def peers() -> dict[str, Loss]:
    methods: dict[str, Loss] = {
        "naive": lambda h, w, y: F.cross_entropy(h @ w.T, y),
        "ours": lambda h, w, y: linear_cross_entropy(h, w, y, impl="triton"),  # type: ignore[misc]
    }
    try:
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

        liger = LigerFusedLinearCrossEntropyLoss()
        methods["liger"] = lambda h, w, y: liger(w, h, y)
    except Exception as exc:
        print(f"liger unavailable: {exc!r}")
    try:
        from cut_cross_entropy import linear_cross_entropy as cce

        methods["cce"] = lambda h, w, y: cce(h, w, y)
    except Exception as exc:
        print(f"cce unavailable: {exc!r}")
    return methods


def inputs(
    n: int, d: int, v: int, dtype: torch.dtype = torch.bfloat16
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator(device="cuda").manual_seed(0)
    h = torch.randn(n, d, device="cuda", generator=g).div_(d**0.5).to(dtype).requires_grad_()
    w = torch.randn(v, d, device="cuda", generator=g).mul_(2.0).to(dtype).requires_grad_()
    y = torch.randint(0, v, (n,), device="cuda", generator=g)
    y[::10] = -100
    return h, w, y


def step(
    fn: Loss, h: torch.Tensor, w: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    h.grad = w.grad = None
    loss = fn(h, w, y)
    loss.backward()
    assert h.grad is not None and w.grad is not None
    return loss.detach(), h.grad, w.grad


def accuracy(methods: dict[str, Loss]) -> None:
    h, w, y = inputs(4096, 2048, 32000)
    h32 = h.detach().float().requires_grad_()
    w32 = w.detach().float().requires_grad_()
    truth = step(lambda a, b, c: F.cross_entropy(a @ b.T, c), h32, w32, y)
    print("accuracy vs float32 truth, N=4096 D=2048 V=32000 bf16 (max |err| / max |truth|):")
    print(f"{'method':10s} {'loss':>10s} {'grad_h':>10s} {'grad_W':>10s}")
    for name, fn in methods.items():
        try:
            got = step(fn, h, w, y)
        except Exception as exc:  # report and go on to the next method
            print(f"{name:10s} failed: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        errs = [
            float((g.float() - t).abs().max() / t.abs().max())
            for g, t in zip(got, truth, strict=True)
        ]
        print(f"{name:10s} " + " ".join(f"{e:10.2e}" for e in errs))


def measure(fn: Loss, h: torch.Tensor, w: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    step(fn, h, w, y)  # warm-up: compilation and autotuning are not part of the peak
    h.grad = w.grad = None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step(fn, h, w, y)
    torch.cuda.synchronize()
    peak = (torch.cuda.max_memory_allocated() - base) / 2**30
    times = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        h.grad = w.grad = None
        start.record()
        step(fn, h, w, y)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times), peak


def main() -> None:
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    methods = peers()
    accuracy(methods)
    compile_budget = float(sys.argv[1]) if len(sys.argv) > 1 else 240.0
    started = time.time()
    for n, d, v in ((8192, 4096, 128256), (8192, 2304, 256000)):
        h, w, y = inputs(n, d, v)
        runs = dict(methods)
        if time.time() - started < compile_budget:
            runs["naive+compile"] = torch.compile(methods["naive"])
            runs["ours+compile"] = torch.compile(methods["ours"], fullgraph=True)  # custom op
        print(f"\nN={n} D={d} V={v} bf16, forward+backward")
        floor = (n * d + v * d) * h.element_size() / 2**30  # grad_h + grad_W themselves
        print(f"gradients alone: {floor:.4f} GiB (no method can peak lower)")
        print(
            f"{'method':14s} {'time ms':>9s} {'peak GiB':>9s} {'MiB > grads':>11s} "
            f"{'vs ours t':>9s} {'vs ours m':>9s}"
        )
        results = {}
        for name, fn in runs.items():
            try:
                results[name] = measure(fn, h, w, y)
            except Exception as exc:  # an out-of-memory peer is a result too
                print(f"{name:14s} failed: {type(exc).__name__}: {str(exc)[:120]}")
                torch.cuda.empty_cache()
        ours_t, ours_m = results.get("ours", (float("nan"), float("nan")))  # nan: ours failed
        for name, (t, m) in results.items():
            print(
                f"{name:14s} {t:9.2f} {m:9.4f} {(m - floor) * 1024:11.1f} "
                f"{t / ours_t:9.2f} {m / ours_m:9.2f}"
            )
        del h, w, y
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
