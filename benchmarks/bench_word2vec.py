"""crossent word2vec vs gensim 4.4 Word2Vec: same corpus, same settings, same run.

word2vec.c defaults for both (dim 100, window 5, min-count 5, sample 1e-3, 5 epochs,
alpha 0.025, negative 5 or hs), 2 threads, on the bundled WikiText-2 text repeated to
≥ 1M words and to ≥ 20M words (made in a temporary folder; ``--sizes`` sets the millions).
Printed, each table headed by the CPU model, the SIMD level numba compiles for and the
load average:

- whole-process wall time (start to vectors on disk) and peak RSS of each process, ours
  and gensim's, for skip-gram ns, skip-gram hs and CBOW ns, with the ratio and the bar
  (0.4×, 0.6×, 0.5×), and a 5M-word skip-gram ns row for memory;
- WordSim-353 Spearman and analogy accuracy of both vector files, scored by the same code
  (SimLex-999 is not bundled: no licensed copy was available to the project);
- ours, 1 → 2 threads: training words/s (epoch time inside the process), runs alternating
  three times (best and median), and CPU seconds per million words;
- the cost of the exact epoch loss: one thread, one epoch, kernel time with and without it.

Our numba kernels are compiled and cached by a warm-up run first (gensim's Cython is
compiled at install time). ``--target haswell`` compiles ours for an AVX2-only CPU
(``NUMBA_CPU_NAME=haswell``, ``NUMBA_CPU_FEATURES=+avx2,+fma``) and pins gensim's OpenBLAS
to its Haswell kernels (``OPENBLAS_CORETYPE=Haswell``). Slow (minutes per million words);
not part of the test suite. Needs gensim (``pip install -e .[bench]``).

Run: .venv/bin/python benchmarks/bench_word2vec.py [--target haswell] [--sizes 1,5,20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crossent.word2vec import KeyedVectors
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.vectors.intrinsic import analogy_report, word_pairs_report

CORPUS = [data_file("wikitext2-valid.txt"), data_file("wikitext2-test.txt")]
BARS = {"sg-ns": 0.4, "sg-hs": 0.6, "cbow-ns": 0.5, "cbow-hs": None}
TARGETS = {
    "native": {},
    "haswell": {
        "NUMBA_CPU_NAME": "haswell",
        "NUMBA_CPU_FEATURES": "+avx2,+fma",
        "OPENBLAS_CORETYPE": "Haswell",
    },
}
GENSIM = """
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
model, loss = sys.argv[1].split("-")
hs = loss == "hs"
w2v = Word2Vec(LineSentence(sys.argv[4]), vector_size=100, window=5, min_count=5,
               sample=1e-3, sg=int(model == "sg"), hs=int(hs), negative=0 if hs else 5,
               workers=int(sys.argv[2]), epochs=5, alpha=0.025, seed=1)
w2v.wv.save_word2vec_format(sys.argv[3], binary=True)
"""
SPEED = """
import sys, time
from crossent.word2vec import TrainConfig, train
from crossent.word2vec.training.callbacks import CallbackAny2Vec
class Clock(CallbackAny2Vec):
    words, seconds, cpu = 0, 0.0, 0.0
    def on_epoch_begin(self, model):
        self.started = time.process_time()
    def on_epoch_end(self, model):
        self.words += model.last_epoch.words
        self.seconds += model.last_epoch.seconds
        self.cpu += time.process_time() - self.started
clock = Clock()
model, loss = sys.argv[1].split("-")
train([sys.argv[3]], TrainConfig(model="cbow" if model == "cbow" else "skipgram", loss=loss,
                                 threads=int(sys.argv[2])), callbacks=[clock])
print(clock.words / clock.seconds, clock.cpu / clock.words * 1e6)
"""
ROUNDS = 3
"""1- and 2-thread runs alternate this many times: the machines are shared and noisy."""


def machine(env: dict[str, str]) -> str:
    """CPU model, the instruction set numba compiles for under ``env``, load average."""
    cpu = platform.processor() or "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    probe = (
        "import numba, llvmlite.binding as ll; c = numba.config; "
        "name = c.CPU_NAME or ll.get_host_cpu_name(); f = c.CPU_FEATURES; "
        "host = ll.get_host_cpu_features(); "
        "wide = ('-avx512f' not in f and name not in ('haswell', 'broadwell', 'skylake', "
        "'znver1', 'znver2', 'znver3')) if f else host.get('avx512f', False); "
        "print(name, 'AVX-512' if wide else 'AVX2')"
    )
    simd = _run([sys.executable, "-c", probe], env).strip()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    blas = env.get("OPENBLAS_CORETYPE", "auto")
    return (f"CPU {cpu} ({os.cpu_count()} cores); numba targets {simd}; "
            f"gensim OpenBLAS core {blas}; load {load}")  # fmt: skip


def _run(cmd: list[str], env: dict[str, str]) -> str:
    """The standard output of ``cmd``, run to completion under ``env``."""
    proc = subprocess.run(cmd, env=os.environ | env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:5])} failed: {proc.stderr[-2000:]}")
    return proc.stdout


LAUNCH = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
if status:
    sys.exit(err.decode(errors="replace")[-2000:])
print(time.perf_counter() - start, usage.ru_maxrss / 1024)
"""


