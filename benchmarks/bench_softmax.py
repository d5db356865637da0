"""Full-softmax skip-gram: one logits row per centre word vs one per pair, side by side.

One epoch of ``--loss softmax`` on the bundled WikiText-2 validation split (V≈4.7k, dim
100, 2 threads, word2vec.c's other defaults), in one process, each variant run ``--repeat``
times in alternation (this machine is shared: the best run of each is reported, with its
process CPU time, words per CPU-second being the steadier measure when other work shares
the cores). Variants:

- ``pairs``: the path before this change — one row per (centre, context) pair, 256 pairs
  a step, alpha 0.025 (the per-pair step is kept in ``crossent.word2vec.training.softmax`` as the
  reference of the grouped one);
- ``centres@256``: the same batches and alpha, one row per centre word: the same updates;
- ``centres``: today's defaults (``TrainConfig().batch_pairs``, ``TrainConfig().alpha``
  for ``loss="softmax"``).

The exact held-out J(θ) of every model on the WikiText-2 test split is printed run by run
(with 2 threads, runs differ by Hogwild's timing), with the ratios of words/s (wall and
CPU) against ``pairs``. Run: .venv/bin/python benchmarks/bench_softmax.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import functools
import time
from dataclasses import dataclass, replace
from unittest import mock

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.evaluation.evaluate import heldout_loss
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.training import softmax

CORPUS = data_file("wikitext2-valid.txt")
HELDOUT = data_file("wikitext2-test.txt")


@dataclass
class Run:
    wall: float
    cpu: float
    words: int
    heldout: float  # exact held-out J(θ) of the model


def one_epoch(config: TrainConfig, step: softmax.Step) -> Run:
    """Train one epoch with ``step`` as the SGD step of every batch."""
    job = functools.partial(softmax.softmax_job, step=step)
    words: list[int] = []
    with mock.patch.object(softmax, "softmax_job", job):
        wall, cpu = time.perf_counter(), time.process_time()
        model = train([CORPUS], config, progress=lambda p: words.append(p.words_done))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(wall, cpu, words[-1], heldout_loss(model, [HELDOUT])["loss"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    base = TrainConfig(loss="softmax", epochs=1, threads=2)
    today = replace(base, alpha=0.025, batch_pairs=256)
    variants = {
        "pairs": (today, softmax.pair_step),
        "centres@256": (today, softmax.centre_step),
        "centres": (base, softmax.centre_step),
    }
    best: dict[str, Run] = {}
    held: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, (config, step) in variants.items():
            run = one_epoch(config, step)
            held[name].append(run.heldout)
            if name not in best or run.wall < best[name].wall:
                best[name] = run
    ref = best["pairs"].words / best["pairs"].wall
    print(
        f"{'variant':12s} {'batch':>6s} {'alpha':>6s} {'wall s':>7s} {'cpu s':>7s} "
        f"{'words/s':>8s} {'ratio':>6s} {'cpu ratio':>9s} {'held-out J (each run)':>22s}"
    )
    ref_cpu = best["pairs"].words / best["pairs"].cpu
    for name, run in best.items():
        cfg = variants[name][0]
        wps = run.words / run.wall
        each = " ".join(f"{x:.4f}" for x in held[name])
        print(
            f"{name:12s} {cfg.batch_pairs:6d} {cfg.alpha:6.3f} {run.wall:7.1f} {run.cpu:7.1f} "
            f"{wps:8,.0f} {wps / ref:6.2f} {run.words / run.cpu / ref_cpu:9.2f} {each:>22s}",
            flush=True,
        )


if __name__ == "__main__":
    main()
