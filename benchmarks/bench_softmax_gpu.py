"""Full-softmax skip-gram on a GPU (``device="cuda"``): words/s at two vocabulary sizes.

One epoch of ``loss="softmax"`` (dim 100, 2 threads feeding the GPU, steps of
``--batch-pairs`` pairs) on the bundled WikiText-2 text: the validation split with
min-count 5 (V≈4.7k), and valid + test repeated ``--repeat`` times with min-count 1 (every
word type, V≈25k+), with the CPU's words/s on the small case measured in the same run for
the ratio. Needs CUDA (a clear error otherwise). Issue 13's target: ≥ 5M words/s at
V = 30k, dim 100 on one H100/H200 — **not yet measured** (no GPU was lent to the session
that wrote this). Run: python benchmarks/bench_softmax_gpu.py [--batch-pairs 16384]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.training.device import resolve_device


def words_per_second(corpus: list[Path], config: TrainConfig, device: str) -> tuple[float, int]:
    """Training words/s of one run and the vocabulary size."""
    done: list[int] = []
    start = time.perf_counter()
    model = train(corpus, config, device=device, progress=lambda p: done.append(p.words_done))
    return done[-1] / (time.perf_counter() - start), len(model.vocab)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-pairs", type=int, default=16384)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        resolve_device("cuda", "softmax")
    except ValueError as exc:
        raise SystemExit(f"bench_softmax_gpu: {exc}") from None
    valid = data_file("wikitext2-valid.txt")
    base = TrainConfig(loss="softmax", epochs=1, threads=2, batch_pairs=args.batch_pairs)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "repeated.txt"
        text = valid.read_text(encoding="utf-8") + data_file("wikitext2-test.txt").read_text(
            encoding="utf-8"
        )
        big.write_text(text * args.repeat, encoding="utf-8")
        train([valid], TrainConfig(loss="softmax", epochs=1, dim=8), device="cuda")  # warm-up
        gpu_small, v_small = words_per_second([valid], base, "cuda")
        cpu_small, _ = words_per_second(
            [valid], TrainConfig(loss="softmax", epochs=1, threads=2), "cpu"
        )
        config = TrainConfig(
            loss="softmax", epochs=1, threads=2, min_count=1, batch_pairs=args.batch_pairs
        )
        gpu_big, v_big = words_per_second([big], config, "cuda")
    print(
        f"V={v_small}: GPU {gpu_small:,.0f} words/s, CPU {cpu_small:,.0f} words/s "
        f"(ratio {gpu_small / cpu_small:.1f})"
    )
    print(f"V={v_big}: GPU {gpu_big:,.0f} words/s (target: 5,000,000 at V=30k)")


if __name__ == "__main__":
    main()