def _timed_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of ``cmd``, started by a small launcher process: a
    child forked from this (large) process would count this process's pages as its own
    until it execs."""
    elapsed, rss = _run([sys.executable, "-c", LAUNCH, *cmd], env).split()
    return float(elapsed), float(rss)


def ours(
    objective: str, threads: int, corpus: Path, out: Path, env: dict[str, str]
) -> tuple[float, float]:
    model, loss = objective.split("-")
    cmd = [sys.executable, "-m", "crossent", "train", str(corpus), "--out", str(out),
           "--model", "cbow" if model == "cbow" else "skipgram", "--loss", loss,
           "--threads", str(threads), "--json"]  # fmt: skip
    return _timed_rss(cmd, env)


def gensim(
    objective: str, threads: int, corpus: Path, out: Path, env: dict[str, str]
) -> tuple[float, float]:
    cmd = [sys.executable, "-c", GENSIM, objective, str(threads), str(out), str(corpus)]
    return _timed_rss(cmd, env)


def repeated(folder: Path, millions: float) -> tuple[Path, int]:
    """The bundled WikiText-2 text repeated to at least ``millions`` million words."""
    text = "".join(p.read_text(encoding="utf-8") for p in CORPUS)
    per_copy = len(text.split())
    copies = -(-int(millions * 1e6) // per_copy)
    path = folder / f"wikitext2-x{copies}.txt"
    with path.open("w", encoding="utf-8") as f:
        for _ in range(copies):
            f.write(text)
    return path, per_copy * copies


def scores(path: Path) -> tuple[float, float]:
    kv = KeyedVectors.load(path)
    sim = word_pairs_report(kv, data_file("wordsim353.tsv")).spearman
    ana = analogy_report(kv, data_file("questions-words.txt")).accuracy
    return sim, ana


def compare(tmp: Path, corpus: Path, n_words: int, objectives: list[str], env: dict[str, str],
            quality: bool = True, rounds: int = 1) -> None:  # fmt: skip
    """Table rows: ours vs gensim, 2 threads, time, RSS, ratio, quality. With ``rounds`` > 1
    the two alternate that many times (a single run was seen 1.6x off on this shared
    machine): median times, median and best ratio."""
    print(f"\n{n_words:,} words, 2 threads, whole process, {rounds} alternating run(s) — "
          f"{machine(env)}")  # fmt: skip
    print(f"{'objective':9s} {'ours s':>7s} {'gensim s':>8s} {'ratio':>6s} {'best':>5s} "
          f"{'bar':>4s} {'ours MB':>7s} {'gensim MB':>9s} {'WS353 ours':>10s} {'gensim':>7s} "
          f"{'analogy ours':>12s} {'gensim':>7s}")  # fmt: skip
    for objective in objectives:
        mine, theirs = tmp / f"ours-{objective}.bin", tmp / f"gensim-{objective}.bin"
        runs = [(ours(objective, 2, corpus, mine, env), gensim(objective, 2, corpus, theirs, env))
                for _ in range(rounds)]  # fmt: skip
        t_o = float(statistics.median([o[0] for o, _ in runs]))
        t_g = float(statistics.median([g[0] for _, g in runs]))
        ratios = [o[0] / g[0] for o, g in runs]
        m_o, m_g = max(o[1] for o, _ in runs), max(g[1] for _, g in runs)
        bar = BARS.get(objective)
        row = (f"{objective:9s} {t_o:7.2f} {t_g:8.2f} {float(statistics.median(ratios)):6.2f} "
               f"{min(ratios):5.2f} {bar if bar else '-':>4} {m_o:7.0f} {m_g:9.0f}")  # fmt: skip
        if quality:
            (so, ao), (sg, ag) = scores(mine), scores(theirs)
            row += f" {so:10.4f} {sg:7.4f} {ao:12.2%} {ag:7.2%}"
        print(row, flush=True)


def scaling(corpus: Path, env: dict[str, str]) -> None:
    """Ours, training words/s with 1 and 2 threads (epoch time, inside the process), runs
    alternating ``ROUNDS`` times: the best and the median of each, and the CPU seconds per
    million words (all threads): a second thread that costs more CPU per word shows the
    machine's shared caches and memory, not waiting."""
    print(f"\nthread scaling, training words/s, {ROUNDS} alternating runs — {machine(env)}")
    for objective in ("sg-ns", "sg-hs", "cbow-ns", "cbow-hs"):
        runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for _ in range(ROUNDS):
            for t in (1, 2):
                out = _run([sys.executable, "-c", SPEED, objective, str(t), str(corpus)], env)
                rate, cpu = out.split()
                runs[t].append((float(rate), float(cpu)))
        best = {t: max(r for r, _ in runs[t]) for t in runs}
        median = {t: statistics.median(r for r, _ in runs[t]) for t in runs}
        cpu = {t: statistics.median(c for _, c in runs[t]) for t in runs}
        print(
            f"{objective:9s} 1 thread {best[1]:11,.0f}  2 threads {best[2]:11,.0f}  "
            f"scaling best {best[2] / best[1]:.2f}x, median {median[2] / median[1]:.2f}x "
            f"(bar 1.8x); CPU s per M words {cpu[1]:.3f} -> {cpu[2]:.3f}",
            flush=True,
        )


