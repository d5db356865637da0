"""Negative sampling, hierarchical softmax and the seed's full softmax, on the same corpus.

All three train skip-gram with the same settings (word2vec.c's defaults: dim 100, window 5,
min-count 5, sample 1e-3, alpha 0.025, 5 epochs; 2 threads; seed 1) on the bundled
WikiText-2 text (valid + test) with every 10th line held out, and are scored the same way:
training time, WordSim-353 Spearman, analogy accuracy, and the exact held-out J(θ) — the
mean of -log p(o | c) over every (centre, context) pair of the held-out lines within the
window — and its perplexity. For ``ns`` and ``softmax`` p(o | c) is the full softmax over
the output vectors; for ``hs`` it is the tree's own normalised distribution. (For ``ns``
the output vectors were never trained to be normalised: its held-out J measures how far
negative sampling is from the objective it approximates.)

Run: .venv/bin/python benchmarks/bench_objectives.py [--epochs 5] [--extra]
(``--extra``: one more row, the full softmax at the learning rate of RESULTS.md's study.)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from crossent.word2vec import SkipGram, TrainConfig, TrainingDiverged, train
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.formats.data import data_file

ROWS = [("ns", "ns", 0.025), ("hs", "hs", 0.025), ("softmax", "softmax", 0.025)]
EXTRA = ("softmax a=.035", "softmax", 0.035)  # the full softmax's rate from RESULTS.md's study


def split(folder: Path) -> tuple[Path, Path]:
    """valid + test with every 10th non-empty line held out: (training file, held-out file)."""
    lines = [
        line
        for name in ("wikitext2-valid.txt", "wikitext2-test.txt")
        for line in data_file(name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    train_path, held_path = folder / "train.txt", folder / "heldout.txt"
    train_path.write_text("\n".join(x for i, x in enumerate(lines) if i % 10 != 9) + "\n")
    held_path.write_text("\n".join(x for i, x in enumerate(lines) if i % 10 == 9) + "\n")
    return train_path, held_path


def timed(corpus: Path, config: TrainConfig) -> tuple[SkipGram, float, int]:
    """The trained model, the training time in seconds and the words it read."""
    words: list[int] = []
    start = time.perf_counter()
    model = train([corpus], config, progress=lambda p: words.append(p.words_done))
    return model, time.perf_counter() - start, words[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--extra", action="store_true", help="also softmax at alpha 0.035")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, held = split(Path(tmp))
        for loss in ("ns", "hs"):  # compile and cache the numba kernels first
            train([held], TrainConfig(loss=loss, epochs=1, dim=10, min_count=1))
        print(
            f"{'objective':14s} {'train s':>8s} {'words/s':>9s} {'WS353':>7s} "
            f"{'analogies':>9s} {'held-out J':>10s} {'perplexity':>10s}"
        )
        for label, loss, alpha in [*ROWS, EXTRA] if args.extra else ROWS:
            config = TrainConfig(loss=loss, epochs=args.epochs, threads=2, alpha=alpha)
            try:
                model, elapsed, words = timed(corpus, config)
            except TrainingDiverged:
                print(f"{label:14s} diverged (TrainingDiverged)", flush=True)
                continue
            kv = model.keyed_vectors()
            sim = kv.evaluate_word_pairs(data_file("wordsim353.tsv"))["spearman"]
            ana = kv.evaluate_word_analogies(data_file("questions-words.txt"))["accuracy"]
            h = heldout_loss(model, [held])
            print(
                f"{label:14s} {elapsed:8.1f} {words / elapsed:9,.0f} {sim:7.4f} "
                f"{ana:9.2%} {h['loss']:10.4f} {h['perplexity']:10.1f}",
                flush=True,
            )
        print(f"held-out: {h['pairs']} pairs; vocabulary {len(model.vocab)} words")


if __name__ == "__main__":
    main()
