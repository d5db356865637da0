"""Shared test configuration: deterministic seeds and the hypothesis profile."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _assert_same_value_and_grad(ours: Any, ref: Any, x: Any) -> None:
    """``ours`` equals the oracle ``ref``, and so do their gradients with respect to ``x``
    under one random upstream gradient (torch tensors)."""
    import torch

    torch.testing.assert_close(ours, ref)
    upstream = torch.randn_like(ref)
    (g1,) = torch.autograd.grad((ours * upstream).sum(), x)
    (g2,) = torch.autograd.grad((ref * upstream).sum(), x)
    torch.testing.assert_close(g1, g2)


@pytest.fixture
def same_value_and_grad() -> Callable[[Any, Any, Any], None]:
    return _assert_same_value_and_grad
