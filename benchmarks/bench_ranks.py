"""Full-softmax skip-gram on one process vs two gloo ranks (vocabulary-parallel), same run.

One epoch of ``loss="softmax"`` on the bundled WikiText-2 validation split (dim 100,
``threads=1``, seed 1): one process (torch using 1, then 2 intra-op threads), then 2 ranks
of ``train(distributed=True)`` with 1 intra-op thread each (each rank holds half of the
output vectors). Prints words/s, the ratio against the 1-thread process, and how far the
2-rank vectors are from the single process's (they should agree to float rounding).

Run: .venv/bin/python benchmarks/bench_ranks.py
"""

from __future__ import annotations

import datetime
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.formats.data import data_file

CORPUS = data_file("wikitext2-valid.txt")
CONFIG = TrainConfig(loss="softmax", epochs=1, threads=1)


def rank_worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{folder}/store",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(minutes=10),
    )
    try:
        dist.barrier()
        start = time.perf_counter()
        model = train([CORPUS], CONFIG, distributed=True)
        elapsed = time.perf_counter() - start
        if rank == 0:
            np.savez(
                f"{folder}/ranks.npz",
                syn0=model.syn0,
                syn1=model.syn1,
                seconds=elapsed,
                words=model.position.words_done,
            )
    finally:
        dist.destroy_process_group()


Result = tuple[float, int, np.ndarray, np.ndarray]  # seconds, words, syn0, syn1


def one_process(threads: int) -> Result:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = train([CORPUS], CONFIG)
    elapsed = time.perf_counter() - start
    return elapsed, model.position.words_done, model.syn0, model.syn1


def main() -> None:
    results: dict[str, Result] = {}
    for threads in (1, 2):
        results[f"1 process, {threads} torch thread(s)"] = one_process(threads)
    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(rank_worker, args=(2, folder), nprocs=2, join=True)
        got = np.load(f"{folder}/ranks.npz")
        seconds, words = float(got["seconds"]), int(got["words"])
        results["2 ranks, 1 torch thread each"] = (seconds, words, got["syn0"], got["syn1"])
    base, _, ref0, ref1 = results["1 process, 1 torch thread(s)"]
    print(f"{'run':32s} {'seconds':>8s} {'words/s':>9s} {'ratio':>6s} {'max rel diff':>12s}")
    for name, (seconds, words, syn0, syn1) in results.items():
        diff = max(
            float(np.abs(a - b).max() / np.abs(b).max()) for a, b in ((syn0, ref0), (syn1, ref1))
        )
        print(
            f"{name:32s} {seconds:8.1f} {words / seconds:9,.0f} {base / seconds:6.2f} {diff:12.2e}"
        )


if __name__ == "__main__":
    main()
