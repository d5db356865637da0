"""Math-layer edges a new user hits: the implied class axis, every integer target dtype,
NumPy scalar options, overflow in normalisation, 16-bit distributions, class-weight edges.

Oracles: torch.nn.functional (int64 targets), scipy.stats.entropy, float64 formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from tests.tolerance import assert_close_to_inputs

import crossent
from crossent._validation import as_float, as_int

TORCH_INT = [torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8]
NUMPY_INT = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@pytest.mark.parametrize(
    "call",
    [
        lambda x: crossent.softmax_cross_entropy(x, np.zeros((2, 4), dtype=np.int64)),
        lambda x: crossent.logsumexp(x),
        lambda x: crossent.softmax(x),
        lambda x: crossent.log_softmax(x),
        lambda x: crossent.entropy(x, normalize=True),
        lambda x: crossent.cross_entropy(x, x, normalize=True),
        lambda x: crossent.kl_divergence(x, x, normalize=True),
        lambda x: crossent.js_divergence(x, x, normalize=True),
    ],
)
def test_more_than_two_dims_need_an_axis(call: object) -> None:
    x = np.random.default_rng(0).random((2, 3, 4)) + 0.1
    with pytest.raises(ValueError, match=r"axis: an input with 3 dimensions needs an explicit"):
        call(x)  # type: ignore[operator]


def test_implied_axis_is_last_for_1d_and_2d_and_explicit_axis_matches_torch() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, 5, 3, dtype=torch.float64, generator=g)  # [N, C, d]
    y = torch.randint(0, 5, (4, 3), generator=g)
    torch.testing.assert_close(crossent.softmax_cross_entropy(z, y, axis=1), F.cross_entropy(z, y))
    z2, y2 = z[:, :, 0], y[:, 0]  # [N, C]: axis implied
    torch.testing.assert_close(crossent.softmax_cross_entropy(z2, y2), F.cross_entropy(z2, y2))
    torch.testing.assert_close(crossent.logsumexp(z2), torch.logsumexp(z2, dim=-1))
    torch.testing.assert_close(crossent.softmax(z[0, :, 0]), torch.softmax(z[0, :, 0], dim=0))


@pytest.mark.parametrize("dtype", TORCH_INT)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_torch_targets_of_every_integer_dtype(dtype: torch.dtype, smoothing: float) -> None:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(9, 6, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.randint(0, 6, (9,), generator=g)
    w = torch.rand(6, dtype=torch.float64, generator=g) + 0.1
    ours = crossent.softmax_cross_entropy(z, y.to(dtype), weight=w, label_smoothing=smoothing)
    ref = F.cross_entropy(z, y, weight=w, label_smoothing=smoothing)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, z)[0], torch.autograd.grad(ref, z)[0])


@pytest.mark.parametrize("dtype", NUMPY_INT)
def test_numpy_targets_of_every_integer_dtype(dtype: type) -> None:
    rng = np.random.default_rng(2)
    z = rng.standard_normal((7, 5))
    y = rng.integers(0, 5, 7)
    ref = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(y), reduction="none").numpy()
    ours = crossent.softmax_cross_entropy(z, y.astype(dtype), reduction="none")
    assert_close_to_inputs(ours, ref, z)  # lse - z_y cancels: a bound in ulps of |z|


def test_signed_small_targets_keep_ignore_index() -> None:
    z = torch.randn(4, 3, dtype=torch.float64)
    y = torch.tensor([0, -100, 2, 1])
    ours = crossent.softmax_cross_entropy(z, y.to(torch.int8))
    torch.testing.assert_close(ours, F.cross_entropy(z, y))


def test_numpy_scalars_are_accepted_as_numbers() -> None:
    z = torch.randn(5, 4, dtype=torch.float64)
    y = torch.tensor([0, 3, 1, 2, 2])
    ours = crossent.softmax_cross_entropy(
        z, y, label_smoothing=np.float32(0.25), ignore_index=np.int64(2)
    )
    ref = F.cross_entropy(z, y, label_smoothing=float(np.float32(0.25)), ignore_index=2)
    torch.testing.assert_close(ours, ref)
    assert float(crossent.entropy([0.5, 0.5], base=np.float64(2))) == pytest.approx(1.0)
    assert float(crossent.information(0.25, base=np.int64(2))) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("value", "name", "kind"),
    [(True, "label_smoothing", TypeError), ("0.1", "label_smoothing", TypeError)],
)
def test_option_types_are_checked(value: object, name: str, kind: type[Exception]) -> None:
    with pytest.raises(kind, match=f"{name}: expected a real number, got"):
        crossent.softmax_cross_entropy(np.zeros((1, 2)), [0], **{name: value})
    with pytest.raises(TypeError, match="ignore_index: expected an integer, got 1.5"):
        crossent.softmax_cross_entropy(np.zeros((1, 2)), [0], ignore_index=1.5)


def test_as_int_and_as_float() -> None:
    assert as_int(np.int64(7), "n") == 7 and type(as_int(np.uint8(7), "n")) is int
    assert as_float(np.float32(0.5), "x") == 0.5 and type(as_float(3, "x")) is float
    for bad in (True, np.bool_(True), 2.0, "2", None):
        with pytest.raises(TypeError, match=r"n: expected an integer, got"):
            as_int(bad, "n")
    for bad in (False, "0.5", None, 1j):
        with pytest.raises(TypeError, match=r"x: expected a real number, got"):
            as_float(bad, "x")


@pytest.mark.parametrize("big", [1e308, np.finfo(np.float64).max])
def test_normalize_does_not_overflow(big: float) -> None:
    assert float(crossent.entropy([big, big], normalize=True)) == pytest.approx(math.log(2))
    p = np.array([big, big / 3, 0.0])
    np.testing.assert_allclose(
        crossent.entropy(p, normalize=True), scipy.stats.entropy(p / big), rtol=1e-12
    )
    q = np.array([big / 2, big / 2, big / 4])
    assert_close_to_inputs(  # a sum of p log(p/q) of both signs: ulps of the log terms
        crossent.kl_divergence(p, q, normalize=True),
        scipy.stats.entropy(p / big, q / big),
        np.log(q / big),
    )


def test_infinite_probabilities_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"p: expected finite values, got inf"):
        crossent.entropy([np.inf, 1.0], normalize=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_16_bit_distributions_are_checked_at_their_own_precision(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(3)
    p64 = torch.softmax(torch.randn(6, 50, dtype=torch.float64, generator=g), dim=-1)
    fiftieths = torch.full((1, 50), 1 / 50, dtype=torch.float64)  # 1/50 rounds: the sum drifts
    p16 = torch.cat([p64, fiftieths]).to(dtype)  # true distributions, rounded
    assert (p16.double().sum(-1) - 1).abs().max() > 1e-4  # the float32 tolerance refuses it
    ours = crossent.entropy(p16)
    ref = torch.from_numpy(scipy.stats.entropy(p16.double().numpy(), axis=-1))
    torch.testing.assert_close(ours.double(), ref, atol=2e-2, rtol=1e-2)
    crossent.kl_divergence(p16, p16)
    with pytest.raises(ValueError, match="expected distributions summing to 1"):
        crossent.entropy((p64 * 1.2).to(dtype))


def test_weighted_mean_with_zero_denominator() -> None:
    z = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 0, 0, -100])
    w = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    assert torch.isnan(F.cross_entropy(z, y, weight=w))  # PyTorch: 0 / 0
    loss = crossent.softmax_cross_entropy(z, y, weight=w)  # ours: nothing to average, 0
    assert loss.item() == 0.0
    assert torch.equal(torch.autograd.grad(loss, z)[0], torch.zeros_like(z))
    # sum and none reductions are defined, and agree with PyTorch
    for reduction in ("sum", "none"):
        kw = {"weight": w, "label_smoothing": 0.1, "reduction": reduction}
        torch.testing.assert_close(
            crossent.softmax_cross_entropy(z, y, **kw), F.cross_entropy(z, y, **kw)
        )
    # with smoothing the numerator is not 0: the weighted mean is undefined
    assert torch.isnan(F.cross_entropy(z, y, weight=w, label_smoothing=0.1))
    with pytest.raises(ValueError, match=r"weight: every non-ignored row's target class has"):
        crossent.softmax_cross_entropy(z, y, weight=w, label_smoothing=0.1)


def test_zero_weight_on_minus_inf_logit_is_zero_not_nan() -> None:
    z = torch.tensor([[-math.inf, 0.0, 1.0], [0.5, 0.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([0, 2])
    w = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    ours = crossent.softmax_cross_entropy(z, y, weight=w, reduction="none")
    expected = torch.tensor([0.0, float(-torch.log_softmax(z[1], 0)[2])], dtype=torch.float64)
    torch.testing.assert_close(ours, expected)


@pytest.mark.parametrize(
    ("weight", "pattern"),
    [
        ([math.nan, 1.0, 1.0], r"weight: contains NaN at \(0,\)"),
        ([1.0, math.inf, 1.0], r"weight: expected finite values, got inf at index \(1,\)"),
        ([1.0, 1.0, -0.5], r"weight: class weights must be >= 0, got -0.5 at index \(2,\)"),
    ],
)
@pytest.mark.parametrize("prob", [False, True])
def test_bad_class_weights_are_rejected(weight: list[float], pattern: str, prob: bool) -> None:
    z = np.zeros((2, 3))
    y = np.full((2, 3), 1 / 3) if prob else np.array([0, 1])
    with pytest.raises(ValueError, match=pattern):
        crossent.softmax_cross_entropy(z, y, weight=np.array(weight))


def test_train_config_accepts_numpy_integers() -> None:
    """NumPy integers are numbers here as everywhere else; stored as Python ints (the config
    is written to JSON in checkpoints)."""
    from crossent.word2vec import TrainConfig
    from crossent.word2vec.training.config import ConfigError

    config = TrainConfig(dim=np.int64(20), epochs=np.uint8(3), max_vocab=np.int32(100))
    assert (config.dim, config.epochs, config.max_vocab) == (20, 3, 100)
    assert all(type(v) is int for v in (config.dim, config.epochs, config.max_vocab))
    for bad in (np.bool_(True), True, 20.0, np.float64(20)):
        with pytest.raises(ConfigError, match="dim: expected an integer, got"):
            TrainConfig(dim=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="dim: expected a positive integer, got 0"):
        TrainConfig(dim=np.int64(0))
