"""Property tests (hypothesis): the identities of the seed note hold on random inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests.tolerance import assert_close_to_inputs

import crossent

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)


def _dist(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


@given(arrays(np.float64, st.integers(2, 12), elements=finite), st.data())
def test_cross_entropy_is_entropy_plus_kl(logits: np.ndarray, data: st.DataObject) -> None:
    q = _dist(logits)
    p = _dist(data.draw(arrays(np.float64, logits.shape, elements=finite)))
    h_pq = crossent.cross_entropy(p, q)
    assert np.isclose(
        h_pq, crossent.entropy(p) + crossent.kl_divergence(p, q), rtol=1e-9, atol=1e-9
    )
    assert h_pq >= crossent.entropy(p) - 1e-12
    assert crossent.kl_divergence(p, q) >= 0
    assert 0 <= crossent.js_divergence(p, q) <= np.log(2) + 1e-12


@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 9)), elements=finite), st.data()
)
def test_form1_equals_form2_for_one_hot(logits: np.ndarray, data: st.DataObject) -> None:
    n, c = logits.shape
    targets = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    one_hot = np.eye(c)[targets]
    form1 = crossent.softmax_cross_entropy(logits, targets, reduction="none")
    form2 = crossent.softmax_cross_entropy(logits, one_hot, reduction="none")
    assert_close_to_inputs(form1, form2, logits)  # lse - z_y cancels: ulps of |z|
    oracle = crossent.logsumexp(logits) - logits[np.arange(n), targets]
    assert_close_to_inputs(form1, oracle, logits)


@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-500, 500)), st.data())
def test_binary_is_two_class_softmax(z: np.ndarray, data: st.DataObject) -> None:
    y = data.draw(arrays(np.float64, z.shape, elements=st.floats(0, 1)))
    binary = crossent.binary_cross_entropy_with_logits(z, y, reduction="none")
    two_class = np.stack([np.zeros_like(z), z], axis=-1)  # logits [0, z]: p(1) = sigmoid(z)
    softmax = crossent.softmax_cross_entropy(two_class, np.stack([1 - y, y], -1), reduction="none")
    np.testing.assert_allclose(binary, softmax, rtol=1e-9, atol=1e-9)


@given(
    arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)), elements=finite),
    st.floats(-1e3, 1e3),
    st.floats(0, 1),
    st.data(),
)
def test_shift_invariance(
    logits: np.ndarray, shift: float, eps: float, data: st.DataObject
) -> None:
    n, c = logits.shape
    targets = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    a = crossent.softmax_cross_entropy(logits, targets, label_smoothing=eps)
    b = crossent.softmax_cross_entropy(logits + shift, targets, label_smoothing=eps)
    assert np.isclose(a, b, rtol=1e-9, atol=1e-9 * (1 + abs(shift)))
