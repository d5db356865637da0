"""The command line a word2vec.c / gensim user expects: word2vec.c's spellings, usage
errors as one line, output formats named by the file, analogies, gensim's vocabulary
bytes, SIGTERM as Ctrl-C until the process ends."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from crossent.cli import app
from crossent.word2vec import KeyedVectors, SkipGram

runner = CliRunner()
SMALL = ["--dim", "8", "--epochs", "1", "--threads", "1", "--quiet"]


def _one_error_line(res: Result, *needles: str) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    err = res.stderr.strip()
    assert "\n" not in err and err.startswith("error: "), err
    assert "Traceback" not in res.output and "╭" not in res.output
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["train"], ["--out: missing"]),
        (["train", "c.txt", "--bogus"], ["--bogus: no such option", "train --help"]),
        (["train", "c.txt", "--out", "v.bin", "--dim", "abc"], ["--dim: expected an integer"]),
        (["train", "c.txt", "--out"], ["--out: expected a value after it, got none"]),
        (["train", "c.txt", "-classes", "5"], ["-classes: no such option", "not implemented"]),
        (["train", "-train", "c.txt", "-debug", "2"], ["-debug: no such option"]),
        (["nosuch"], ["no such command 'nosuch'"]),
        (["similar"], ["missing argument"]),
        (["similar", "v.bin", "w", "-n", "x"], ["-n"]),
        (["eval", "v.bin", "--json", "extra"], ["extra"]),
        (["train", "c.txt", "--out", "v.bin", "--cbow-mean", "yes"], ["--cbow-mean: expected"]),
        (["train", "c.txt", "--out", "v.bin", "-cbow", "2"], ["-cbow: expected 0 or 1"]),
        (["train", "c.txt", "--out", "v.bin", "-cbow", "1", "--model", "skipgram"], ["-cbow"]),
        (["train", "c.txt", "--out", "v.bin", "-binary", "0", "--format", "bin"], ["-binary"]),
        (["train", "c.txt", "--out", "v.txt", "--format", "bin"], ["--out", "text file"]),
        (["train", "c.txt", "--out", "v.bin", "--format", "text"], ["--out", "binary file"]),
        (["train", "c.txt", "--out", "v.bin", "--no-cbow-mean", "--cbow-mean", "1"], ["contra"]),
    ],
)
def test_usage_errors_are_one_line_and_status_2(
    args: list[str], needles: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    _one_error_line(runner.invoke(app, args), *needles)
    assert list(tmp_path.iterdir()) == []


def test_usage_error_through_a_pipe() -> None:
    """``crossent train 2>&1 | cat``: one plain line, no box, no colour codes."""
    for args in (["train"], ["train", "x.txt", "--bogus"], ["similar", "v.bin"]):
        res = subprocess.run(
            [sys.executable, "-m", "crossent", *args], capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 2, res
        assert res.stdout == ""
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
        assert "\x1b" not in res.stderr


def test_word2vec_c_spellings_reach_the_config(corpus: Path, tmp_path: Path) -> None:
    out, ckpt = tmp_path / "vectors", tmp_path / "m.npz"
    args = [
        "train", "-train", str(corpus), "-output", str(out), "-size", "8", "-window", "3",
        "-sample", "0", "-cbow", "1", "-hs", "1", "-negative", "0", "-iter", "2",
        "-min-count", "2", "-alpha", "0.05", "-threads", "1", "-binary", "0",
        "-save-vocab", str(tmp_path / "v.vocab"), "--checkpoint", str(ckpt), "--quiet",
    ]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    cfg = SkipGram.load(ckpt).config
    got = (cfg.dim, cfg.window, cfg.sample, cfg.model, cfg.loss, cfg.epochs, cfg.min_count,
           cfg.alpha, cfg.threads)  # fmt: skip
    assert got == (8, 3, 0.0, "cbow", "hs", 2, 2, 0.05, 1)
    assert out.read_bytes()[:20].split(b"\n")[0] == b"60 8"
    assert out.read_text().count("\n") == 61  # -binary 0: text
    assert (tmp_path / "v.vocab").exists()


@pytest.mark.parametrize(
    ("options", "mean"),
    [([], True), (["--cbow-mean", "0"], False), (["--cbow-mean", "1"], True),
     (["--no-cbow-mean"], False)],
)  # fmt: skip
def test_cbow_mean_zero_one(corpus: Path, tmp_path: Path, options: list[str], mean: bool) -> None:
    ckpt = tmp_path / "m.npz"
    args = ["train", str(corpus), "--out", str(tmp_path / "v.bin"), "--checkpoint", str(ckpt)]
    res = runner.invoke(app, [*args, "--model", "cbow", *options, *SMALL])
    assert res.exit_code == 0, res.output
    assert SkipGram.load(ckpt).config.cbow_mean is mean


@pytest.mark.parametrize(
    ("name", "options", "binary"),
    [("v.txt", [], False), ("v.vec", [], False), ("v.bin", [], True), ("v", [], True),
     ("v", ["--format", "text"], False), ("v.TXT", ["--format", "text"], False)],
)  # fmt: skip
def test_out_suffix_names_the_format(
    corpus: Path, tmp_path: Path, name: str, options: list[str], binary: bool
) -> None:
    out = tmp_path / name
    res = runner.invoke(app, ["train", str(corpus), "--out", str(out), *options, *SMALL])
    assert res.exit_code == 0, res.output
    header, rest = out.read_bytes().split(b"\n", 1)
    assert header == b"60 8"
    if binary:  # word, space, 8 little-endian float32, as word2vec.c writes
        assert not rest.isascii()
    else:
        rows = [line.split() for line in rest.decode("ascii").splitlines()]
        assert len(rows) == 60 and all(len(r) == 9 for r in rows)
        np.array([r[1:] for r in rows], dtype=float)
    assert KeyedVectors.load(out).vectors.shape == (60, 8)


@pytest.mark.parametrize(
    ("name", "magic"), [("l.svg", b"<?xml"), ("l.png", b"\x89PNG"), ("l.pdf", b"%PDF")]
)
def test_plot_format_follows_the_name(
    corpus: Path, tmp_path: Path, name: str, magic: bytes
) -> None:
    args = ["train", str(corpus), "--out", str(tmp_path / "v.bin"), "--plot", str(tmp_path / name)]
    res = runner.invoke(app, [*args, *SMALL])
    assert res.exit_code == 0, res.output
    assert (tmp_path / name).read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["loss.txt", "loss", "loss.jpeg"])
def test_plot_with_another_suffix_is_refused_before_training(
    corpus: Path, tmp_path: Path, name: str
) -> None:
    args = ["train", str(corpus), "--out", str(tmp_path / "v.bin"), "--plot", str(tmp_path / name)]
    _one_error_line(runner.invoke(app, [*args, *SMALL]), "--plot", ".png, .svg or .pdf")
    assert list(tmp_path.iterdir()) == []


def test_analogy_query_as_gensim(tmp_path: Path) -> None:
    """``--positive king woman --negative man`` ranks as gensim's most_similar (and
    ``--cosmul`` as most_similar_cosmul) on the same vectors."""
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    rng = np.random.default_rng(5)
    words = ["king", "queen", "man", "woman"] + [f"x{i}" for i in range(40)]
    vectors = rng.standard_normal((len(words), 6)).astype(np.float32)
    vectors[1] = vectors[0] - vectors[2] + vectors[3] + 0.05 * vectors[5]
    path = tmp_path / "v.bin"
    KeyedVectors(words, vectors).save(path)
    theirs = keyedvectors.KeyedVectors(6)
    theirs.add_vectors(words, vectors)
    for flag, method in (([], theirs.most_similar), (["--cosmul"], theirs.most_similar_cosmul)):
        args = ["similar", str(path), "--positive", "king", "woman", "--negative", "man"]
        res = runner.invoke(app, [*args, "-n", "5", "--json", *flag])
        assert res.exit_code == 0, res.output
        ours = json.loads(res.stdout)
        with warnings.catch_warnings():  # gensim's cosmul calls its own deprecated init_sims
            warnings.simplefilter("ignore", DeprecationWarning)
            expected = method(positive=["king", "woman"], negative=["man"], topn=5)
        assert [r["word"] for r in ours] == [w for w, _ in expected]
        np.testing.assert_allclose([r["similarity"] for r in ours], [s for _, s in expected],
                                   rtol=1e-5, atol=1e-6)  # fmt: skip
        assert ours[0]["word"] == "queen"
    res = runner.invoke(app, ["similar", str(path), "--positive", "king", "--negative", "kong"])
    _one_error_line(res, "kong")
    _one_error_line(runner.invoke(app, ["similar", str(path), "--negative", "man"]), "WORD")


def _tied_corpus(path: Path) -> Path:
    """Many words of equal counts, met in a shuffled order (the order of ties matters)."""
    rng = np.random.default_rng(11)
    counts = {f"t{i}": int(c) for i, c in enumerate(rng.integers(1, 6, 80))}
    tokens = [w for w, c in counts.items() for _ in range(c)]
    rng.shuffle(tokens)
    path.write_text("\n".join(" ".join(tokens[i : i + 7]) for i in range(0, len(tokens), 7)))
    return path


@pytest.mark.parametrize("min_count", [1, 2])
def test_save_vocab_is_gensims_bytes_ties_included(tmp_path: Path, min_count: int) -> None:
    word2vec = pytest.importorskip("gensim.models.word2vec")
    corpus = _tied_corpus(tmp_path / "c.txt")
    theirs = word2vec.Word2Vec(vector_size=4, min_count=min_count)
    theirs.build_vocab(word2vec.LineSentence(str(corpus)))
    theirs.wv.save_word2vec_format(str(tmp_path / "g.txt"), fvocab=str(tmp_path / "g.vocab"))
    ours = tmp_path / "ours.vocab"
    args = ["train", str(corpus), "--out", str(tmp_path / "v.bin"), "--save-vocab", str(ours)]
    res = runner.invoke(app, [*args, "--min-count", str(min_count), *SMALL])
    assert res.exit_code == 0, res.output
    expected = (tmp_path / "g.vocab").read_bytes()
    counts = Counter(expected.split()[1::2])
    assert max(counts.values()) > 5  # the file has long runs of ties
    assert ours.read_bytes() == expected
    again = tmp_path / "again.vocab"  # read back and saved: the same file
    args = ["train", str(corpus), "--out", str(tmp_path / "w.bin"), "--read-vocab", str(ours)]
    res = runner.invoke(app, [*args, "--save-vocab", str(again), "--min-count", "1", *SMALL])
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == expected


SIGTERM_AT = {  # where the child sends itself SIGTERM: (module, attribute, before the call)
    "inside the vector write": (
        "crossent.word2vec.vectors.keyedvectors",
        "KeyedVectors.save",
        True,
    ),
    "after every output": ("crossent.cli.train", "_write_outputs", False),
}
CHILD = """
import atexit, importlib, os, signal, sys, time

