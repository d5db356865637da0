"""logsumexp / softmax / log_softmax against SciPy, on NumPy and torch, edge inputs included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import special
from tests.tolerance import assert_close_to_inputs, ulp_bound

import crossent

INF = np.inf
EDGE_ROWS = [
    [-INF, -INF],
    [INF, -INF],
    [INF, INF],
    [1000.0, -1000.0, 0.0],
    [-1e4, -1e4],
    [0.0, 0.0, 0.0],
    [3.0],
    [-INF, 2.0, 5.0],
]


@pytest.mark.parametrize("row", EDGE_ROWS)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_edge_rows_match_scipy(row: list[float], backend: str) -> None:
    x = np.array(row)
    with np.errstate(all="ignore"):
        expected = (special.logsumexp(x), special.softmax(x), special.log_softmax(x))
    arg = torch.tensor(x) if backend == "torch" else x
    got = (crossent.logsumexp(arg), crossent.softmax(arg), crossent.log_softmax(arg))
    for g, e in zip(got, expected, strict=True):
        assert_close_to_inputs(g, e, x)


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_random_axes_match_scipy(rng: np.random.Generator, axis: int, backend: str) -> None:
    """Error bounds follow the conditioning: logsumexp and log_softmax (``x - lse``, which
    cancels to near 0 for the largest entry) err by a few ulps of max|x|, absolutely;
    softmax = exp(log_softmax) turns that absolute error into a relative one."""
    x = rng.normal(scale=20.0, size=(3, 5, 7))
    arg = torch.tensor(x) if backend == "torch" else x
    assert_close_to_inputs(crossent.logsumexp(arg, axis=axis), special.logsumexp(x, axis=axis), x)
    np.testing.assert_allclose(
        np.asarray(crossent.softmax(arg, axis=axis)),
        special.softmax(x, axis=axis),
        rtol=ulp_bound(x),
        atol=0,
    )
    assert_close_to_inputs(
        crossent.log_softmax(arg, axis=axis), special.log_softmax(x, axis=axis), x
    )


def test_empty_shapes() -> None:
    assert crossent.logsumexp(np.zeros((4, 0))).tolist() == [-INF] * 4
    assert crossent.softmax(np.zeros((0, 3))).shape == (0, 3)
    assert crossent.log_softmax(np.zeros((2, 0))).shape == (2, 0)
    assert tuple(crossent.logsumexp(torch.zeros(0, 3)).shape) == (0,)


def test_float32_huge_logits_are_finite() -> None:
    x = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    out = crossent.logsumexp(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [1e4])
    np.testing.assert_allclose(crossent.softmax(x), [[1.0, 0.0, 0.0]])


def test_half_precision_accumulates_in_float32() -> None:
    x = torch.full((4096,), 0.0, dtype=torch.float16)
    got = crossent.logsumexp(x)
    assert got.dtype == torch.float16
    # log(4096) = 8.318; a float16 running sum of 4096 ones would still be exact, so check
    # against the float64 value at float16 resolution.
    assert abs(got.item() - np.log(4096)) < 8e-3
    y = torch.randn(1000, dtype=torch.bfloat16)
    ref = special.logsumexp(y.double().numpy())
    assert abs(crossent.logsumexp(y).item() - ref) <= abs(ref) * 2**-7


def test_gradients_flow_and_match_torch() -> None:
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    for ours, theirs in [
        (crossent.logsumexp, lambda t: torch.logsumexp(t, dim=-1)),
        (crossent.softmax, lambda t: torch.softmax(t, dim=-1)),
        (crossent.log_softmax, lambda t: torch.log_softmax(t, dim=-1)),
    ]:
        upstream = torch.randn_like(theirs(x))
        (g1,) = torch.autograd.grad((ours(x) * upstream).sum(), x)
        (g2,) = torch.autograd.grad((theirs(x) * upstream).sum(), x)
        torch.testing.assert_close(g1, g2)
        assert torch.autograd.gradcheck(ours, (x,))


def test_generic_log_softmax_path_has_gradients() -> None:
    """A row holding +inf takes the generic path; finite rows still get torch's gradient."""
    x = torch.tensor([[INF, 0.0], [1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    out = crossent.log_softmax(x)
    assert torch.isnan(out[0, 0])
    assert out[0, 1] == -INF
    (grad,) = torch.autograd.grad(out[1].sum(), x)
    assert torch.allclose(grad[1], 1 - 2 * torch.softmax(x.detach()[1], -1))


def test_rejects_integer_input() -> None:
    with pytest.raises(TypeError, match="x: expected a floating-point array, got dtype int64"):
        crossent.logsumexp(np.array([1, 2]))
    with pytest.raises(IndexError, match=r"axis: expected an axis in \[-2, 1\], got 2"):
        crossent.softmax(np.zeros((2, 2)), axis=2)


@pytest.mark.parametrize("value", [0.3, -7.5, INF, -INF, np.nan])
@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_zero_dimensional_input_is_one_class(value: float, axis: int | None, backend: str) -> None:
    """A 0-d input is one value: softmax 1, log_softmax 0, logsumexp the value (SciPy, torch)."""
    x = np.array(value)
    arg = torch.tensor(x) if backend == "torch" else x
    with np.errstate(all="ignore"):
        expected = (special.softmax(x, axis=axis), special.log_softmax(x, axis=axis))
    got = (crossent.softmax(arg, axis=axis), crossent.log_softmax(arg, axis=axis))
    for g, e in zip(got, expected, strict=True):
        assert np.asarray(g).shape == ()
        np.testing.assert_array_equal(np.asarray(g), e)
    lse = crossent.logsumexp(arg, axis=axis)
    assert np.asarray(lse).shape == ()
    np.testing.assert_array_equal(np.asarray(lse), value)
    if backend == "torch" and axis is not None:
        t = torch.tensor(x)
        for ours, theirs in [
            (crossent.softmax, torch.softmax),
            (crossent.log_softmax, torch.log_softmax),
            (crossent.logsumexp, torch.logsumexp),
        ]:
            torch.testing.assert_close(ours(t, axis=axis), theirs(t, axis), equal_nan=True)
    with pytest.raises(IndexError, match=r"axis: expected an axis in \[-1, 0\] for a 0-d input"):
        crossent.softmax(arg, axis=1)


def test_zero_dimensional_gradients_match_torch() -> None:
    for ours, theirs in [
        (crossent.softmax, torch.softmax),
        (crossent.log_softmax, torch.log_softmax),
        (crossent.logsumexp, torch.logsumexp),
    ]:
        a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        (ga,) = torch.autograd.grad(ours(a, axis=0) * 3.0, a)
        (gb,) = torch.autograd.grad(theirs(b, 0) * 3.0, b)
        torch.testing.assert_close(ga, gb, rtol=0, atol=0)


@pytest.mark.parametrize("axis", [(0, 2), (2, 0), (1,), (0, 1, 2), (-1, 0), -2, ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_axes_and_keepdims_match_scipy_and_torch(
    rng: np.random.Generator, axis: int | tuple[int, ...], keepdims: bool
) -> None:
    x = rng.normal(scale=20.0, size=(3, 4, 5))
    x[0, 1, :] = -INF  # an all -inf line and an +inf entry: SciPy's conventions hold
    x[2, 0, 3] = INF
    with np.errstate(all="ignore"):
        expected = special.logsumexp(x, axis=axis, keepdims=keepdims)
    for arg in (x, torch.tensor(x)):
        got = crossent.logsumexp(arg, axis=axis, keepdims=keepdims)
        assert tuple(got.shape) == expected.shape
        assert_close_to_inputs(got, expected, x)
    if axis != ():  # torch's dim=() reduces everything (a deprecated spelling): not compared
        z = torch.tensor(rng.normal(size=(3, 4, 5)), requires_grad=True)
        ours = crossent.logsumexp(z, axis=axis, keepdims=keepdims)
        theirs = torch.logsumexp(z, dim=axis, keepdim=keepdims)
        torch.testing.assert_close(ours, theirs)
        up = torch.randn_like(theirs)
        (g1,) = torch.autograd.grad((ours * up).sum(), z)
        (g2,) = torch.autograd.grad((theirs * up).sum(), z)
        torch.testing.assert_close(g1, g2)


def test_logsumexp_empty_axes_and_bad_axes() -> None:
    x = np.zeros((2, 0, 3))
    assert crossent.logsumexp(x, axis=(1, 2)).tolist() == [-INF, -INF]
    assert crossent.logsumexp(x, axis=(1, 2), keepdims=True).shape == (2, 1, 1)
    assert crossent.logsumexp(x, axis=(0, 2)).shape == (0,)
    with pytest.raises(ValueError, match=r"axis: expected distinct axes, got \(0, -3\)"):
        crossent.logsumexp(np.zeros((2, 2, 2)), axis=(0, -3))
    with pytest.raises(IndexError, match=r"axis: expected an axis in \[-3, 2\], got 3"):
        crossent.logsumexp(np.zeros((2, 2, 2)), axis=(0, 3))
    with pytest.raises(ValueError, match=r"axis: an input with 3 dimensions needs an explicit"):
        crossent.logsumexp(np.zeros((2, 2, 2)))
