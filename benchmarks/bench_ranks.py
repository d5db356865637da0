"""Training across 2 ranks (torchrun, gloo) against 1 process, whole processes, same run.

Every run is a fresh ``crossent train`` process with ``--threads 1``: one process, then
``torchrun --nproc-per-node 2`` (each rank one thread), alternately, so that both see the
same machine load. Cases:

* ``ns``, ``hs``, ``cbow`` (data-parallel): a ~2.3M-word corpus (the bundled WikiText-2
  test and validation splits, 5 times), 5 epochs; time, WordSim-353 Spearman and the
  analogy accuracy (the bundled ``questions-words.txt``) of both vectors. Bars: ns time
  ≤ 0.6×, Spearman within 0.03, analogies within 1 point.
* ``softmax`` (split by vocabulary, exact): WikiText-2 validation, ``--min-count 2``
  (9,210 words), 1 epoch; time and max |v₂ − v₁| / max |v₁|. Bars: ≤ 0.75×, ≤ 1e-4.
* ``softmax-wide``: the same on the test and validation splits, ``--min-count 1``
  (18,327 words, 455k words): a step's products grow with ``V``, its fixed costs (two
  collectives, the Python around them) do not.

Then the gloo all-reduce bandwidth between 2 local ranks, and (``--sweep``) ``ns`` across
2 ranks with several ``--sync-every``. Each rank logs its sync cost (rows exchanged, time).
Prints the CPU, its SIMD level and the load average with every figure.

Run: .venv/bin/python benchmarks/bench_ranks.py [--quick] [--sweep] [--repeat N] [--cases ns]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from crossent.word2vec import KeyedVectors
from crossent.word2vec.formats.data import data_file

BARS = {"ns": 0.6, "hs": None, "cbow": None, "softmax": 0.75, "softmax-wide": 0.75}
CASES: dict[str, list[str]] = {
    "ns": ["--loss", "ns"],
    "hs": ["--loss", "hs"],
    "cbow": ["--loss", "ns", "--model", "cbow"],
    "softmax": ["--loss", "softmax", "--min-count", "2", "--epochs", "1"],
    "softmax-wide": ["--loss", "softmax", "--min-count", "1", "--epochs", "1"],
}


def machine() -> str:
    """CPU model, SIMD level and load average."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((x.split(":", 1)[1].strip() for x in text.splitlines() if "model name" in x), "?")
    flags = next((x for x in text.splitlines() if x.startswith("flags")), "")
    simd = next((s for s in ("avx512f", "avx2", "avx", "sse4_2") if f" {s}" in flags), "?")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, SIMD {simd}; load average {load}"


def corpus(folder: Path, repeat: int) -> Path:
    """The bundled WikiText-2 test + validation text, ``repeat`` times."""
    path = folder / f"corpus-x{repeat}.txt"
    parts = [data_file(n).read_text() for n in ("wikitext2-test.txt", "wikitext2-valid.txt")]
    path.write_text("".join(parts) * repeat)
    return path


def launch(ranks: int, args: list[str], folder: Path) -> tuple[float, str]:
    """Wall time of a whole ``crossent train`` run (1 process, or torchrun with ``ranks``)."""
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    if ranks == 1:
        command = [sys.executable, "-m", "crossent", "train", *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc-per-node={ranks}", __file__, "--rank-cli", *args]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{done.stderr[-3000:]}")
    logs = [x for x in done.stderr.splitlines() if "syncs" in x]
    return seconds, "; ".join(logs)


def start_up(folder: Path) -> None:
    """What a run costs before and after training: the same command on a 1-sentence
    corpus (imports, torchrun and its rendezvous, the vocabulary exchange, writing)."""
    tiny = folder / "tiny.txt"
    tiny.write_text("the cat sat on the mat and the dog sat on the cat\n" * 5)
    args = [str(tiny), "--min-count", "1", "--sample", "0", "--epochs", "1", "--threads", "1", "-q"]
    times = {
        ranks: min(launch(ranks, [*args, "--out", str(folder / "tiny.bin")], folder)[0]
                   for _ in range(2))
        for ranks in (1, 2)
    }  # fmt: skip
    print(
        f"\n[start-up] {machine()}\n  a 60-word corpus, whole process: 1 process "
        f"{times[1]:.2f} s, 2 ranks {times[2]:.2f} s (torchrun, torch in each rank)"
    )


