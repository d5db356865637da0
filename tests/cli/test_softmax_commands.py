"""``crossent train --loss softmax`` on a device and under torchrun, through the real
command line (subprocesses): clear one-line errors before training, and 2 gloo ranks that
write the vectors of one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from crossent.word2vec import KeyedVectors

TIMEOUT = 240  # seconds for a whole torchrun launch: never a hang in the suite


def _crossent(*args: str, launcher: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "COLUMNS": "200"}
    env.pop("WORLD_SIZE", None)
    # not the conftests' Triton interpreter: with it, a torchrun rank sometimes aborts at exit
    # ("terminate called without an active exception"), not seen without it in 10 runs
    env.pop("TRITON_INTERPRET", None)
    cmd = [*(launcher or [sys.executable]), "-m", "crossent", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)


def _train_args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        str(corpus),
        "--out",
        str(out),
        "--format",
        "text",
        "--loss",
        "softmax",
        "--dim",
        "8",
        "--epochs",
        "2",
        "--min-count",
        "1",
        "--threads",
        "1",
        *extra,
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "tpu"], "--device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
        (["--device", "cuda", "--loss", "ns"], "--device: --loss ns trains with CPU kernels"),
        pytest.param(
            ["--device", "cuda"],
            "--device: 'cuda' asked for, but CUDA is not available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available"),
        ),
    ],
)
def test_device_errors_are_one_line(
    corpus: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    res = _crossent(*_train_args(corpus, tmp_path / "v.txt", *extra))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "v.txt").exists()


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


def test_torchrun_two_ranks_write_the_vectors_of_one_process(corpus: Path, tmp_path: Path) -> None:
    one = _crossent(*_train_args(corpus, tmp_path / "one.txt"))
    assert one.returncode == 0, one.stderr
    two = _crossent(*_train_args(corpus, tmp_path / "two.txt", "--json"), launcher=TORCHRUN)
    assert two.returncode == 0, two.stderr
    assert two.stdout.count('"vectors"') == 1  # only rank 0 prints the summary
    a, b = KeyedVectors.load(tmp_path / "one.txt"), KeyedVectors.load(tmp_path / "two.txt")
    assert a.words == b.words
    np.testing.assert_allclose(b.vectors, a.vectors, rtol=1e-4, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.txt", "two.txt"]


def test_torchrun_with_softmax_cbow_fails_on_every_rank(corpus: Path, tmp_path: Path) -> None:
    res = _crossent(*_train_args(corpus, tmp_path / "v.txt", "--model", "cbow"), launcher=TORCHRUN)
    assert res.returncode != 0
    assert res.stderr.count("model: across ranks (torchrun) --loss 'softmax'") == 2
    assert re.search(r"exitcode\s*: 2 ", res.stderr)  # the clean exit 2 torchrun reports
    # torchrun's report only, no traceback frame of ours (the checkout's own folder may be
    # called crossent: look for frames inside the package, not for the word)
    assert not re.search(r'File "[^"]*crossent/(cli|word2vec|fused|__main__)', res.stderr)
    assert not (tmp_path / "v.txt").exists()


def test_torchrun_trains_negative_sampling_data_parallel(corpus: Path, tmp_path: Path) -> None:
    args = _train_args(corpus, tmp_path / "v.txt", "--loss", "ns", "--json", "--sync-every", "500")
    res = _crossent(*args, launcher=TORCHRUN)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count('"vectors"') == 1  # only rank 0 prints the summary
    assert len(KeyedVectors.load(tmp_path / "v.txt").words) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]
