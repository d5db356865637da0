"""The command line's error lines in the user's words: the option as typed, the value as
given, the file's problem without the Python API's remedies. Each mistake is one
``error:`` line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer.main
from typer.testing import CliRunner

from crossent.cli import app
from crossent.cli.common import click_errors, usage_message
from crossent.word2vec.formats.files import check_writable
from crossent.word2vec.formats.io import MissingHeaderError, load_word2vec, save_word2vec

from .lines import one_error_line

runner = CliRunner()


@pytest.fixture
def vectors(tmp_path: Path) -> Path:
    path = tmp_path / "v.txt"
    words = ["a", "b", "c"]
    save_word2vec(path, words, np.arange(6, dtype=np.float32).reshape(3, 2) + 1, binary=False)
    return path


def test_headerless_vector_file_is_explained_in_the_cli_words(tmp_path: Path) -> None:
    glove = tmp_path / "glove.txt"
    glove.write_text("a 1 2\nb 3 4\n")
    for command in (["eval", str(glove)], ["similar", str(glove), "a"]):
        err = one_error_line(runner.invoke(app, command), "VECTORS:", "glove.txt: line 1", "'V D'")
        assert "no_header" not in err and "=True" not in err
    with pytest.raises(MissingHeaderError, match="no_header=True reads it") as caught:
        load_word2vec(glove)
    assert "no_header" not in caught.value.fact
    assert load_word2vec(glove, no_header=True)[0] == ["a", "b"]


def test_a_corpus_line_is_not_called_headerless(tmp_path: Path) -> None:
    text = tmp_path / "c.txt"
    text.write_text("the cat sat on the mat\n")
    err = one_error_line(
        runner.invoke(app, ["similar", str(text), "cat"]), "expected a header 'V D'"
    )
    assert "GloVe" not in err


@pytest.mark.parametrize(
    ("name", "head"),
    [("x.ckpt.npz", b""), ("m.ckpt", b""), ("v.bin.ckpt.1", b""), ("v.bin", b"PK\x05\x06")],
)
def test_a_broken_checkpoint_is_called_one(tmp_path: Path, name: str, head: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(head + np.random.default_rng(3).bytes(300))
    for command in (["eval", str(path)], ["similar", str(path), "a"]):
        err = one_error_line(runner.invoke(app, command), f"{name}: not a valid checkpoint")
        assert "header" not in err and "no_header" not in err


def test_a_vector_file_named_like_a_checkpoint_still_loads(vectors: Path) -> None:
    odd = vectors.with_name("v.ckpt")
    odd.write_bytes(vectors.read_bytes())
    res = runner.invoke(app, ["similar", str(odd), "a", "-n", "1", "--json"])
    assert res.exit_code == 0, res.output


def test_out_under_a_file_is_not_a_missing_directory(tmp_path: Path, vectors: Path) -> None:
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    for target in (afile / "x.bin", afile / "sub" / "x.bin"):
        with pytest.raises(PermissionError, match=f"--out: {afile} is not a directory"):
            check_writable(target, "--out")
    err = one_error_line(
        runner.invoke(app, ["train", str(afile), "--out", "/dev/null/x.bin", "--quiet"]),
        "--out: /dev/null is not a directory",
    )
    assert "does not exist" not in err
    with pytest.raises(PermissionError, match="directory .*nowhere does not exist"):
        check_writable(tmp_path / "nowhere" / "x.bin", "--out")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--dim", "abc"], "--dim: expected an integer, got 'abc'"),
        (["-size", "1.5"], "-size: expected an integer, got '1.5'"),
        (["--alpha=1e-x"], "--alpha: expected a number, got '1e-x'"),
        (["--dim", "8", "--dim", "q"], "--dim: expected an integer, got 'q'"),
    ],
)
def test_a_value_of_the_wrong_type_is_quoted(tmp_path: Path, args: list[str], line: str) -> None:
    c, out = tmp_path / "c.txt", tmp_path / "v.bin"
    c.write_text("a b c\n")
    err = one_error_line(runner.invoke(app, ["train", str(c), "--out", str(out), *args]), line)
    assert "Input should be" not in err and "--help" in err
    assert not out.exists()


def test_similar_n_of_the_wrong_type(vectors: Path) -> None:
    one_error_line(
        runner.invoke(app, ["similar", str(vectors), "a", "-n", "x"]),
        "-n: expected an integer, got 'x'",
    )


def test_a_bad_value_without_its_cause_is_found_in_the_arguments() -> None:
    """click's own types keep the value only in the message: it is read from the args."""
    train = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    dim = next(p for p in train.params if p.name == "dim")
    exc = click_errors.BadParameter("'abc' is not a valid integer.", param=dim)
    line = usage_message(exc, ["train", "c.txt", "-size", "abc"])
    assert line == "-size: expected an integer, got 'abc'"


