"""JAX arrays go through the same implementation; output stays a JAX array; jax.grad works."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import special, stats
from tests.tolerance import assert_close_to_inputs

import crossent

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", True)


def test_info_functions_on_jax(rng: np.random.Generator) -> None:
    p = rng.random((4, 6))
    p /= p.sum(-1, keepdims=True)
    q = rng.random((4, 6))
    q /= q.sum(-1, keepdims=True)
    got = crossent.kl_divergence(jnp.asarray(p), jnp.asarray(q))
    assert isinstance(got, jax.Array)
    assert_close_to_inputs(got, stats.entropy(p, q, axis=-1), np.log(p), np.log(q))
    np.testing.assert_allclose(
        np.asarray(crossent.entropy(jnp.asarray(p))), stats.entropy(p, axis=-1)
    )
    x = rng.normal(size=(3, 5)) * 50
    np.testing.assert_allclose(
        np.asarray(crossent.logsumexp(jnp.asarray(x))), special.logsumexp(x, axis=-1)
    )
    assert_close_to_inputs(crossent.log_softmax(jnp.asarray(x)), special.log_softmax(x, axis=-1), x)
    axes = crossent.logsumexp(jnp.asarray(x), axis=(0, 1), keepdims=True)
    assert_close_to_inputs(axes, special.logsumexp(x, axis=(0, 1), keepdims=True), x)


def test_losses_and_gradients_on_jax(rng: np.random.Generator) -> None:
    z = rng.normal(size=(7, 5)) * 3
    y = rng.integers(0, 5, size=7)
    y[2] = -100
    w = rng.random(5)

    def loss(logits: object) -> object:
        return crossent.softmax_cross_entropy(
            logits, jnp.asarray(y), weight=jnp.asarray(w), label_smoothing=0.1
        )

    value, grad = jax.value_and_grad(loss)(jnp.asarray(z))
    zt = torch.tensor(z, requires_grad=True)
    ref = F.cross_entropy(zt, torch.tensor(y), weight=torch.tensor(w), label_smoothing=0.1)
    ref.backward()
    assert_close_to_inputs(float(value), ref.item(), z)
    np.testing.assert_allclose(np.asarray(grad), zt.grad.numpy(), rtol=1e-10, atol=1e-12)
    b = crossent.binary_cross_entropy_with_logits(jnp.asarray(z), jnp.zeros_like(jnp.asarray(z)))
    np.testing.assert_allclose(
        float(b),
        F.binary_cross_entropy_with_logits(
            torch.tensor(z), torch.zeros(7, 5, dtype=torch.float64)
        ).item(),
    )


def test_functions_run_under_jax_jit(rng: np.random.Generator) -> None:
    """Under jax.jit the value checks are skipped (traced values); results are unchanged."""
    p = rng.random((4, 6))
    p /= p.sum(-1, keepdims=True)
    q = rng.random((4, 6))
    q /= q.sum(-1, keepdims=True)
    z = rng.normal(size=(4, 6)) * 3
    y = jnp.asarray(rng.integers(0, 6, size=4))
    fns = {
        "kl": lambda a, b, _: crossent.kl_divergence(a, b),
        "js": lambda a, b, _: crossent.js_divergence(a, b, base=2),
        "entropy": lambda a, _b, _c: crossent.entropy(a),
        "ce": lambda _a, _b, c: crossent.softmax_cross_entropy(c, y, label_smoothing=0.1),
        "bce": lambda a, _b, c: crossent.binary_cross_entropy_with_logits(c, a),
        "log_softmax": lambda _a, _b, c: crossent.log_softmax(c),
    }
    args = (jnp.asarray(p), jnp.asarray(q), jnp.asarray(z))
    for name, fn in fns.items():
        jitted, eager = np.asarray(jax.jit(fn)(*args)), np.asarray(fn(*args))
        assert_close_to_inputs(jitted, eager, z, np.log(p), np.log(q), msg=name)


def test_value_checks_still_run_under_jax_grad() -> None:
    """Only jax.jit hides the values; under jax.grad a bad target is still reported."""
    z = jnp.zeros((2, 3))

    def loss(logits: object) -> object:
        return crossent.softmax_cross_entropy(logits, jnp.asarray([0, 7]))

    with pytest.raises(IndexError, match="targets: class index 7"):
        jax.grad(loss)(z)


def test_undefined_weighted_mean_is_nan_when_traced() -> None:
    """Σ w_y = 0 with smoothing terms left: eager raises; under jax.jit (no values to check)
    the result is PyTorch's NaN, not a silent number; a mean over nothing stays 0."""
    z = jnp.asarray(np.random.default_rng(0).standard_normal((3, 4)))
    y = jnp.asarray([0, 0, 0])
    w = jnp.asarray([0.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="weighted mean's denominator"):
        crossent.softmax_cross_entropy(z, y, weight=w, label_smoothing=0.1)

    def loss(z: Any, smoothing: float) -> Any:
        return crossent.softmax_cross_entropy(z, y, weight=w, label_smoothing=smoothing)

    assert np.isnan(float(jax.jit(loss, static_argnums=1)(z, 0.1)))
    assert float(jax.jit(loss, static_argnums=1)(z, 0.0)) == 0.0
