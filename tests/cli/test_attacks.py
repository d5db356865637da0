"""The command line attacked as a demanding user would: colliding paths, absurd options,
the wrong kind of file. Every user mistake is one line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossent.cli import app
from crossent.word2vec import KeyedVectors, SkipGram

from .lines import one_error_line

runner = CliRunner()
FAST = ["--dim", "8", "--epochs", "1", "--threads", "1", "--min-count", "1", "--quiet"]


@pytest.fixture
def workdir(corpus: Path, tmp_path: Path) -> Path:
    (tmp_path / "c.txt").write_bytes(corpus.read_bytes())
    return tmp_path


def _collide(workdir: Path, how: str) -> tuple[list[str], str]:
    c = str(workdir / "c.txt")
    v = str(workdir / "v.bin")
    if how == "symlink":
        os.symlink(workdir / "c.txt", workdir / "link.txt")
    if how == "hard link":
        os.link(workdir / "c.txt", workdir / "hard.txt")
    cases = {
        "same name": (["train", c, "--out", c], "--out"),
        "symlink": (["train", c, "--out", str(workdir / "link.txt")], "--out"),
        "hard link": (["train", c, "--out", str(workdir / "hard.txt")], "--out"),
        "relative spelling": (["train", c, "--out", str(workdir / "." / "c.txt")], "--out"),
        "checkpoint is corpus": (["train", c, "--out", v, "--checkpoint", c], "--checkpoint"),
        "plot is corpus": (["train", c, "--out", v, "--plot", c], "--plot"),
        "plot is out": (["train", c, "--out", v, "--plot", v], "--plot"),
        "checkpoint is out": (["train", c, "--out", v, "--checkpoint", v], "--checkpoint"),
        "two corpora, out is the second": (
            ["train", c, str(workdir / "d.txt"), "--out", str(workdir / "d.txt")],
            "--out",
        ),
    }
    return cases[how]


@pytest.mark.parametrize(
    "how",
    [
        "same name",
        "symlink",
        "hard link",
        "relative spelling",
        "checkpoint is corpus",
        "plot is corpus",
        "plot is out",
        "checkpoint is out",
        "two corpora, out is the second",
    ],
)
def test_colliding_paths_are_refused_before_any_work(workdir: Path, how: str) -> None:
    (workdir / "d.txt").write_text("x y z\n")
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    args, option = _collide(workdir, how)
    err = one_error_line(runner.invoke(app, [*args, *FAST]), option, "is the same file as")
    after = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file() and p.name in before}
    assert after == before, err  # nothing written, nothing clobbered
    assert not (workdir / "v.bin").exists()


def test_resume_checkpoint_as_output_is_refused(workdir: Path) -> None:
    c, ckpt = str(workdir / "c.txt"), str(workdir / "m.npz")
    res = runner.invoke(
        app, ["train", c, "--out", str(workdir / "v.bin"), "--checkpoint", ckpt, *FAST]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["train", c, "--out", str(workdir / "w.bin"), "--resume", ckpt, "--checkpoint", ckpt]
    )
    one_error_line(res, "--checkpoint", "--resume")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--dim", "1000000000"], ["--dim: expected at most"]),
        (["--dim", "0"], ["--dim: expected a positive integer, got 0"]),
        (["--window", "1000000"], ["--window"]),
        (["--negative", "-1"], ["--negative"]),
        (["--alpha", "nan"], ["--alpha"]),
        (["--alpha", "inf"], ["--alpha"]),
        (["--alpha", "-0.1"], ["--alpha"]),
        (["--sample", "1.5"], ["--sample"]),
        (["--epochs", "1000000000"], ["--epochs"]),
        (["--threads", "100000"], ["--threads"]),
        (["--min-count", "0"], ["--min-count"]),
        (["--max-vocab", "0"], ["--max-vocab"]),
        (["--seed", "-1"], ["--seed: expected an integer >= 0, got -1"]),
        (["--loss", "softmaxx"], ["--loss: expected one of ns, hs, hs+ns, softmax"]),
        (["--loss", "ns", "--negative", "0"], ["--negative"]),
        (["--format", "xml"], ["--format"]),
        (["--sample", "1e-9"], ["--sample: subsampling with --sample 1e-09 left no"]),
    ],
)
def test_absurd_train_options(workdir: Path, args: list[str], needles: list[str]) -> None:
    base = ["train", str(workdir / "c.txt"), "--out", str(workdir / "v.bin"), "--quiet"]
    defaults = ["--dim", "8", "--epochs", "1", "--threads", "1"]
    given = {a for a in args if a.startswith("--")}
    extra = [
        x
        for i in range(0, len(defaults), 2)
        if defaults[i] not in given
        for x in defaults[i : i + 2]
    ]
    one_error_line(runner.invoke(app, [*base, *extra, *args]), *needles)
    assert not (workdir / "v.bin").exists()


def _vectors_and_checkpoint(workdir: Path) -> tuple[Path, Path]:
    v, ckpt = workdir / "v.bin", workdir / "m.npz"
    res = runner.invoke(
        app, ["train", str(workdir / "c.txt"), "--out", str(v), "--checkpoint", str(ckpt), *FAST]
    )
    assert res.exit_code == 0, res.output
    return v, ckpt


def test_wrong_kinds_of_file(workdir: Path) -> None:
    v, ckpt = _vectors_and_checkpoint(workdir)
    c = str(workdir / "c.txt")
    garbage = workdir / "garbage.txt"
    garbage.write_bytes(np.random.default_rng(0).bytes(100_000))
    cases = [
        (["train", str(garbage), "--out", str(workdir / "o.bin")], ["garbage.txt is not text"]),
        (
            ["train", str(ckpt), "--out", str(workdir / "o.bin")],
            ["looks like a crossent checkpoint"],
        ),
        (
            ["train", c, "--out", str(workdir / "o.bin"), "--resume", str(v)],
            ["--resume", "a word2vec vector file?"],
        ),
        (["eval", str(ckpt), "--heldout", str(ckpt)], ["looks like a crossent checkpoint"]),
        (["eval", str(v), "--similarity", str(ckpt)], ["m.npz:1: not UTF-8 text"]),
        (["eval", str(v), "--similarity", c], ["c.txt:1: expected 'word1<TAB>word2<TAB>score'"]),
        (["eval", str(v), "--analogies", str(v)], ["v.bin"]),
        (["eval", str(garbage)], ["garbage.txt: line 1: expected a header 'V D'"]),
        (["similar", str(garbage), "w1"], ["expected a header"]),
        (["similar", c, "w1"], ["c.txt: line 1: expected a header 'V D'"]),
        (["similar", str(v), "w1", "-n", "-1"], ["-n: expected a positive number"]),
        (["similar", str(v), "w1", "-n", "0"], ["-n"]),
        (["eval", str(v), "--heldout", c], ["--heldout needs a checkpoint"]),
    ]
    for args, needles in cases:
        one_error_line(runner.invoke(app, args), *needles)


def test_checkpoint_where_vectors_are_expected_works(workdir: Path) -> None:
    v, ckpt = _vectors_and_checkpoint(workdir)
    for path in (v, ckpt):
        res = runner.invoke(app, ["similar", str(path), "w1", "-n", "3", "--json"])
        assert res.exit_code == 0, res.output
        assert len(json.loads(res.stdout)) == 3


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--epochs", "0"], ["--epochs: expected a positive integer, got 0"]),
        (["--loss", "nope"], ["--loss"]),
    ],
)
def test_demo_bad_input(tmp_path: Path, args: list[str], needles: list[str]) -> None:
    one_error_line(runner.invoke(app, ["demo", "--folder", str(tmp_path / "d"), *args]), *needles)


def test_demo_never_replaces_a_foreign_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    one_error_line(
        runner.invoke(app, ["demo", "--folder", str(tmp_path / "file")]), "not a directory"
    )
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "vectors.bin").write_text("my thesis\n")
    one_error_line(
        runner.invoke(app, ["demo", "--folder", str(folder)]), "was not written by crossent demo"
    )
    assert (folder / "vectors.bin").read_text() == "my thesis\n"


def test_resume_contradictions_name_the_option(workdir: Path) -> None:
    _, ckpt = _vectors_and_checkpoint(workdir)
    c, out = str(workdir / "c.txt"), str(workdir / "w.bin")
    for args, option in [
        (["--dim", "50"], "--dim"),
        (["--loss", "hs"], "--loss"),
        (["--window", "2"], "--window"),
        (["--min-count", "3"], "--min-count"),
        (["--sample", "0.01"], "--sample"),
        (["--lowercase"], "--lowercase"),
        (["--seed", "9"], "--seed"),
        (["--alpha", "0.1"], "--alpha"),
    ]:
        res = runner.invoke(app, ["train", c, "--out", out, "--resume", str(ckpt), *args])
        one_error_line(res, f"{option}: ", "contradicts the checkpoint")
    other = workdir / "other.txt"
    other.write_text("w1 w2 w3\n" * 50)
    res = runner.invoke(app, ["train", str(other), "--out", out, "--resume", str(ckpt)])
    one_error_line(res, "not the corpus the checkpoint was trained on")
    assert not Path(out).exists()


def test_resume_extends_a_finished_run(workdir: Path) -> None:
    _, ckpt = _vectors_and_checkpoint(workdir)  # one epoch, finished
    c, out, more = str(workdir / "c.txt"), str(workdir / "w.bin"), str(workdir / "m3.npz")
    res = runner.invoke(
        app,
        [
            "train",
            c,
            "--out",
            out,
            "--resume",
            str(ckpt),
            "--epochs",
            "3",
            "--checkpoint",
            more,
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    first = SkipGram.load(ckpt).position.epoch_losses
    extended = json.loads(res.stdout)["epoch_losses"]
    assert len(extended) == 3 and extended[0] == first[0]
    assert SkipGram.load(more).position.epoch == 3
    assert KeyedVectors.load(out).vectors.shape == (60, 8)
    res = runner.invoke(app, ["train", c, "--out", out, "--resume", more, "--epochs", "2"])
    one_error_line(res, "--epochs: 2 is fewer than the checkpoint has trained (3 epochs)")
    same = runner.invoke(
        app, ["train", c, "--out", str(workdir / "again.bin"), "--resume", more, "--json"]
    )
    assert same.exit_code == 0, same.output  # nothing left to train: writes the outputs
    assert json.loads(same.stdout)["epoch_losses"] == extended


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    import crossent

    assert res.stdout.strip() == f"crossent {crossent.__version__}"