def quality(path: Path) -> tuple[float, float]:
    """(WordSim-353 Spearman, analogy accuracy in %) of a vectors file."""
    kv = KeyedVectors.load(path)
    _, rho, _ = kv.evaluate_word_pairs(data_file("wordsim353.tsv"))
    accuracy, _ = kv.evaluate_word_analogies(data_file("questions-words.txt"))
    return float(rho[0]), 100.0 * float(accuracy)


def compare(name: str, args: list[str], folder: Path) -> float:
    """One case: 1 process then 2 ranks, the ratio and the vectors' quality; returns the
    1-process seconds."""
    results = {}
    for ranks in (1, 2):
        out = folder / f"{name}-{ranks}.bin"
        seconds, log = launch(ranks, [*args, "--threads", "1", "--out", str(out), "-q"], folder)
        results[ranks] = (seconds, out, log)
    (s1, out1, _), (s2, out2, log) = results[1], results[2]
    bar = BARS[name]
    met = "met" if bar is not None and s2 / s1 <= bar else "NOT met"
    verdict = "" if bar is None else f" (bar ≤ {bar:.2f}: {met})"
    print(f"\n[{name}] {machine()}")
    print(f"  1 process {s1:7.1f} s   2 ranks {s2:7.1f} s   ratio {s2 / s1:.2f}{verdict}")
    if name.startswith("softmax"):
        a, b = KeyedVectors.load(out1).vectors, KeyedVectors.load(out2).vectors
        print(
            f"  max |v2 - v1| / max |v1| = {np.abs(a - b).max() / np.abs(a).max():.2e} (bar 1e-4)"
        )
        return
    (r1, a1), (r2, a2) = quality(out1), quality(out2)
    print(f"  WordSim-353 Spearman {r1:.3f} vs {r2:.3f} (diff {r2 - r1:+.3f}, bar ±0.03)")
    print(f"  analogies {a1:.2f}% vs {a2:.2f}% (diff {a2 - a1:+.2f} points, bar ±1)")
    print(f"  {log}")
    return s1


def on_paper(words_per_second: float, gloo_mib_s: float, latency_s: float) -> None:
    """Expected scaling of data-parallel ns skip-gram at V = 1M, D = 300 (window 5, 5
    negatives, Zipf counts, a 1B-word corpus), from the measured 1-thread words/s and gloo
    rate: rows and bytes per sync, and efficiency = compute / (compute + syncs) with a ring
    all-reduce (2(K−1)/K of the bytes through each link at min(link, gloo rate), 2(K−1)
    latencies), the end-of-epoch full exchange spread over the rounds."""
    from crossent.word2vec.training.dataparallel import HOT_DRAWS

    v, d, corpus_words = 1_000_000, 300, 1e9
    p = 1.0 / np.arange(1, v + 1)
    p /= p.sum()
    q = p**0.75
    q /= q.sum()
    print("\n[on paper: V=1M, D=300; efficiency for 1-thread ranks and 16-thread ranks]")
    print(
        "  ranks  sync-every   rows/sync  MiB/sync   1 thr 10G  1 thr 100G  16 thr 10G  16 thr 100G"
    )
    for k in (8, 32, 128):
        for every in (200_000, 2_000_000, 20_000_000):
            hot = int((q * every * 25 >= HOT_DRAWS).sum())
            distinct = float((1.0 - np.exp(-k * every * p)).sum())  # words some rank read
            rows = 2 * distinct + max(hot - distinct, 0.0)  # syn0 + output rows
            nbytes = rows * d * 4 + 2 * v / 8
            full = v * d * 4 * min(1.0, k * every / corpus_words)  # end of epoch, per round
            cells = []
            for threads in (1, 16):
                for gbit in (10, 100):
                    rate = min(gbit * 1e9 / 8, gloo_mib_s * 2**20)
                    sync = 2 * (k - 1) / k * (nbytes + full) / rate + 2 * (k - 1) * latency_s
                    compute = every / (words_per_second * threads)
                    cells.append(f"{compute / (compute + sync):10.0%}")
            print(
                f"  {k:5d}  {every:10,d}  {rows:10,.0f}  {nbytes / 2**20:8.0f}  " + "  ".join(cells)
            )


