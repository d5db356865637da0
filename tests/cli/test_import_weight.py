"""The commands that need no training load no heavy framework."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from typer.testing import CliRunner
from crossent.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
print(sorted(m for m in ("torch", "numba", "jax") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["explain"], ["explain", "--json"], ["train", "--help"]]
)
def test_help_and_explain_import_neither_numba_nor_torch(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_python_m_crossent_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "crossent", "explain", "--json"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert '"form1"' in out.stdout
