"""The command line's word2vec.c / gensim options: --model cbow, --hs, vocabulary files,
--update-vocab, and their error messages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crossent.cli import app
from crossent.word2vec import KeyedVectors, SkipGram
from crossent.word2vec.training.vocab import Vocabulary
from crossent.word2vec.training.vocabfile import vocab_lines

runner = CliRunner()
SMALL = ["--dim", "8", "--epochs", "1", "--threads", "1"]


def _train(corpus: Path, tmp_path: Path, *extra: str) -> SkipGram:
    ckpt = tmp_path / "m.npz"
    args = ["train", str(corpus), "--out", str(tmp_path / "v.bin"), "--checkpoint", str(ckpt)]
    res = runner.invoke(app, [*args, *SMALL, "--json", *extra])
    assert res.exit_code == 0, res.output
    return SkipGram.load(ckpt)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--model", "cbow"], ("cbow", "ns", True, 0.75, True)),
        (["--model", "cbow", "--no-cbow-mean", "--hs"], ("cbow", "hs+ns", False, 0.75, True)),
        (["--hs", "--negative", "0"], ("skipgram", "hs", True, 0.75, True)),
        (["--ns-exponent", "0.5", "--no-shrink-windows"], ("skipgram", "ns", True, 0.5, False)),
    ],
)
def test_model_options_reach_the_config(
    corpus: Path, tmp_path: Path, options: list[str], expected: tuple[object, ...]
) -> None:
    cfg = _train(corpus, tmp_path, *options).config
    assert (cfg.model, cfg.loss, cfg.cbow_mean, cfg.ns_exponent, cfg.shrink_windows) == expected


def test_save_and_read_vocab(corpus: Path, tmp_path: Path) -> None:
    model = _train(corpus, tmp_path, "--save-vocab", str(tmp_path / "vocab.txt"))
    counts = Counter(corpus.read_text().split())
    expected = vocab_lines(Vocabulary.build(counts, min_count=5))
    assert (tmp_path / "vocab.txt").read_bytes() == expected
    assert model.vocab.words == Vocabulary.build(counts, min_count=5).words
    (tmp_path / "small.vocab").write_text("w1 100\nw2 50\nw3 4\n")
    read = _train(corpus, tmp_path, "--read-vocab", str(tmp_path / "small.vocab"))
    assert read.vocab.words == ["w1", "w2"] and read.vocab.counts.tolist() == [100, 50]


def test_update_vocab_grows_a_checkpoint(corpus: Path, tmp_path: Path) -> None:
    old = _train(corpus, tmp_path)
    new = tmp_path / "new.txt"
    new.write_text("fresh w1 w2 fresh w3 fresh word fresh word fresh\n" * 3)
    out, ckpt = tmp_path / "v2.bin", tmp_path / "m2.npz"
    args = ["train", str(new), "--out", str(out), "--resume", str(tmp_path / "m.npz")]
    res = runner.invoke(app, [*args, "--update-vocab", "--checkpoint", str(ckpt), "--json"])
    assert res.exit_code == 0, res.output
    grown = SkipGram.load(ckpt)
    assert set(grown.vocab.words) == set(old.vocab.words) | {"fresh", "word"}
    assert (
        grown.vocab.counts[grown.vocab.index["w1"]] == old.vocab.counts[old.vocab.index["w1"]] + 3
    )
    kv = KeyedVectors.load(out)
    np.testing.assert_array_equal(kv["w30"], old.keyed_vectors()["w30"])  # not in the new text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--update-vocab"], "--update-vocab: needs --resume"),
        (["--hs", "--loss", "softmax"], "--hs: give either --hs"),
        (["--model", "bag"], "model: expected one of"),
        (["--read-vocab", "missing.vocab"], "--read-vocab: file not found: missing.vocab"),
    ],
)
def test_mistakes_are_one_line_and_status_2(
    corpus: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    res = runner.invoke(app, ["train", str(corpus), "--out", str(tmp_path / "v.bin"), *options])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
