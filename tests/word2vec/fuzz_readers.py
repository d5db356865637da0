"""Fuzzing of every file reader, run in a child process by ``test_fuzz.py`` (a crash by a
signal would kill the child, not the test run).

``python fuzz_readers.py DIR SEED ROUNDS``: writes a corpus, a trained checkpoint and vector
files into DIR, then throws random bytes and random mutations of those files at every
reader. A reader may succeed or raise ``ValueError`` (the library's errors derive from it);
any other exception is reported. Each checkpoint that loads is trained on and scored, so
the numba kernels run on whatever the loader accepted. Prints a JSON summary.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from crossent.word2vec import KeyedVectors, SkipGram, TrainConfig, train
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.formats.evalsets import read_analogies, read_word_pairs
from crossent.word2vec.training.checkpoint import save_checkpoint
from crossent.word2vec.training.model import load_any

READERS: dict[str, Callable[[Path], Any]] = {
    "vectors": KeyedVectors.load,
    "vectors (binary)": lambda p: KeyedVectors.load(p, binary=True),
    "vectors (text)": lambda p: KeyedVectors.load(p, binary=False),
    "checkpoint": SkipGram.load,
    "any": load_any,
    "word pairs": read_word_pairs,
    "analogies": read_analogies,
}


def _mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 8))):
        kind = rng.integers(4)
        at = int(rng.integers(0, max(len(buf), 1)))
        if kind == 0 and buf:
            buf[at] = int(rng.integers(256))
        elif kind == 1:
            buf[at:at] = rng.bytes(int(rng.integers(1, 16)))
        elif kind == 2:
            del buf[at : at + int(rng.integers(1, 64))]
        else:
            buf = buf[:at]
    return bytes(buf)


def _random_value(rng: np.random.Generator) -> Any:
    choices: list[Any] = [
        -1,
        0,
        1,
        2**40,
        -(2**63),
        1.5,
        float("nan"),
        float("inf"),
        "x",
        "",
        None,
        True,
        [],
        {},
        [1.0, -2.0],
    ]
    return choices[int(rng.integers(len(choices)))]


def _random_array(rng: np.random.Generator) -> np.ndarray:
    shape = tuple(int(x) for x in rng.integers(0, 40, size=int(rng.integers(0, 3))))
    dtype = [np.float32, np.float64, np.int32, np.int64, np.int8, "<U3"][int(rng.integers(6))]
    if dtype == "<U3":
        return np.asarray(rng.choice(["a", "b", "", "c d", "w1"], size=shape))
    return (rng.normal(size=shape) * 10 ** rng.integers(0, 12)).astype(dtype)


def _mutate_checkpoint(model: SkipGram, path: Path, rng: np.random.Generator) -> None:
    arrays = {
        "syn0": model.syn0.copy(),
        "syn1": model.syn1.copy(),
        "counts": model.vocab.counts.copy(),
        "words": np.asarray(model.vocab.words),
    }
    meta = json.loads(
        json.dumps(
            {
                "config": model.config.to_dict(),
                "position": vars(model.position),
                "corpus": model.corpus,
            }
        )
    )
    for _ in range(int(rng.integers(1, 3))):
        if rng.random() < 0.5:
            name = list(arrays)[int(rng.integers(4))]
            cut = arrays[name].ndim > 0 and rng.random() < 0.5
            arrays[name] = arrays[name][: int(rng.integers(0, 40))] if cut else _random_array(rng)
        else:
            section = ["config", "position", "corpus"][int(rng.integers(3))]
            node = meta[section] if isinstance(meta[section], dict) else {}
            keys = list(node) or ["x"]
            node[keys[int(rng.integers(len(keys)))]] = _random_value(rng)
    save_checkpoint(path, arrays, meta)


def _exercise(model: SkipGram, corpus: Path) -> None:
    """Run the kernels on what the loader accepted: resume one more epoch, then score."""
    config = TrainConfig(
        **{**model.config.to_dict(), "epochs": model.position.epoch + 1, "threads": 1}
    )
    train(corpus, config, model=model)
    heldout_loss(model, corpus)


def main(directory: Path, seed: int, rounds: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    corpus = directory / "c.txt"
    words = [f"w{i}" for i in range(25)]
    corpus.write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(150)) + "\n")
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    models = {}
    for loss in ("ns", "hs"):
        models[loss] = train(
            corpus, TrainConfig(dim=5, epochs=1, min_count=1, sample=0, threads=1, loss=loss)
        )
        models[loss].save(directory / f"{loss}.npz")
    models["ns"].keyed_vectors().save(directory / "v.bin")
    models["ns"].keyed_vectors().save(directory / "v.txt", binary=False)
    (directory / "pairs.tsv").write_text("w1\tw2\t3.5\nw3\tw4\t1\n")
    (directory / "q.txt").write_text(": s\nw1 w2 w3 w4\n")
    seeds = [directory / n for n in ("ns.npz", "hs.npz", "v.bin", "v.txt", "pairs.tsv", "q.txt")]
    target = directory / "fuzzed"
    for r in range(rounds):
        kind = r % 3
        if kind == 0:
            target.write_bytes(rng.bytes(int(rng.integers(0, 3000))))
        elif kind == 1:
            target.write_bytes(
                _mutate_bytes(seeds[int(rng.integers(len(seeds)))].read_bytes(), rng)
            )
        else:
            _mutate_checkpoint(models[["ns", "hs"][r % 2]], target, rng)
        for name, reader in READERS.items():
            try:
                result = reader(target)
                outcomes[f"{name}: accepted"] += 1
                model = result if isinstance(result, SkipGram) else None
                if isinstance(result, tuple) and isinstance(result[1], SkipGram):
                    model = result[1]
                if model is not None:
                    _exercise(model, corpus)
                    outcomes["kernels ran on an accepted checkpoint"] += 1
            except ValueError:
                outcomes[f"{name}: clean error"] += 1
            except Exception:
                unexpected.append(f"round {r}, {name}: {traceback.format_exc(limit=4)}")
    return {
        "outcomes": dict(outcomes),
        "unexpected": unexpected[:5],
        "unexpected_count": len(unexpected),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