@pytest.mark.parametrize(
    ("option", "content", "needle"),
    [
        ("--similarity", "the cat sat\n", ":1: expected 'word1<TAB>word2<TAB>score'"),
        ("--similarity", None, "file not found"),
        ("--analogies", "a b c\n", ":1: expected 4 words"),
        ("--analogies", "", "no analogy questions"),
    ],
)
def test_eval_errors_name_the_option(
    tmp_path: Path, vectors: Path, option: str, content: str | None, needle: str
) -> None:
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_text(content)
    err = one_error_line(runner.invoke(app, ["eval", str(vectors), option, str(path)]), needle)
    assert err.startswith(f"error: {option}: "), err


def test_eval_heldout_errors_name_the_option() -> None:
    from crossent.cli.evaluate import as_option

    assert as_option("corpus: expected a text file, got a directory: d").startswith("--heldout:")
    assert as_option("heldout: no pair").startswith("--heldout: no pair")
    assert as_option("VECTORS: x") == "VECTORS: x"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "--read-vocab: "),
        (b"60 8\nw1 \x00\x01\x02\n", "line 2: a NUL byte: not a text file"),
        (b"2 2\na 1 2\n", "got 'a 1 2' (a text vector file?)"),
    ],
)
def test_read_vocab_errors_name_the_option(tmp_path: Path, content: bytes, needle: str) -> None:
    c, vocab = tmp_path / "c.txt", tmp_path / "v.vocab"
    c.write_text("a b c\n")
    vocab.write_bytes(content)
    args = ["train", str(c), "--out", str(tmp_path / "o.bin"), "--read-vocab", str(vocab)]
    err = one_error_line(runner.invoke(app, [*args, "--quiet"]), needle)
    assert err.startswith("error: --read-vocab: ") and "b'" not in err


def test_demo_folder_under_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    err = one_error_line(
        runner.invoke(app, ["demo", "--folder", str(afile / "sub")]),
        f"--folder: cannot create {afile / 'sub'}: {afile} is not a directory",
    )
    assert "Errno" not in err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--logits", "1,2", "--target", "5"], "--target: class index 5 is out of range"),
        (["--logits", "nan,1", "--target", "0"], "--logits: expected finite numbers"),
        (["--probs", "0.2,0.2", "--target", "0"], "--probs: expected probabilities summing"),
        (["--logits", "1,2", "--probs", "0.5,0.5", "--target", "0"], "--logits, --probs: "),
        (["--plot", "/dev/null/x.png"], "--plot: '/dev/null' is not a directory"),
    ],
)
def test_explain_errors_name_the_option(args: list[str], line: str) -> None:
    err = one_error_line(runner.invoke(app, ["explain", *args]), line)
    assert "normalize=True" not in err


def test_explain_plot_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crossent.cli.explain as cli_explain

    def refuse(result: object, path: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_explain, "plot_explanation", refuse)
    one_error_line(
        runner.invoke(app, ["explain", "--plot", str(tmp_path / "x.png")]),
        f"--plot: cannot write {tmp_path / 'x.png'}: Permission denied",
    )


def test_eval_defaults_say_which_bundled_file(vectors: Path) -> None:
    err = one_error_line(
        runner.invoke(app, ["eval", str(vectors)]),
        "--similarity: the bundled wordsim353.tsv (used when no task is given",
    )
    assert "/data/" not in err


@pytest.mark.parametrize("command", ["eval", "similar"])
def test_missing_vectors_argument_is_named_as_in_help(command: str) -> None:
    one_error_line(runner.invoke(app, [command]), "missing argument VECTORS")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"2 2\na 1 2\nb 3 4\n", "(header '2 2')"),
        (b"a 1 2\nb 3 4\nc 5 6\n", "(no header, lines of a word and 2 numbers)"),
    ],
)
def test_a_text_vector_file_is_not_a_corpus(tmp_path: Path, content: bytes, needle: str) -> None:
    vec, out = tmp_path / "vec.txt", tmp_path / "o.bin"
    vec.write_bytes(content)
    args = ["train", str(vec), "--out", str(out), "--min-count", "1", "--quiet"]
    one_error_line(
        runner.invoke(app, args), f"CORPUS: {vec} is a word2vec text vector file", needle
    )
    assert not out.exists()


