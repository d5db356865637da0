"""The fused op where models are trained: temperature, causal shift, num_items_in_batch,
autocast, RL log-probabilities and entropies, non-finite ignored rows, soft targets that
require grad. Oracles: float64 ``torch.nn.functional`` on materialised logits."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tests.fused.conftest import make_inputs

import crossent
from crossent.fused import linear_cross_entropy, linear_log_probs
from crossent.nn import LinearCrossEntropyLoss

B, S, D, V = 2, 13, 7, 31  # rows B·S, none a multiple of the chunk


def _problem(seed: int = 0, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    x = make_inputs(B * S, D, V, dtype=dtype, seed=seed, weight_scale=0.8)
    x["hidden"] = x["hidden"].reshape(B, S, D)
    x["targets"] = x["targets"].reshape(B, S)
    x["upstream"] = x["upstream"].reshape(B, S)
    return x


def _oracle(
    h: torch.Tensor,
    w: torch.Tensor,
    y: torch.Tensor,
    b: torch.Tensor | None,
    *,
    temperature: float = 1.0,
    softcap: float | None = None,
    shift: int = 0,
    label_smoothing: float = 0.0,
    class_weight: torch.Tensor | None = None,
    z_loss: float = 0.0,
    reduction: str = "mean",
    num_items: int | None = None,
) -> torch.Tensor:
    """Materialised logits, ``F.cross_entropy`` and the z-loss, written out independently."""
    z = h @ w.T + (0 if b is None else b)
    z = z / temperature
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    if shift:
        y = torch.cat([y[..., shift:], torch.full_like(y[..., :shift], -100)], -1)
    flat_z, flat_y = z.reshape(-1, V), y.reshape(-1)
    red = "sum" if num_items is not None else reduction
    ce = F.cross_entropy(
        flat_z, flat_y, weight=class_weight, label_smoothing=label_smoothing, reduction=red
    )
    valid = flat_y != -100
    zl = torch.where(valid, z_loss * torch.logsumexp(flat_z, -1) ** 2, 0.0)
    if num_items is not None:
        return (ce + zl.sum()) / num_items
    if reduction == "none":
        return (ce + zl).reshape(y.shape)
    if reduction == "sum":
        return ce + zl.sum()
    return ce + zl.sum() / valid.sum().clamp(min=1)


def _loss_and_grads(fn: Any, x: dict[str, torch.Tensor], kw: dict[str, Any]) -> list[torch.Tensor]:
    h, w, b = (x[k].clone().requires_grad_() for k in ("hidden", "weight", "bias"))
    loss = fn(h, w, x["targets"], b, **kw)
    up = x["upstream"] if loss.dim() else torch.tensor(1.7, dtype=loss.dtype)
    return [loss.detach(), *torch.autograd.grad(loss, (h, w, b), up)]


OPTIONS = [
    {"temperature": 0.6},
    {"shift": 1},
    {"shift": True, "temperature": 1.7, "softcap": 3.0},
    {"shift": 3, "label_smoothing": 0.1, "class_weight": True, "z_loss": 1e-2},
    {"num_items": 17, "shift": 1, "label_smoothing": 0.05, "softcap": 2.0},
    {"num_items": 9, "class_weight": True, "z_loss": 1e-3, "temperature": 0.8},
]


@pytest.mark.parametrize(
    ("opts", "reduction", "impl"),
    [
        (o, r, i)
        for o, r, i in itertools.product(OPTIONS, ["mean", "sum", "none"], ["torch", "triton"])
        if "num_items" not in o or r == "mean"
    ],
)
def test_options_alone_and_combined_match_the_oracle(
    opts: dict[str, Any], reduction: str, impl: str
) -> None:
    if impl == "triton":
        pytest.importorskip("triton")
    dtype = torch.float64 if impl == "torch" else torch.float32
    x = _problem(seed=len(str(opts)), dtype=dtype)
    kw = dict(opts, reduction=reduction)
    if kw.pop("class_weight", False):
        kw["class_weight"] = x["class_weight"]
    n = kw.pop("num_items", None)
    ours = _loss_and_grads(
        lambda *a, **k: linear_cross_entropy(
            *a, num_items_in_batch=n, impl=impl, chunk_size=8, **k
        ),
        x,
        kw,
    )
    x64 = {k: v.double() if v.is_floating_point() else v for k, v in x.items()}
    kw64 = {k: v.double() if isinstance(v, torch.Tensor) else v for k, v in kw.items()}
    ref = _loss_and_grads(lambda *a, **k: _oracle(*a, num_items=n, **k), x64, kw64)
    tol = 1e-9 if dtype == torch.float64 else 2e-5
    for a, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(a.double(), r, rtol=tol, atol=tol)


def test_gradient_accumulation_with_num_items_adds_up_to_the_full_batch() -> None:
    x = _problem(seed=3)
    y = x["targets"]
    total = int((y[:, 1:] != -100).sum())
    w = x["weight"].clone().requires_grad_()
    for i in range(B):  # two micro-batches, each normalised by the whole step's count
        part = linear_cross_entropy(x["hidden"][i], w, y[i], shift=1, num_items_in_batch=total)
        part.backward()
    full = x["weight"].clone().requires_grad_()
    F.cross_entropy((x["hidden"][:, :-1] @ full.T).reshape(-1, V), y[:, 1:].reshape(-1)).backward()
    torch.testing.assert_close(w.grad, full.grad, rtol=1e-10, atol=1e-12)


def test_num_items_as_a_tensor_and_zero_items() -> None:
    x = _problem()
    n = torch.tensor(11)
    loss = linear_cross_entropy(x["hidden"], x["weight"], x["targets"], num_items_in_batch=n)
    ref = _oracle(x["hidden"], x["weight"], x["targets"], None, num_items=11)
    torch.testing.assert_close(loss, ref)
    y = torch.full_like(x["targets"], -100)
    zero = linear_cross_entropy(x["hidden"], x["weight"], y, num_items_in_batch=0)
    assert float(zero) == 0.0


def _log_prob_oracle(
    h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor, t: float, shift: int
) -> tuple[torch.Tensor, torch.Tensor]:
    logp = torch.log_softmax((h @ w.T + b) / t, -1)
    if shift:
        y = torch.cat([y[..., shift:], torch.full_like(y[..., :shift], -100)], -1)
    valid = y != -100
    picked = logp.gather(-1, y.clamp(min=0)[..., None])[..., 0]
    entropy = -(logp.exp() * logp).sum(-1)
    return torch.where(valid, picked, 0.0), torch.where(valid, entropy, 0.0)


@pytest.mark.parametrize(
    ("impl", "shift", "temperature"), [("torch", 0, 1.0), ("torch", 1, 0.7), ("triton", 1, 1.3)]
)
def test_log_probs_and_entropy_with_random_upstream_gradients(
    impl: str, shift: int, temperature: float
) -> None:
    if impl == "triton":
        pytest.importorskip("triton")
    dtype = torch.float64 if impl == "torch" else torch.float32
    x = _problem(seed=5, dtype=dtype)
    g = torch.Generator().manual_seed(9)
    up_lp, up_h = (torch.randn(B, S, generator=g, dtype=torch.float64) for _ in range(2))

    def run(fn: Any, xs: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        h, w, b = (xs[k].clone().requires_grad_() for k in ("hidden", "weight", "bias"))
        lp, ent = fn(h, w, xs["targets"], b)
        total = (lp.double() * up_lp).sum() + (ent.double() * up_h).sum()
        return [lp.detach(), ent.detach(), *torch.autograd.grad(total, (h, w, b))]

    kw = {"temperature": temperature, "shift": shift, "return_entropy": True}
    ours = run(lambda *a: linear_log_probs(*a, impl=impl, chunk_size=8, **kw), x)
    x64 = {k: v.double() if v.is_floating_point() else v for k, v in x.items()}
    ref = run(lambda *a: _log_prob_oracle(*a, temperature, shift), x64)
    tol = 1e-9 if dtype == torch.float64 else 3e-5
    for a, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(a.double(), r, rtol=tol, atol=tol)
    assert (ours[0][:, -shift:] == 0).all() if shift else True


def test_log_probs_gradcheck() -> None:
    g = torch.Generator().manual_seed(2)
    h = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(6, 3, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.tensor([1, 5, -100, 0, 2])

    def f(h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return linear_log_probs(h, w, y, temperature=0.9, softcap=2.0, return_entropy=True)

    assert torch.autograd.gradcheck(f, (h, w))


def test_autocast_on_cpu_matches_f_linear_under_autocast() -> None:
    x = _problem(seed=7, dtype=torch.float32)
    h = x["hidden"].bfloat16().requires_grad_()
    w = x["weight"].clone().requires_grad_()  # float32, as an lm_head under autocast
    y = x["targets"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = linear_cross_entropy(h, w, y)
        torch_loss = F.cross_entropy(F.linear(h, w).reshape(-1, V), y.reshape(-1))
    assert ours.dtype == torch.float32 == torch_loss.dtype
    (gh, gw) = torch.autograd.grad(ours, (h, w))
    assert gh.dtype == torch.bfloat16 and gw.dtype == torch.float32
    # truth: float64 from the bf16-rounded inputs autocast multiplies
    truth = _oracle(h.detach().double(), w.detach().bfloat16().double(), y, None).item()
    err_ours, err_torch = abs(ours.item() - truth), abs(torch_loss.item() - truth)
    assert err_ours <= err_torch + 1e-6
    with pytest.raises(TypeError, match="weight: expected dtype torch.bfloat16"):
        linear_cross_entropy(h, w, y)  # outside autocast a mismatch stays an error


def test_non_finite_hidden_state_of_an_ignored_row_does_not_reach_the_loss() -> None:
    x = _problem(seed=1)
    h = x["hidden"].clone()
    y = x["targets"].clone()
    y[0, 4] = -100
    h[0, 4] = float("nan")
    h[1, 2] = float("inf")
    y[1, 2] = -100
    for impl in ("torch", "naive"):
        hh = h.clone().requires_grad_()
        loss = linear_cross_entropy(hh, x["weight"], y, reduction="sum", impl=impl)
        (grad,) = torch.autograd.grad(loss, hh)
        ref = F.cross_entropy((h @ x["weight"].T).reshape(-1, V), y.reshape(-1), reduction="sum")
        torch.testing.assert_close(loss, ref)
        if impl == "torch":
            assert grad[0, 4].eq(0).all() and grad[1, 2].eq(0).all()
            assert torch.isfinite(grad).all()


def test_probability_targets_that_require_grad_get_their_gradient() -> None:
    x = make_inputs(19, D, V, prob=True, seed=4)
    for impl, smoothing in itertools.product(("torch", "auto"), (0.0, 0.2)):
        y = x["targets"].clone().requires_grad_()
        cw = x["class_weight"]
        kw = {"label_smoothing": smoothing, "weight": cw}
        ours = linear_cross_entropy(
            x["hidden"], x["weight"], y, class_weight=cw, label_smoothing=smoothing, impl=impl
        )
        (g_ours,) = torch.autograd.grad(ours * 1.3, y)
        y2 = x["targets"].clone().requires_grad_()
        ref = F.cross_entropy(x["hidden"] @ x["weight"].T, y2, **kw)
        (g_ref,) = torch.autograd.grad(ref * 1.3, y2)
        torch.testing.assert_close(g_ours, g_ref)


def test_module_exposes_every_option() -> None:
    x = _problem(seed=2)
    module = LinearCrossEntropyLoss(temperature=0.5, shift=1, return_stats=True, chunk_size=5)
    out = module(x["hidden"], x["weight"], x["targets"])
    ref = linear_cross_entropy(
        x["hidden"], x["weight"], x["targets"], temperature=0.5, shift=1, return_stats=True
    )
    torch.testing.assert_close(out.loss, ref.loss)
    torch.testing.assert_close(out.entropy, ref.entropy)
    assert "temperature=0.5" in repr(module)
    with pytest.raises(TypeError, match="unknown option 'temprature'"):
        LinearCrossEntropyLoss(temprature=0.5)  # type: ignore[call-arg]


def test_numpy_scalars_are_numbers() -> None:
    x = _problem()
    a = linear_cross_entropy(
        x["hidden"],
        x["weight"],
        x["targets"],
        label_smoothing=np.float32(0.25),
        chunk_size=np.int64(7),
        temperature=np.float64(0.5),
    )
    b = linear_cross_entropy(
        x["hidden"], x["weight"], x["targets"], label_smoothing=0.25, temperature=0.5
    )
    torch.testing.assert_close(a, b)
    assert crossent.linear_log_probs is linear_log_probs


@pytest.mark.parametrize(
    ("kw", "exc", "pattern"),
    [
        ({"temperature": 0.0}, ValueError, r"temperature: expected a finite number > 0, got 0.0"),
        ({"temperature": float("inf")}, ValueError, "temperature: expected a finite number > 0"),
        ({"shift": -1}, ValueError, r"shift: expected an int >= 0 or a bool, got -1"),
        ({"shift": 1.5}, ValueError, "shift: expected an int >= 0"),
        ({"num_items_in_batch": 3, "reduction": "none"}, ValueError, "only with reduction='mean'"),
        ({"num_items_in_batch": 2.5}, TypeError, "num_items_in_batch: expected an int or a 0-d"),
        ({"num_items_in_batch": -1}, ValueError, "num_items_in_batch: expected a count >= 0"),
        ({"num_items_in_batch": torch.ones(2)}, ValueError, "a 0-d real tensor"),
        ({"chunk_size": True}, ValueError, "chunk_size: expected None or an int >= 1"),
        ({"label_smoothing": True}, ValueError, "label_smoothing: expected a number in"),
    ],
)
def test_bad_training_options(kw: dict[str, Any], exc: type[Exception], pattern: str) -> None:
    x = _problem()
    with pytest.raises(exc, match=pattern):
        linear_cross_entropy(x["hidden"], x["weight"], x["targets"], **kw)


def test_shift_needs_class_targets_and_log_probs_need_class_targets() -> None:
    x = make_inputs(6, D, V, prob=True)
    with pytest.raises(ValueError, match="shift: only class-index targets can be shifted"):
        linear_cross_entropy(x["hidden"], x["weight"], x["targets"], shift=1)
    with pytest.raises(TypeError, match="targets: expected integer class indices"):
        linear_log_probs(x["hidden"], x["weight"], x["targets"])


def test_log_probs_and_training_options_under_torch_compile() -> None:
    x = _problem(seed=8, dtype=torch.float32)
    g = torch.Generator().manual_seed(1)
    up = torch.randn(2, B, S, generator=g)

    def step(h: torch.Tensor, w: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        lp, ent = linear_log_probs(h, w, y, temperature=0.8, shift=1, return_entropy=True)
        loss = linear_cross_entropy(h, w, y, shift=1, num_items_in_batch=torch.tensor(7))
        return (lp * up[0]).sum() + (ent * up[1]).sum() + loss

    results = []
    for fn in (step, torch.compile(step, fullgraph=True, backend="aot_eager")):
        h, w = x["hidden"].clone().requires_grad_(), x["weight"].clone().requires_grad_()
        total = fn(h, w, x["targets"])
        results.append([total.detach(), *torch.autograd.grad(total, (h, w))])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
