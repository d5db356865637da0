"""Without a CUDA device, Triton kernels run under Triton's interpreter (set before import)."""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
