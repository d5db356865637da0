"""The word2vec command line: train / eval / similar / demo, and its error messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossent.cli import app
from crossent.word2vec import KeyedVectors

runner = CliRunner()


def test_train_eval_similar(corpus: Path, tmp_path: Path) -> None:
    out, ckpt, plot = tmp_path / "v.txt", tmp_path / "m.npz", tmp_path / "loss.png"
    res = runner.invoke(
        app,
        [
            "train",
            str(corpus),
            "--out",
            str(out),
            "--format",
            "text",
            "--dim",
            "8",
            "--epochs",
            "2",
            "--threads",
            "1",
            "--checkpoint",
            str(ckpt),
            "--plot",
            str(plot),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert len(summary["epoch_losses"]) == 2
    assert KeyedVectors.load(out).vectors.shape == (60, 8)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ev = runner.invoke(app, ["eval", str(ckpt), "--heldout", str(corpus), "--json"])
    assert ev.exit_code == 0, ev.output
    report = json.loads(ev.stdout)
    assert report["heldout"]["pairs"] > 0
    assert report["heldout"]["loss"] < np.log(60) + 1
    sim = runner.invoke(app, ["similar", str(out), "w3", "-n", "4", "--json"])
    assert sim.exit_code == 0
    assert len(json.loads(sim.stdout)) == 4
    resumed = runner.invoke(
        app,
        ["train", str(corpus), "--out", str(tmp_path / "v2.bin"), "--resume", str(ckpt), "--json"],
    )
    assert resumed.exit_code == 0, resumed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "nope.txt", "--out", "{tmp}/v.bin"], "CORPUS: file not found"),
        (
            ["train", "{corpus}", "--out", "{tmp}/v.bin", "--dim", "0"],
            "dim: expected a positive integer",
        ),
        (["train", "{corpus}", "--out", "{tmp}/v.bin", "--window", "0"], "window"),
        (["train", "{corpus}", "--out", "{tmp}/v.bin", "--epochs", "-1"], "epochs"),
        (
            ["train", "{corpus}", "--out", "{tmp}/v.bin", "--threads", "0"],
            "threads: expected a positive integer, got 0",
        ),
        (["train", "{corpus}", "--out", "{tmp}/v.bin", "--min-count", "10000"], "none of its"),
        (["train", "{corpus}", "--out", "{tmp}/no/such/dir/v.bin"], "does not exist"),
        (["train", "{corpus}", "--out", "{tmp}/v.bin", "--format", "xml"], "--format"),
        (["similar", "{tmp}/missing.bin", "w1"], "file not found"),
        (["train", "{corpus}", "--out", "{tmp}"], "is a directory"),
        (["eval", "{tmp}/vec.bin", "--heldout", "{corpus}"], "--heldout needs a checkpoint"),
        (
            ["train", "{corpus}", "--out", "{tmp}/v.bin", "--loss", "softmax", "--alpha", "80"],
            "training diverged",
        ),
    ],
)
def test_errors_are_clear(corpus: Path, tmp_path: Path, args: list[str], message: str) -> None:
    KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(tmp_path / "vec.bin")
    filled = [a.format(tmp=tmp_path, corpus=corpus) for a in args]
    res = runner.invoke(app, filled)
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert not (tmp_path / "v.bin").exists()


def test_unknown_word_suggests(tmp_path: Path) -> None:
    KeyedVectors(["music", "musical", "river"], np.eye(3, dtype=np.float32)).save(
        tmp_path / "v.bin"
    )
    res = runner.invoke(app, ["similar", str(tmp_path / "v.bin"), "musik"])
    assert res.exit_code == 2  # a user mistake, as every other
    assert "close matches: music" in res.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_out_before_training(corpus: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    res = runner.invoke(app, ["train", str(corpus), "--out", str(locked / "v.bin")])
    assert res.exit_code == 2
    assert "permission denied" in res.output


def test_demo_runs(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--folder", str(tmp_path / "demo"), "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "demo" / "vectors.bin").exists()
    assert (tmp_path / "demo" / "loss.png").exists()
    assert "nearest neighbours" in res.output
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("held-out J(θ) = -u_oᵀv_c + log Σ_w exp(u_wᵀv_c) on wikitext2-test.txt")
    from crossent.word2vec import SkipGram
    from crossent.word2vec.evaluation.evaluate import heldout_loss
    from crossent.word2vec.formats.data import data_file

    model = SkipGram.load(tmp_path / "demo" / "model.ckpt.npz")
    exact = heldout_loss(model, [data_file("wikitext2-test.txt")])
    assert f"{exact['loss']:.4f} nats per pair" in last
    assert f"{exact['pairs']:,} pairs" in last