def bandwidth_worker(rank: int, folder: str) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank,
                            world_size=2, timeout=datetime.timedelta(minutes=5))  # fmt: skip
    for mib in (1, 16, 64):
        t = torch.ones(mib * 2**18)
        dist.all_reduce(t)
        dist.barrier()
        start = time.perf_counter()
        for _ in range(5):
            dist.all_reduce(t)
        dt = (time.perf_counter() - start) / 5
        if rank == 0:
            print(
                f"  all-reduce {mib:3d} MiB: {dt * 1e3:7.1f} ms  ({mib / dt:5.0f} MiB/s of payload)"
            )
            Path(folder, "rate").write_text(f"{mib / dt}")
    small = torch.zeros(8)
    start = time.perf_counter()
    for _ in range(200):
        dist.all_reduce(small)
    if rank == 0:
        small_s = (time.perf_counter() - start) / 200
        print(f"  all-reduce of 32 bytes: {small_s * 1e6:.0f} µs")
        Path(folder, "latency").write_text(f"{small_s}")
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 repetition, 2 epochs")
    parser.add_argument("--sweep", action="store_true", help="ns across --sync-every values")
    parser.add_argument("--cases", default="softmax,ns,hs,cbow")
    parser.add_argument("--repeat", type=int, default=5, help="copies of the text (ns/hs/cbow)")
    parser.add_argument("--no-bandwidth", action="store_true", help="skip gloo's bandwidth")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = corpus(folder, 1 if opts.quick else opts.repeat)
        epochs = ["--epochs", "2" if opts.quick else "5"]
        print(f"{len(text.read_text().split()):,} words per epoch (ns, hs, cbow)")
        start_up(folder)
        words_per_second = 0.0
        for name in opts.cases.split(","):
            if name == "softmax":
                compare(name, [str(data_file("wikitext2-valid.txt")), *CASES[name]], folder)
            elif name == "softmax-wide":
                compare(name, [str(corpus(folder, 1)), *CASES[name]], folder)
            else:
                seconds = compare(name, [str(text), *CASES[name], *epochs], folder)
                if name == "ns":  # whole process (counting included): a lower bound
                    words_per_second = len(text.read_text().split()) * int(epochs[1]) / seconds
        import torch.multiprocessing as mp

        if opts.no_bandwidth:
            return
        print(f"\n[gloo, 2 local ranks] {machine()}")
        mp.spawn(bandwidth_worker, args=(tmp,), nprocs=2)
        if words_per_second:
            rate, latency = (float((folder / n).read_text()) for n in ("rate", "latency"))
            print(f"  per-rank words/s (1 thread, ns, whole process): {words_per_second:,.0f}")
            on_paper(words_per_second, rate, latency / 2)
        if opts.sweep:
            for every in (20_000, 200_000, 1_000_000):
                out = folder / f"sweep-{every}.bin"
                args = [str(text), "--loss", "ns", *epochs, "--threads", "1", "--sync-every",
                        str(every), "--out", str(out), "-q"]  # fmt: skip
                seconds, log = launch(2, args, folder)
                rho, acc = quality(out)
                print(f"\n[sweep --sync-every {every}] {machine()}")
                print(f"  2 ranks {seconds:.1f} s, Spearman {rho:.3f}, analogies {acc:.2f}%; {log}")


def rank_cli() -> None:
    """One rank under torchrun: ``crossent train`` with the syncs' log lines shown."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.argv = ["crossent", "train", *sys.argv[2:]]
    from crossent.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rank-cli"]:
        rank_cli()
    else:
        main()
