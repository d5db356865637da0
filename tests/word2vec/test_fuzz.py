"""Random bytes and random mutations of valid checkpoints, vector files and evaluation
files thrown at every reader (in a child process): only clean errors, never a signal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("fuzz_readers.py")


def _fuzz(tmp_path: Path, seed: int, rounds: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(HELPER), str(tmp_path), str(seed), str(rounds)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, (
        f"the fuzzed readers died (status {out.returncode}): {out.stderr[-3000:]}"
    )
    summary: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return summary


def test_fuzz_every_reader(tmp_path: Path) -> None:
    summary = _fuzz(tmp_path, seed=0, rounds=120)
    assert summary["unexpected_count"] == 0, summary["unexpected"]
    outcomes = summary["outcomes"]
    assert isinstance(outcomes, dict)
    assert outcomes.get("checkpoint: clean error", 0) > 40  # the attacks did reach the checks


@pytest.mark.slow
def test_fuzz_every_reader_longer(tmp_path: Path) -> None:
    summary = _fuzz(tmp_path, seed=1, rounds=5000)
    assert summary["unexpected_count"] == 0, summary["unexpected"]