def kill():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)  # the handler runs here

where, corpus, out = sys.argv[1:4]
if where == "at exit":
    atexit.register(kill)
else:
    module, attr, before = {table}[where]
    owner = importlib.import_module(module)
    *parents, name = attr.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)

    def patched(*args, **kwargs):
        if before:
            kill()
        result = original(*args, **kwargs)
        if not before:
            kill()
        return result

    setattr(owner, name, patched)
sys.argv = ["crossent", "train", corpus, "--out", out, "--dim", "8", "--epochs", "1",
            "--threads", "1", "--min-count", "1"]
from crossent.cli import main

main()
"""


def _run_with_sigterm(tmp_path: Path, corpus: Path, where: str) -> subprocess.CompletedProcess[str]:
    """``crossent train`` in a child that sends itself SIGTERM at ``where``:
    deterministic, unlike a signal sent from outside at a guessed moment."""
    script = CHILD.replace("{table}", repr(SIGTERM_AT))
    args = [sys.executable, "-c", script, where, str(corpus), str(tmp_path / "v.txt")]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("where", ["inside the vector write", "after every output", "at exit"])
def test_sigterm_is_ctrl_c_until_the_process_ends(corpus: Path, tmp_path: Path, where: str) -> None:
    out = tmp_path / "v.txt"
    out.write_bytes(b"previous version")
    res = _run_with_sigterm(tmp_path, corpus, where)
    assert res.returncode != -signal.SIGTERM, res.stderr  # never the default action
    assert "Traceback" not in res.stderr.split("Exception ignored")[0], res.stderr
    if where == "inside the vector write":
        assert res.returncode == 130, res.stderr
        assert out.read_bytes() == b"previous version"
        assert "not written (previous versions intact)" in res.stderr
        assert (tmp_path / "v.txt.ckpt").exists()  # the trained model is kept
    else:
        assert KeyedVectors.load(out).vectors.shape == (60, 8)
        if where == "after every output":
            assert res.returncode == 130, res.stderr
            assert "interrupted after every output was written" in res.stderr


def test_help_text_for_every_option() -> None:
    import typer

    for command in typer.main.get_command(app).commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            if param.name == "help":
                continue
            assert getattr(param, "help", None), f"{command.name} {param.name}: no help"


def test_progress_before_the_first_pair_shows_no_nan() -> None:
    """The first report comes before any pair is trained: no 'loss nan lr 0.00000'."""
    from rich.progress import Progress as Bar

    from crossent.cli.progress import LossColumn, line
    from crossent.word2vec import Progress

    first = Progress(
        epoch=0, epochs=5, words_done=0, words_total=1000, loss=float("nan"), pairs=0,
        alpha=0.0, words_per_second=0.0, epoch_losses=[],
    )  # fmt: skip
    assert "nan" not in line(first) and "loss -   lr -" in line(first)
    bar = Bar()
    bar.add_task("reading", loss=float("nan"), alpha=0.0)
    bar.add_task("training", loss=2.5, alpha=0.0125)
    reading, training = bar.tasks
    assert LossColumn().render(reading).plain == "loss -   lr -"
    assert LossColumn().render(training).plain == "loss 2.5000   lr 0.01250"
