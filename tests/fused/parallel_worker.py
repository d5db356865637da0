"""Worker processes of ``test_parallel.py`` (a module of its own so that spawn can import it)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import torch
import torch.distributed as dist
from tests.fused.conftest import make_inputs

from crossent.fused import (
    linear_cross_entropy,
    linear_log_probs,
    vocab_parallel_linear_cross_entropy,
    vocab_parallel_linear_log_probs,
)

N, D, V = 29, 11, 67


def _inputs(case: dict[str, Any]) -> dict[str, torch.Tensor]:
    x = make_inputs(
        N,
        D,
        V,
        prob=case.get("prob", False),
        seed=case.get("seed", 0),
        ignored=case.get("ignored", 0.2),
        target_sharpness=2.0,
    )
    if case.get("prob"):
        p = x["targets"]
        p[:, 40:45] = 0.0  # zeros, and rows whose maximum sits on another rank's slice
        # rows 1-9 peak where the logits do ("correct"), row 0 is all ties: "correct" means
        # the first maximum, class 0, which its logits favour
        x["hidden"][0] = 3 * x["weight"][0]
        z = x["hidden"] @ x["weight"].T + (x["bias"] if case.get("bias") else 0)
        p[1:10] = torch.softmax(3 * z[1:10], -1)
        p[0] = 1.0 / V
    return x


def _run(fn: Any, x: dict[str, torch.Tensor], case: dict[str, Any], shard: slice) -> list[Any]:
    dtype = case.get("dtype", torch.float64)
    h = x["hidden"].to(dtype).reshape(*case.get("batch", (N,)), D).requires_grad_()
    w = x["weight"][shard].to(dtype).requires_grad_()
    b = x["bias"][shard].to(dtype).requires_grad_() if case.get("bias") else None
    kw = dict(case["kw"])
    if kw.pop("class_weight", False):
        kw["class_weight"] = x["class_weight"][shard].to(dtype)
    batch = case.get("batch", (N,))
    y = x["targets"]
    y = y[:, shard].to(dtype).reshape(*batch, -1) if y.is_floating_point() else y.reshape(batch)
    out = fn(h, w, y, b, return_stats=True, **kw)
    loss = out.loss
    up = (
        x["upstream"].reshape(loss.shape).to(dtype)
        if loss.dim()
        else torch.tensor(1.3, dtype=dtype)
    )
    inputs = [h, w] + ([b] if b is not None else [])
    return [*out, *torch.autograd.grad(loss, inputs, up)]


def _init(rank: int, world: int, init_file: str) -> None:
    """A gloo group whose collectives fail after a minute instead of hanging the suite."""
    dist.init_process_group(
        "gloo",
        init_method=f"file://{init_file}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=60),
    )


def worker(rank: int, world: int, init_file: str, cases: list[dict[str, Any]]) -> None:
    torch.set_num_threads(1)
    _init(rank, world, init_file)
    try:
        for case in cases:
            bounds = [0, *case["split"]]
            mine = slice(bounds[rank], bounds[rank + 1])
            x = _inputs(case)
            kw = dict(case["kw"])
            if case.get("explicit"):
                kw.update(vocab_start=mine.start, vocab_size=V)
            ours = _run(vocab_parallel_linear_cross_entropy, x, dict(case, kw=kw), mine)
            whole = _run(
                lambda *a, **k: linear_cross_entropy(*a, impl="naive", **k),
                x,
                dict(case, dtype=torch.float64),
                slice(0, V),
            )
            whole[6] = whole[6][mine]  # this rank's rows of grad_W (and of grad_b)
            if len(whole) > 7:
                whole[7] = whole[7][mine]
            if case.get("prob"):
                assert whole[4][..., :10].all() and not whole[4].all()  # a test that can fail
            tol = case.get("tol", 1e-10)
            names = ("loss", "lse", "entropy", "logprob", "correct", "grad_h", "grad_W", "grad_b")
            for name, a, b in zip(names[: len(ours)], ours, whole, strict=True):
                where = f"{case}: {name}"
                if name == "correct":
                    assert torch.equal(a, b), where
                    continue
                torch.testing.assert_close(
                    a.double(), b, rtol=tol, atol=tol, msg=lambda m, w=where: f"{w}: {m}"
                )
    finally:
        dist.destroy_process_group()


def compiled_worker(rank: int, world: int, init_file: str) -> None:
    """Inside torch.compile the parallel loss runs eagerly (a graph break), same result."""
    torch.set_num_threads(1)
    _init(rank, world, init_file)
    try:
        x = _inputs({"seed": 4})
        mine = slice(rank * V // world, (rank + 1) * V // world)
        h = x["hidden"].clone().requires_grad_()
        w = x["weight"][mine].clone().requires_grad_()

        def step(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            return vocab_parallel_linear_cross_entropy(torch.tanh(h), w, x["targets"]) * 2

        loss = torch.compile(step, backend="aot_eager")(h, w)
        grads = torch.autograd.grad(loss, (h, w))
        h2 = x["hidden"].clone().requires_grad_()
        w2 = x["weight"].clone().requires_grad_()
        ref = linear_cross_entropy(torch.tanh(h2), w2, x["targets"], impl="naive") * 2
        ref_grads = torch.autograd.grad(ref, (h2, w2))
        torch.testing.assert_close(loss, ref)
        torch.testing.assert_close(grads[0], ref_grads[0])
        torch.testing.assert_close(grads[1], ref_grads[1][mine])
        online_checks(rank, world)
    finally:
        dist.destroy_process_group()


def online_checks(rank: int, world: int) -> None:
    """Without statistics the loop takes one all-reduce for (max, sum-exp, target terms),
    combined online: loss and gradients against the float64 single-process ones, for class
    and probability targets, with one slice's logits 200 nats below the other's (its
    gradient share is dropped, its sum-exp still counted) and one row's logits 30 above."""
    split = 40
    for case in ({"seed": 7}, {"seed": 8, "prob": True}):
        x = _inputs(case)
        bias = torch.zeros(V, dtype=torch.float64)
        bias[split:] = -200.0
        bias[3] = 30.0
        mine = slice(0, split) if rank == 0 else slice(split, V)
        results = []
        for fn, shard in (
            (vocab_parallel_linear_cross_entropy, mine),
            (linear_cross_entropy, slice(0, V)),
        ):
            h = x["hidden"].clone().requires_grad_()
            w = x["weight"][shard].clone().requires_grad_()
            y = x["targets"][:, shard] if case.get("prob") else x["targets"]
            kw = {} if fn is vocab_parallel_linear_cross_entropy else {"impl": "naive"}
            loss = fn(h, w, y, bias[shard], reduction="sum", **kw)
            results.append([loss, *torch.autograd.grad(loss, (h, w))])
        results[1][2] = results[1][2][mine]
        for a, b in zip(*results, strict=True):
            torch.testing.assert_close(
                a, b, rtol=1e-10, atol=1e-10, msg=lambda m, c=case: f"{c}: {m}"
            )


