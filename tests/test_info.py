"""information / entropy / cross_entropy / KL / JS against SciPy and torch, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import spatial, special, stats
from tests.tolerance import assert_close_to_inputs

import crossent


def _dists(rng: np.random.Generator, shape: tuple[int, ...], zeros: bool = True) -> np.ndarray:
    p = rng.random(shape)
    if zeros:
        p[p < 0.2] = 0.0
    p[..., 0] += 1e-3  # no all-zero rows
    return p / p.sum(-1, keepdims=True)


@pytest.mark.parametrize("base", [None, 2, 10])
def test_against_scipy(rng: np.random.Generator, base: float | None) -> None:
    p, q = _dists(rng, (6, 9)), _dists(rng, (6, 9), zeros=False)
    np.testing.assert_allclose(crossent.entropy(p, base=base), stats.entropy(p, base=base, axis=-1))
    # KL and JS sum terms of both signs (they cancel): bounds in ulps of the log terms
    logs = (np.log(p[p > 0]), np.log(q), np.log((p + q) / 2))
    kl = stats.entropy(p, q, base=base, axis=-1)
    assert_close_to_inputs(crossent.kl_divergence(p, q, base=base), kl, *logs)
    scale = 1.0 if base is None else np.log(base)
    np.testing.assert_allclose(
        crossent.cross_entropy(p, q, base=base),
        -np.sum(special.xlogy(p, q), axis=-1) / scale,
    )
    js = spatial.distance.jensenshannon(p, q, axis=-1, base=base) ** 2
    assert_close_to_inputs(crossent.js_divergence(p, q, base=base), js, *logs)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(crossent.information(p, base=base), -np.log(p) / scale)


def test_axis_and_torch_backend(rng: np.random.Generator) -> None:
    p, q = _dists(rng, (4, 5)).T, _dists(rng, (4, 5), zeros=False).T  # outcomes on axis 0
    tp, tq = torch.tensor(p), torch.tensor(q)
    got = crossent.kl_divergence(tp, tq, axis=0)
    assert isinstance(got, torch.Tensor)
    assert_close_to_inputs(got, stats.entropy(p, q, axis=0), np.log(p[p > 0]), np.log(q))
    # torch's own kl_div (input in log space) summed over the outcome axis
    ref = torch.nn.functional.kl_div(tq.log(), tp, reduction="none").sum(0)
    torch.testing.assert_close(got, ref)
    np.testing.assert_allclose(crossent.entropy(tp, axis=0).numpy(), stats.entropy(p, axis=0))


def test_conventions_zero_and_inf() -> None:
    assert crossent.entropy([1.0, 0.0]) == 0.0  # 0 log 0 = 0
    assert not np.signbit(crossent.entropy([1.0, 0.0]))
    assert crossent.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert crossent.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert crossent.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0  # q = 0 = p is fine
    assert crossent.kl_divergence([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert crossent.information(0.0) == np.inf
    np.testing.assert_allclose(crossent.js_divergence([1.0, 0.0], [0.0, 1.0]), np.log(2))


def test_seed_examples() -> None:
    """Seed note, section 3: KL([1,0,0,0] ‖ [.7,.1,.1,.1]) = -log 0.7 = cross-entropy."""
    p, q = [1.0, 0.0, 0.0, 0.0], [0.7, 0.1, 0.1, 0.1]
    np.testing.assert_allclose(crossent.kl_divergence(p, q), -np.log(0.7))
    np.testing.assert_allclose(crossent.cross_entropy(p, q), -np.log(0.7))
    assert float(crossent.information(0.5, base=2)) == 1.0


def test_empty_batch_and_dtypes() -> None:
    assert crossent.entropy(np.zeros((0, 3))).shape == (0,)
    p32 = np.array([0.25, 0.75], dtype=np.float32)
    assert crossent.entropy(p32).dtype == np.float32
    h16 = crossent.entropy(torch.tensor([0.25, 0.75], dtype=torch.bfloat16))
    assert h16.dtype == torch.float32
    np.testing.assert_allclose(h16.item(), stats.entropy([0.25, 0.75]), rtol=1e-6)


def test_normalize_option(rng: np.random.Generator) -> None:
    counts = rng.integers(0, 5, size=(3, 6)) + 1
    np.testing.assert_allclose(
        crossent.entropy(counts, normalize=True), stats.entropy(counts, axis=-1)
    )
    with pytest.raises(ValueError, match=r"p: expected distributions summing to 1 along axis 1"):
        crossent.entropy(counts)
    with pytest.raises(ValueError, match="cannot normalize a distribution that sums to 0"):
        crossent.entropy([0.0, 0.0], normalize=True)


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (
            lambda: crossent.entropy([0.5, -0.1, 0.6]),
            ValueError,
            r"p: probabilities must be >= 0, got -0.1 at index \(1,\)",
        ),
        (lambda: crossent.entropy([np.nan, 1.0]), ValueError, r"p: contains NaN at \(0,\)"),
        (lambda: crossent.information(1.5), ValueError, "p: probabilities must be <= 1, got 1.5"),
        (
            lambda: crossent.kl_divergence([0.5, 0.5], [1.0, 0.0, 0.0]),
            ValueError,
            r"q: expected shape \(2,\)",
        ),
        (
            lambda: crossent.entropy([0.5, 0.5], base=1),
            ValueError,
            "base: expected a positive number other than 1, got 1",
        ),
        (lambda: crossent.entropy(0.5), ValueError, "p: expected at least one dimension"),
        (
            lambda: crossent.kl_divergence(np.ones(2) / 2, torch.ones(2) / 2),
            TypeError,
            "p: numpy.ndarray, q: torch.Tensor",
        ),
    ],
)
def test_bad_input(call: object, exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        call()  # type: ignore[operator]


def test_gradients_gradcheck() -> None:
    p = torch.tensor([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]], dtype=torch.float64, requires_grad=True)
    # normalize=True keeps the perturbed inputs valid for gradcheck's finite differences
    for fn in (crossent.cross_entropy, crossent.kl_divergence, crossent.js_divergence):
        assert torch.autograd.gradcheck(lambda a, b, f=fn: f(a, b, normalize=True), (p, q))
    assert torch.autograd.gradcheck(lambda a: crossent.entropy(a, normalize=True), (p,))


def test_zero_probability_has_finite_gradient() -> None:
    p = torch.tensor([0.0, 0.4, 0.6], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    crossent.kl_divergence(p, q).backward()
    assert torch.isfinite(p.grad).all()
    assert torch.isfinite(q.grad).all()


def test_numpy_results_follow_scipys_scalar_convention() -> None:
    """One convention for every function, SciPy's: a NumPy result without dimensions is a
    NumPy scalar (``scipy.stats.entropy``, ``special.rel_entr`` return ``np.float64``); with
    dimensions an ndarray; torch and JAX keep their 0-d arrays."""
    p, q = [0.2, 0.8], [0.5, 0.5]
    assert type(stats.entropy(p)) is np.float64 and type(special.rel_entr(0.2, 0.5)) is np.float64
    scalars = {
        "entropy": crossent.entropy(p),
        "cross_entropy": crossent.cross_entropy(p, q),
        "kl_divergence": crossent.kl_divergence(p, q),
        "js_divergence": crossent.js_divergence(p, q, base=2),
        "information": crossent.information(0.25),
        "logsumexp": crossent.logsumexp(np.array([1.0, 2.0])),
        "softmax 0-d": crossent.softmax(np.array(0.3)),
    }
    for name, value in scalars.items():
        assert type(value) is np.float64, (name, type(value))
    for f in (crossent.entropy, crossent.kl_divergence, crossent.js_divergence):
        args = (
            (np.array([p, p]),) if f is crossent.entropy else (np.array([p, p]), np.array([q, q]))
        )
        assert type(f(*args)) is np.ndarray
    p32 = np.array(p, dtype=np.float32)
    assert type(crossent.kl_divergence(p32, p32)) is np.float32
    assert type(crossent.kl_divergence(torch.tensor(p), torch.tensor(q))) is torch.Tensor
    np.testing.assert_allclose(scalars["kl_divergence"], stats.entropy(p, q))