def test_a_corpus_with_numbers_still_trains(tmp_path: Path) -> None:
    c, out = tmp_path / "c.txt", tmp_path / "o.bin"
    c.write_text("2 2\nin 1999 the 3 cats sat\n" * 20)
    args = ["train", str(c), "--out", str(out), "--min-count", "1", "--dim", "4", "--quiet"]
    res = runner.invoke(app, [*args, "--epochs", "1", "--threads", "1", "--sample", "0"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    "args",
    [
        ["train", "c.txt", "--dim"],
        ["similar", "v.bin", "w", "--negative"],
        ["eval", "v.bin", "--similarity"],
    ],
)
def test_an_option_without_its_value(args: list[str]) -> None:
    one_error_line(runner.invoke(app, args), f"{args[-1]}: expected a value after it, got none")


def _python(*argv: str, **options: Any) -> subprocess.CompletedProcess[Any]:
    """``python ARGV`` in a child that imports this tree's crossent (``timeout`` 60 s
    unless given)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    options.setdefault("timeout", 60)
    return subprocess.run([sys.executable, *argv], env=env, check=False, **options)


@pytest.mark.parametrize("args", [["explain"], ["train", "--help"], ["--help"]])
def test_a_closed_stdout_ends_quietly_with_the_sigpipe_status(args: list[str]) -> None:
    """``crossent explain | head -1``: no traceback, nothing on stderr, status 141 (also
    for typer's help, which rich's own console ended with status 1)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write
    try:
        proc = _python("-m", "crossent", *args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert proc.stderr == b"" and proc.returncode == 141, (proc.returncode, proc.stderr)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [["explain"], ["explain", "--json"]])
def test_a_full_stdout_is_one_error_line(args: list[str]) -> None:
    """``crossent explain > /dev/full``: one line naming stdout and the reason, status 1
    (rich's table write raised a traceback; typer's echo failed at Python's exit)."""
    with open("/dev/full", "w") as full:
        proc = _python("-m", "crossent", *args, stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 1
    assert proc.stderr == "error: stdout: No space left on device\n", proc.stderr


@pytest.mark.parametrize("args", [["explain", "--json"], ["--version"]])
def test_no_stdout_at_all_is_not_a_traceback(args: list[str]) -> None:
    """``crossent explain >&-``: Python starts without ``sys.stdout``; the command runs
    and exits 0 as before the stdout checks (which read ``sys.stdout.fileno()``)."""
    proc = _python(
        "-m",
        "crossent",
        *args,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),  # the child's stdout, closed
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


TEARDOWN_PROBE = """
import atexit, sys
atexit.register(lambda: print("teardown ran", file=sys.stderr))
sys.argv = ["crossent", *sys.argv[1:]]
from crossent.cli import main
main()
"""


@pytest.mark.parametrize(
    ("args", "status"),
    [(["explain", "--json"], 0), (["train", "missing.txt", "--out", "v.bin"], 2)],
)
def test_the_process_ends_after_flushing_without_pythons_teardown(
    args: list[str], status: int, tmp_path: Path
) -> None:
    """``main`` flushes and leaves with ``os._exit``: the whole output and the status
    arrive, the module teardown (here an ``atexit`` probe) does not run."""
    proc = _python(
        "-c", TEARDOWN_PROBE, *args, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == status, proc.stderr
    assert "teardown ran" not in proc.stderr
    if status == 0:
        assert json.loads(proc.stdout) == json.loads(runner.invoke(app, args).output)
    else:
        assert (
            proc.stderr.startswith("error: CORPUS: file not found") and proc.stderr.count("\n") == 1
        )


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["train", "c.txt", "--out", ""], "--out"),
        (["train", "c.txt", "--out="], "--out"),
        (["train", "", "--out", "v.bin"], "CORPUS"),
        (["similar", "", "x"], "VECTORS"),
        (["eval", ""], "VECTORS"),
    ],
)
def test_an_empty_path_is_called_empty(args: list[str], name: str) -> None:
    """``Path("")`` is ``.``: without the check it read '. is a directory'."""
    err = one_error_line(runner.invoke(app, args), f"{name}: empty path")
    assert "directory" not in err


def test_out_through_a_symbolic_link_and_not_to_stdout(tmp_path: Path) -> None:
    """A link (dangling, then existing) is written through and stays a link; ``-`` is
    refused in one line; a link to the corpus stays refused."""
    c, link = tmp_path / "c.txt", tmp_path / "link.bin"
    c.write_text("a b c a b c\n")
    link.symlink_to("real.bin")
    base = ["train", str(c), "--min-count", "1", "--sample", "0", "--quiet", "--dim", "4"]
    for _ in range(2):
        res = runner.invoke(app, [*base, "--epochs", "1", "--out", str(link)])
        assert res.exit_code == 0, res.output
        assert link.is_symlink() and (tmp_path / "real.bin").stat().st_size > 0
    one_error_line(runner.invoke(app, [*base, "--out", "-"]), "--out: '-' (standard output)")
    assert not (Path.cwd() / "-").exists()
    (tmp_path / "lc.bin").symlink_to(c)
    one_error_line(
        runner.invoke(app, [*base, "--out", str(tmp_path / "lc.bin")]), "the same file as"
    )


def test_training_errors_name_the_options_and_corpus(tmp_path: Path) -> None:
    """The library says ``min_count=5`` and ``corpus:``; the command line says
    ``--min-count 5`` and ``CORPUS:`` as ``--help`` does."""
    c, out = tmp_path / "c.txt", str(tmp_path / "o.bin")
    c.write_text("a b c a b c\n")
    err = one_error_line(runner.invoke(app, ["train", str(c), "--out", out]), "--min-count 5 times")
    assert err.startswith("error: CORPUS: ") and "min_count" not in err
    args = ["train", str(c), "--out", out, "--min-count", "1", "--quiet"]
    err = one_error_line(runner.invoke(app, args), "--sample: subsampling with --sample 0.001")
    err = one_error_line(runner.invoke(app, ["train", str(tmp_path / "no.txt"), "--out", out]))
    assert err.startswith("error: CORPUS: file not found")