def log_probs_worker(rank: int, world: int, init_file: str) -> None:
    """Per-token log-probabilities and entropies, values and gradients for random upstream
    gradients, against the single-process float64 ones."""
    torch.set_num_threads(1)
    _init(rank, world, init_file)
    try:
        x = _inputs({"seed": 6})
        mine = slice(rank * V // world, (rank + 1) * V // world)
        up = torch.randn(2, 1, N, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
        kw = {"return_entropy": True, "temperature": 0.8, "shift": 1}
        results = []
        for fn, shard in ((vocab_parallel_linear_log_probs, mine), (linear_log_probs, slice(0, V))):
            h = x["hidden"].reshape(1, N, D).clone().requires_grad_()
            w = x["weight"][shard].clone().requires_grad_()
            lp, ent = fn(h, w, x["targets"].reshape(1, N), **kw)
            total = (lp * up[0]).sum() + (ent * up[1]).sum()
            results.append([lp, ent, *torch.autograd.grad(total, (h, w))])
        results[1][3] = results[1][3][mine]
        for a, b in zip(*results, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    finally:
        dist.destroy_process_group()


def mismatch_worker(rank: int, world: int, init_file: str) -> None:
    """Ranks with different numbers of rows: every rank gets the same clear error."""
    _init(rank, world, init_file)
    try:
        n = 5 + rank
        with pytest.raises(
            ValueError, match=r"hidden: every rank needs the same rows, got \[5, 6\]"
        ):
            vocab_parallel_linear_cross_entropy(
                torch.randn(n, 3), torch.randn(4, 3), torch.zeros(n, dtype=torch.long)
            )
    finally:
        dist.destroy_process_group()
