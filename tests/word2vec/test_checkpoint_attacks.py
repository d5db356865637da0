"""Crafted checkpoints, each array or setting wrong in turn: a clear CheckpointError naming
the member, never an out-of-bounds write in the kernels (``--resume``, held-out loss)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import CheckpointError, SkipGram, TrainConfig, train
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.training.checkpoint import read_checkpoint, save_checkpoint


def _parts(model: SkipGram) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    arrays = {
        "syn0": model.syn0.copy(),
        "syn1": model.syn1.copy(),
        "counts": model.vocab.counts.copy(),
        "words": np.asarray(model.vocab.words),
    }
    meta = {
        "config": model.config.to_dict(),
        "position": dict(vars(model.position)),
        "corpus": dict(model.corpus or {}),
    }
    return arrays, json.loads(json.dumps(meta))


def _nan_at(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a[1, 2] = np.nan
    return a


ARRAY_ATTACKS = {  # member: {attack: mutation}, the message names the member
    "syn0": {
        "fewer rows": lambda a: a[:-1],
        "wider": lambda a: np.hstack([a, a[:, :1]]),
        "int32": lambda a: a.astype(np.int32),
        "float64": lambda a: a.astype(np.float64),
        "flat": lambda a: a.ravel(),
        "NaN": _nan_at,
        "inf": lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.inf, a).astype(
            np.float32
        ),
        "Fortran order": lambda a: np.asfortranarray(np.hstack([a, a])[:, : a.shape[1]]),
        "big-endian": lambda a: a.astype(">f4"),
    },
    "syn1": {
        "fewer rows": lambda a: a[:-2],
        "one more row": lambda a: np.vstack([a, a[:1]]),
        "int32": lambda a: a.astype(np.int32),
        "NaN": _nan_at,
        "3-d": lambda a: a[None],
    },
    "counts": {
        "shorter": lambda c: c[:-1],
        "a zero": lambda c: np.concatenate([c[:-1], [0]]),
        "negative": lambda c: -c,
        "increasing": lambda c: c[::-1].copy(),
        "float": lambda c: c.astype(np.float64),
        "huge total": lambda c: np.full_like(c, 2**62),
    },
    "words": {
        "fewer": lambda w: w[:-1],
        "a repeat": lambda w: np.concatenate([w[:-1], w[:1]]),
        "empty word": lambda w: np.concatenate([w[:-1], [""]]),
        "word with a space": lambda w: np.concatenate([w[:-1], ["a b"]]),
        "numbers": lambda w: np.arange(len(w)),
    },
}


@pytest.mark.parametrize(
    ("member", "attack"), [(m, a) for m, attacks in ARRAY_ATTACKS.items() for a in attacks]
)
def test_each_array_wrong_in_turn(
    trained: tuple[Path, SkipGram], tmp_path: Path, member: str, attack: str
) -> None:
    _, model = trained
    arrays, meta = _parts(model)
    arrays[member] = ARRAY_ATTACKS[member][attack](arrays[member])
    path = tmp_path / "bad.npz"
    save_checkpoint(path, arrays, meta)
    with pytest.raises(CheckpointError, match=rf"bad.npz: .*{member}|{member}.*bad.npz"):
        SkipGram.load(path)


META_ATTACKS: dict[str, tuple[str, Any, str]] = {  # attack: (path in meta, value, message)
    "dim disagrees with syn0": ("config.dim", 7, "syn0: expected shape"),
    "objective switched": ("config.loss", "softmax_or_hs", "config: loss"),
    "hs without its tree rows": ("config.loss", "@other", "syn1: expected shape"),
    "negative dim": ("config.dim", -6, "config: dim"),
    "unknown setting": ("config.bogus", 1, "config: bogus"),
    "window as a string": ("config.window", "5", "config: window"),
    "negative epoch": ("position.epoch", -1, "position: epoch"),
    "epoch beyond epochs": ("position.epoch", 9, "position: epoch 9 beyond"),
    "losses do not match epochs": ("position.epoch_losses", [1.0, 2.0], "epoch_losses"),
    "NaN partial loss": ("position.partial_loss", float("nan"), "partial_loss"),
    "negative job": ("position.job", -3, "position: job"),
    "boolean pairs": ("position.partial_pairs", True, "partial_pairs"),
    "words beyond the run": ("position.words_done", 10**12, "words_done"),
    "missing position field": ("position.job", "@delete", "position: expected the fields"),
    "corpus digest mangled": ("corpus.digest", 5, "corpus: expected"),
    "no corpus after training": ("corpus", None, "corpus: a trained model"),
    "newer version": ("version", 99, "version 99 is incompatible"),
    "another format": ("format", "something-else", "not a crossent checkpoint"),
}


@pytest.mark.parametrize("attack", list(META_ATTACKS))
def test_each_setting_wrong_in_turn(
    trained: tuple[Path, SkipGram], tmp_path: Path, attack: str
) -> None:
    _, model = trained
    arrays, meta = _parts(model)
    where, value, message = META_ATTACKS[attack]
    if value == "@other":
        value = "ns" if model.config.loss == "hs" else "hs"
    elif value == "softmax_or_hs":
        value = "softmax" if model.config.loss == "hs" else "hs"
        message = "syn1: expected shape"
    *parents, key = where.split(".")
    node = meta
    for p in parents:
        node = node[p]
    if value == "@delete":
        del node[key]
    else:
        node[key] = value
    path = tmp_path / "bad.npz"
    save_checkpoint(path, arrays, meta)
    with pytest.raises(CheckpointError, match=message):
        SkipGram.load(path)


def _rewrite(src: Path, dst: Path, edit: Any) -> None:
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    edit(members)
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_structural_attacks(trained: tuple[Path, SkipGram], tmp_path: Path) -> None:
    path, _ = trained
    bad = tmp_path / "bad.npz"
    _rewrite(path, bad, lambda m: m.pop("syn1.npy"))
    with pytest.raises(CheckpointError, match=r"missing \['syn1.npy'\]"):
        read_checkpoint(bad)
    _rewrite(path, bad, lambda m: m.update({"evil.npy": m["syn0.npy"]}))
    with pytest.raises(CheckpointError, match=r"unexpected \['evil.npy'\]"):
        read_checkpoint(bad)
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))
    with pytest.raises(CheckpointError, match="compressed"):
        read_checkpoint(bad)

    def huge_header(m: dict[str, bytes]) -> None:  # a header promising 10^18 floats
        data = m["syn0.npy"]
        end = data.index(b"\n") + 1
        header = data[10:end].replace(b"'shape': (", b"'shape': (1000000000, 1000000000, ")
        header = header.replace(b"), }", b"), }")
        m["syn0.npy"] = data[:8] + len(header).to_bytes(2, "little") + header + data[end:]

    _rewrite(path, bad, huge_header)
    with pytest.raises(CheckpointError, match="syn0"):
        read_checkpoint(bad)
    bad.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="not a crossent checkpoint"):
        read_checkpoint(bad)


def test_a_sound_checkpoint_resumes_and_scores(
    trained: tuple[Path, SkipGram], small_corpus: Path
) -> None:
    """The control: the untouched checkpoint trains on and gives a held-out loss."""
    path, model = trained
    loaded = SkipGram.load(path)
    np.testing.assert_array_equal(loaded.syn1, model.syn1)
    resumed = train(
        small_corpus, TrainConfig(**{**model.config.to_dict(), "epochs": 2}), model=loaded
    )
    assert len(resumed.position.epoch_losses) == 2
    assert np.isfinite(heldout_loss(resumed, small_corpus)["loss"])


def test_position_beyond_the_corpus_is_refused(
    trained: tuple[Path, SkipGram], small_corpus: Path, tmp_path: Path
) -> None:
    _, model = trained
    arrays, meta = _parts(model)
    meta["config"]["epochs"] = 3
    meta["position"]["job"] = 10**6
    save_checkpoint(tmp_path / "far.npz", arrays, meta)
    loaded = SkipGram.load(tmp_path / "far.npz")
    with pytest.raises(CheckpointError, match="job 1000000 is beyond the 1 jobs"):
        train(small_corpus, model=loaded)


def test_another_corpus_is_refused(
    trained: tuple[Path, SkipGram], small_corpus: Path, tmp_path: Path
) -> None:
    path, _ = trained
    other = tmp_path / "other.txt"
    other.write_text(small_corpus.read_text().replace("w1 ", "w2 ", 3))
    with pytest.raises(ValueError, match="not the corpus the checkpoint was trained on"):
        train(
            other,
            TrainConfig(**{**SkipGram.load(path).config.to_dict(), "epochs": 2}),
            model=SkipGram.load(path),
        )


@pytest.mark.parametrize("version", [2, 3])
def test_older_versions_load_unless_they_trained_a_huffman_tree(
    trained: tuple[Path, SkipGram], tmp_path: Path, version: int
) -> None:
    """Versions 2 and 3 built other Huffman trees on ties (vocabulary order, a shuffle):
    their hs checkpoints' inner-node vectors belong to another tree and are refused; ns
    ones still load."""
    _, model = trained
    arrays, meta = _parts(model)
    path = tmp_path / "old.npz"
    save_checkpoint(path, arrays, {**meta, "version": version})
    if model.config.hs:
        pattern = rf"old.npz: a version-{version} checkpoint of loss='hs'"
        with pytest.raises(CheckpointError, match=pattern):
            SkipGram.load(path)
    else:
        loaded = SkipGram.load(path)
        np.testing.assert_array_equal(loaded.syn0, model.syn0)
    save_checkpoint(path, arrays, meta)  # this crossent's version: both load
    np.testing.assert_array_equal(SkipGram.load(path).syn1, model.syn1)