LOSS_COST = """
import sys, time
import numpy as np
from crossent.word2vec.formats.corpus import as_corpus, encode_corpus, job_bounds
from crossent.word2vec.training import jobs, kernels
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.train import build_model
for objective in ("sg-ns", "sg-hs", "cbow-ns"):
    model, loss = objective.split("-")
    cfg = TrainConfig(loss=loss, model="cbow" if model == "cbow" else "skipgram")
    m = build_model(as_corpus([sys.argv[1]]), cfg)
    enc = encode_corpus(as_corpus([sys.argv[1]]), m.vocab.index)
    t = jobs.output_tables(m)
    keep = m.vocab.keep_probabilities(cfg.sample)
    neg = cfg.negative if cfg.ns else 0
    kern = kernels.cbow_job if model == "cbow" else kernels.train_job
    flags = (True, True) if model == "cbow" else (True,)
    batch = (kernels.CBOW_BATCH,) if model == "cbow" else ()
    def epoch(with_loss):
        w = [x.copy() for x in (m.syn0, *jobs.output_matrices(m))]
        start = time.thread_time()
        for j, (a, b) in enumerate(job_bounds(enc.offsets, cfg.job_words)):
            kern(*w, enc.words, enc.offsets[a:b + 1], keep, cfg.window, 0.025, 0.025, j,
                 cfg.hs, neg, t.neg_prob, t.neg_alias, t.codes, t.points, t.lengths, *flags,
                 with_loss, *batch)
        return time.thread_time() - start
    epoch(True), epoch(False)  # compile
    on = min(epoch(True) for _ in range(2))
    off = min(epoch(False) for _ in range(2))
    print(f"{objective:9s} one epoch, 1 thread: with loss {on:.2f} s, without {off:.2f} s: "
          f"the loss costs {100 * (on - off) / on:.0f}% of the kernel")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=sorted(TARGETS), default="native")
    parser.add_argument("--sizes", default="1,5,20", help="corpus sizes, millions of words")
    parser.add_argument("--big", default="sg-ns,sg-hs,cbow-ns", help="objectives at >=10M")
    parser.add_argument("--no-small", action="store_true", help="skip the first size's tables")
    parser.add_argument(
        "--scaling-only", action="store_true", help="only the thread scaling, first size"
    )
    args = parser.parse_args()
    env = TARGETS[args.target]
    tmp = Path(tempfile.mkdtemp(prefix="bench-w2v-"))
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "target", args.target)
    for name in ("python -c 'import crossent.word2vec'", "python -c 'import torch'"):
        code = "import crossent.word2vec" if "crossent" in name else "import torch"
        t, rss = _timed_rss([sys.executable, "-c", code], env)
        print(f"{name}: {t:.2f} s, peak RSS {rss:.0f} MB")
    sizes = [float(s) for s in args.sizes.split(",")]
    small, n_small = repeated(tmp, sizes[0])
    for objective in ("sg-ns", "sg-hs", "cbow-ns", "cbow-hs"):  # compile and cache ours
        ours(objective, 1, Path(CORPUS[1]), tmp / "warm.bin", env)
    if args.scaling_only:
        scaling(small, env)
        return
    if not args.no_small:
        print(f"\nexact epoch loss on {n_small:,} words — {machine(env)}")
        print(_run([sys.executable, "-c", LOSS_COST, str(small)], env).rstrip())
        compare(tmp, small, n_small, ["sg-ns", "sg-hs", "cbow-ns"], env, rounds=ROUNDS)
        scaling(small, env)
    for millions in sizes[1:]:
        corpus, n_words = repeated(tmp, millions)
        objectives = ["sg-ns"] if millions < 10 else args.big.split(",")
        compare(tmp, corpus, n_words, objectives, env, quality=millions >= 10)
        corpus.unlink()


if __name__ == "__main__":
    main()
