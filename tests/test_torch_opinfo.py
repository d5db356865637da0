"""PyTorch's own test samples (the OpInfo database that ships with torch) through crossent.

For ``cross_entropy``, ``linear_cross_entropy`` (its three variants), ``binary_cross_entropy
_with_logits``, ``logsumexp``, ``softmax`` and ``log_softmax``, every sample PyTorch tests its
own op with is run through our counterpart (the function and, for the losses, the
``crossent.nn`` module): the values and the gradients with respect to every input that
requires one must agree, and where torch accepts a sample we must too. A difference we make
on purpose is listed in ``DELIBERATE`` with its reason; nothing else may differ.

Error bounds follow the conditioning (:mod:`tests.tolerance`): a few hundred ulps of the
largest magnitude that went in, logits and gradients included (OpInfo draws entries from
[-9, 9], so logits of a linear layer reach several hundred). float64 and float32 samples;
16-bit ones (computed in float32 here, in 16 bits by torch) are compared at their own
precision; the chunked variants of linear_cross_entropy in float64 and float32 only.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from tests.tolerance import ulp_bound

import crossent
import crossent.nn
from crossent.fused import linear_cross_entropy

pytest.importorskip("expecttest")  # torch.testing._internal needs it

DTYPES = [torch.float64, torch.float32, torch.bfloat16, torch.float16]
ULPS = {torch.float64: 256, torch.float32: 256, torch.bfloat16: 8, torch.float16: 16}

DELIBERATE_ADAPTER = (
    "F.cross_entropy has no gradient for its class weights either; crossent refuses a "
    "class_weight that requires grad instead of ignoring it silently, so the adapters pass "
    "it detached"
)


def _negative_class_weight(key: tuple[str, str], sample: Any) -> bool:
    w = sample.kwargs.get("weight")
    losses = ("nn.functional.cross_entropy", "nn.functional.linear_cross_entropy")
    return key[0] in losses and w is not None and bool((w < 0).any())


DELIBERATE: dict[str, tuple[Callable[[tuple[str, str], Any], bool], str]] = {
    # reason: (which samples, the error crossent raises for them instead)
    "negative class weights are refused (a weighted mean over them can divide by zero or "
    "change sign; PyTorch computes it)": (
        _negative_class_weight,
        r"weight: class weights must be >= 0",
    ),
}


@functools.cache
def _op_db() -> dict[tuple[str, str], Any]:
    from torch.testing._internal.common_methods_invocations import op_db

    return {(op.name, op.variant_test_name): op for op in op_db}


def _class_axis(x: torch.Tensor) -> int:
    return 0 if x.ndim == 1 else 1


def _cross_entropy(form: str, x: torch.Tensor, y: torch.Tensor, **kw: Any) -> torch.Tensor:
    if kw.get("weight") is not None:
        kw["weight"] = kw["weight"].detach()  # DELIBERATE_ADAPTER
    if form == "module":
        return crossent.nn.CrossEntropyLoss(**kw)(x, y)
    return crossent.softmax_cross_entropy(x, y, axis=_class_axis(x), **kw)


def _bce(form: str, x: torch.Tensor, y: torch.Tensor, **kw: Any) -> torch.Tensor:
    if form == "module":
        return crossent.nn.BCEWithLogitsLoss(**kw)(x, y)
    return crossent.binary_cross_entropy_with_logits(x, y, **kw)


def _k_dim_as_rows(
    h: torch.Tensor, w: torch.Tensor, y: torch.Tensor, b: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """PyTorch's K-dimensional linear weight ``[C, d1..dK, D]`` (a separate linear layer per
    position ``s``) as one ``[C, S·(D+1)]`` layer over rows ``(n, s)`` whose hidden state is
    ``h_n`` placed in block ``s`` (a 1 after it picks the bias ``b[:, s]``): exactly the same
    logits, built from differentiable operations so the gradients flow back."""
    c, out, d = w.shape[0], tuple(w.shape[1:-1]), w.shape[-1]
    s = 1
    for k in out:
        s *= k
    n = h.shape[0]
    ones = torch.ones(n, 1, dtype=h.dtype)
    blocks = torch.eye(s, dtype=h.dtype)  # [S, S]
    h1 = torch.cat([h, ones], dim=1)  # [N, D+1]
    rows = (blocks[None, :, :, None] * h1[:, None, None, :]).reshape(n * s, s * (d + 1))
    bias = b.reshape(c, s, 1) if b is not None else torch.zeros(c, s, 1, dtype=w.dtype)
    weight = torch.cat([w.reshape(c, s, d), bias], dim=2).reshape(c, s * (d + 1))
    if y.is_floating_point():  # [N, C, d1..dK] -> [(n, s), C]
        targets = y.reshape(n, c, s).transpose(1, 2).reshape(n * s, c)
    else:
        targets = y.reshape(n * s)
    return rows, weight, targets, None


def _linear_cross_entropy(
    form: str,
    h: torch.Tensor,
    w: torch.Tensor,
    y: torch.Tensor,
    *,
    linear_bias: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> torch.Tensor:
    kw: dict[str, Any] = {"reduction": reduction, "label_smoothing": label_smoothing}
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    if weight is not None:
        kw["class_weight"] = weight.detach()  # DELIBERATE_ADAPTER
    if options is not None:  # chunked variants: chunk our rows too
        kw["chunk_size"] = options.batch_chunk_size
    out_shape = tuple(h.shape[:-1]) + tuple(w.shape[1:-1])  # [N, d1..dK] or [N] or []
    if w.ndim > 2:
        h, w, y, linear_bias = _k_dim_as_rows(h, w, y, linear_bias)
    if form == "module":
        out = crossent.nn.LinearCrossEntropyLoss(**kw)(h, w, y, linear_bias)
    else:
        out = linear_cross_entropy(h, w, y, linear_bias, **kw)
    return out.reshape(out_shape) if reduction == "none" else out


def _logsumexp(form: str, x: torch.Tensor, dim: Any, keepdim: bool = False) -> torch.Tensor:
    return crossent.logsumexp(x, axis=dim, keepdims=keepdim)


ADAPTERS: dict[tuple[str, str], Callable[..., torch.Tensor]] = {
    ("nn.functional.cross_entropy", ""): _cross_entropy,
    ("nn.functional.linear_cross_entropy", ""): _linear_cross_entropy,
    ("nn.functional.linear_cross_entropy", "chunked"): _linear_cross_entropy,
    ("nn.functional.linear_cross_entropy", "chunked_none"): _linear_cross_entropy,
    ("nn.functional.binary_cross_entropy_with_logits", ""): _bce,
    ("logsumexp", ""): _logsumexp,
    ("softmax", ""): lambda _, x, dim: crossent.softmax(x, axis=dim),
    ("log_softmax", ""): lambda _, x, dim: crossent.log_softmax(x, axis=dim),
}
LOSSES = {
    "nn.functional.cross_entropy",
    "nn.functional.linear_cross_entropy",
    "nn.functional.binary_cross_entropy_with_logits",
}


def _forms(key: tuple[str, str]) -> tuple[str, ...]:
    """Our function, and for a loss its crossent.nn module too (once: the chunked variants
    of linear_cross_entropy differ from the plain one only in torch's options)."""
    return ("function", "module") if key[0] in LOSSES and not key[1] else ("function",)


# every op in every dtype; the chunked variants of linear_cross_entropy in float64/float32
CASES = [
    (key, dtype)
    for key in ADAPTERS
    for dtype in DTYPES
    if not key[1].startswith("chunked") or dtype in (torch.float64, torch.float32)
]


def _leaves(sample: Any) -> list[torch.Tensor]:
    """The sample's tensors that require grad (input, positional and keyword arguments)."""
    items = [sample.input, *sample.args, *sample.kwargs.values()]
    return [t for t in items if isinstance(t, torch.Tensor) and t.requires_grad]


def _fresh(sample: Any) -> Any:
    """A copy of the sample with new leaf tensors (one autograd graph per side)."""
    return sample.transform(
        lambda t: (
            t.detach().clone().requires_grad_(t.requires_grad) if isinstance(t, torch.Tensor) else t
        )
    )


def _value_and_grads(
    fn: Callable[..., Any], sample: Any, upstream: torch.Tensor | None
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    s = _fresh(sample)
    out = fn(s.input, *s.args, **s.kwargs)
    leaves = _leaves(s)
    if not leaves or not out.requires_grad:
        return out.detach(), []
    grads = torch.autograd.grad(out, leaves, upstream, allow_unused=True)
    return out.detach(), list(grads)


def _compare(ours: Any, ref: Any, bound: float, what: str) -> str | None:
    if ours is None or ref is None:
        return None if ours is None and ref is None else f"{what}: one side has no gradient"
    if tuple(ours.shape) != tuple(ref.shape) or ours.dtype != ref.dtype:
        return f"{what}: shape/dtype {tuple(ours.shape)} {ours.dtype} vs {tuple(ref.shape)} {ref.dtype}"
    try:
        torch.testing.assert_close(ours.double(), ref.double(), rtol=0, atol=bound, equal_nan=True)
    except AssertionError as exc:
        return f"{what}: {str(exc).splitlines()[2:4]}"
    return None


def _run_sample(op: Any, adapter: Callable[..., torch.Tensor], sample: Any) -> list[str]:
    for applies, error in DELIBERATE.values():
        if applies(op_key(op), sample):
            s = _fresh(sample)
            with pytest.raises(ValueError, match=error):  # refused, clearly: see the reason
                adapter("function", s.input, *s.args, **s.kwargs)
            return []
    torch.manual_seed(0)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = op(sample.input, *sample.args, **sample.kwargs)
    upstream = torch.randn(value.shape, dtype=torch.float64).to(value.dtype)
    ref, ref_grads = _torch(op, sample, upstream)
    problems = []
    for which in _forms(op_key(op)):
        try:
            got, grads = _value_and_grads(functools.partial(adapter, which), sample, upstream)
        except Exception as exc:
            problems.append(f"{which} raised {type(exc).__name__}: {exc}")
            continue
        scale = [sample.input, *_leaves(sample), ref, *[g for g in ref_grads if g is not None]]
        bound = ulp_bound(*scale, ulps=ULPS[ref.dtype]) * _terms(sample)
        pairs = [("value", got, ref), *zip(_names(len(grads)), grads, ref_grads, strict=True)]
        problems += filter(None, (_compare(a, b, bound, f"{which} {w}") for w, a, b in pairs))
    return problems


def _torch(
    op: Any, sample: Any, upstream: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """PyTorch's value and gradients: the oracle. Its samples are inputs torch accepts, so an
    error here fails the test; its warnings (e.g. linear_cross_entropy's chunked ``options``
    falling back to the reference path) are torch's business, not a reason to skip."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _value_and_grads(op, sample, upstream)


def op_key(op: Any) -> tuple[str, str]:
    return (op.name, op.variant_test_name)


def _names(n: int) -> list[str]:
    return [f"grad[{i}]" for i in range(n)]


def _terms(sample: Any) -> int:
    """How many terms a sum in the op may add up: the largest dimension (at least 1)."""
    dims = [d for t in (sample.input, *sample.args) if isinstance(t, torch.Tensor) for d in t.shape]
    return max([1, *dims])


@pytest.mark.parametrize(
    ("key", "dtype"), CASES, ids=[f"{'-'.join(filter(None, k))}-{d}" for k, d in CASES]
)
def test_pytorch_opinfo_samples(key: tuple[str, str], dtype: torch.dtype) -> None:
    op = _op_db()[key]
    adapter = ADAPTERS[key]
    report = []
    count = 0
    for i, sample in enumerate(op.sample_inputs("cpu", dtype, requires_grad=True)):
        count += 1
        report += [f"sample {i} {sample.summary()}: {p}" for p in _run_sample(op, adapter, sample)]
    assert count > 0
    assert not report, "\n".join(report[:20])
