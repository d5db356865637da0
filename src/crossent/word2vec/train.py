"""Skip-gram training: epochs over the encoded corpus, jobs run on worker threads.

Each job (about ``job_words`` words of whole sentences) runs one GIL-free numba kernel
(:mod:`._kernels`) for ``ns``/``hs``, or a series of fused full-softmax steps
(:mod:`._softmax`) for ``softmax``. The learning rate of a job is fixed by its place in the
corpus, not by when it finishes, and each job's random stream is seeded from
``(seed, epoch, job)``: with one thread a run is bit-identical to any other with the same
seed. The per-epoch loss is the float64 mean over the epoch's pairs.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossent.word2vec import _kernels
from crossent.word2vec.config import TrainConfig
from crossent.word2vec.corpus import (
    CorpusError,
    EncodedCorpus,
    check_readable,
    count_words,
    encode_corpus,
)
from crossent.word2vec.device import resolve_device, weights_on, write_back
from crossent.word2vec.model import SkipGram
from crossent.word2vec.vocab import Vocabulary

if TYPE_CHECKING:
    from crossent.word2vec._softmax import Weights
    from crossent.word2vec.distributed import Parallel


@dataclass
class Progress:
    """A snapshot for progress displays (after each job)."""

    epoch: int  # 0-based
    epochs: int
    words_done: int
    words_total: int
    loss: float  # running mean of the current epoch
    pairs: int  # (centre, context) pairs trained so far in the current epoch
    alpha: float
    words_per_second: float
    epoch_losses: list[float]


class TrainingInterrupted(Exception):
    """Ctrl-C during training: ``model`` holds the state reached, ready to checkpoint."""

    def __init__(self, model: SkipGram) -> None:
        super().__init__("training interrupted")
        self.model = model


class TrainingDiverged(ValueError):
    """The loss or the weights stopped being finite: the learning rate is too high."""

    def __init__(self, where: str, alpha: float, loss: str) -> None:
        hint = " (for loss='softmax', 0.025 or less)" if loss == "softmax" else ""
        super().__init__(
            f"alpha: training diverged ({where} is no longer finite) with alpha="
            f"{alpha:g}; use a smaller --alpha{hint}"
        )


def build_model(paths: Sequence[str | os.PathLike[str]], config: TrainConfig) -> SkipGram:
    """First pass: count words, build the vocabulary, initialise the weights."""
    counts, stats = count_words(check_readable(paths), lowercase=config.lowercase)
    if stats.words == 0:
        raise CorpusError(f"corpus: no words in {', '.join(map(str, paths))}")
    vocab = Vocabulary.build(counts, min_count=config.min_count, max_size=config.max_vocab)
    if len(vocab) == 0:
        top = ", ".join(f"{w!r}×{c}" for w, c in counts.most_common(3))
        raise CorpusError(
            f"corpus: none of its {len(counts)} distinct words occurs at least "
            f"min_count={config.min_count} times (most frequent: {top})"
        )
    if config.loss == "hs" and len(vocab) < 2:
        raise CorpusError("corpus: hierarchical softmax needs at least 2 vocabulary words")
    return SkipGram.initial(config, vocab)


def train(
    paths: Sequence[str | os.PathLike[str]],
    config: TrainConfig | None = None,
    *,
    model: SkipGram | None = None,
    progress: Callable[[Progress], None] | None = None,
    device: Any = None,
    distributed: bool = False,
) -> SkipGram:
    """Train skip-gram on text files; ``model`` continues a checkpoint from its position.

    ``device`` (``loss="softmax"`` only): ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``
    — where the weights live during training (see :mod:`.device`). ``distributed``: train
    across the ranks of the initialised default process group, the output vectors split
    by vocabulary (``loss="softmax"``, ``threads=1``; see :mod:`.distributed`)."""
    par = _parallel() if distributed else None
    cfg = model.config if model is not None else config or TrainConfig()
    dev = resolve_device(device, cfg.loss) if par is None else par.settings(cfg, device, model)
    with tempfile.TemporaryDirectory(prefix="crossent-corpus-") as tmp:
        prepare = functools.partial(_prepare, paths, config, model, Path(tmp))
        model, enc = prepare() if par is None else par.prepare(prepare)
        weights = None
        if model.config.loss == "softmax":
            weights = weights_on(model, dev) if par is None else par.weights(model, dev)
        _Trainer(model, enc, progress, weights).run()
        if par is not None and weights is not None:
            par.gather(weights, model)
    return model


def _prepare(
    paths: Sequence[str | os.PathLike[str]],
    config: TrainConfig | None,
    model: SkipGram | None,
    tmp: Path,
) -> tuple[SkipGram, EncodedCorpus]:
    """The model (built, or the one given) and the encoded corpus it trains on."""
    counted = model is None  # the counting pass has already warned about bad bytes
    if model is None:
        model = build_model(paths, config or TrainConfig())
    else:
        check_readable(paths)
    enc = encode_corpus(
        paths,
        model.vocab.index,
        tmp,
        lowercase=model.config.lowercase,
        warn=not counted,
    )
    if len(enc.words) == 0:
        raise CorpusError("corpus: no in-vocabulary words to train on")
    return model, enc


def _parallel() -> Parallel:
    from crossent.word2vec.distributed import Parallel

    return Parallel()


def job_bounds(offsets: np.ndarray, job_words: int) -> list[tuple[int, int]]:
    """Sentence ranges ``[s0, s1)`` of about ``job_words`` words each."""
    targets = np.arange(job_words, offsets[-1] + job_words, job_words)
    cuts = np.unique(np.clip(np.searchsorted(offsets, targets), 1, len(offsets) - 1))
    starts = np.concatenate([[0], cuts[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, cuts, strict=True) if b > a]


def _finite(*arrays: np.ndarray) -> bool:
    """Whether every entry is finite — via a float64 sum (a NaN or inf anywhere makes it
    non-finite), without the V×D boolean temporary of ``np.isfinite(a).all()``."""
    return all(math.isfinite(float(np.sum(a, dtype=np.float64))) for a in arrays)


def job_seed(seed: int, epoch: int, job: int) -> int:
    """A 64-bit seed for one job, distinct for every (seed, epoch, job)."""
    x = seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + job * 0x94D049BB133111EB
    return (x ^ (x >> 31)) % (2**63)


class _Trainer:
    def __init__(
        self,
        model: SkipGram,
        enc: EncodedCorpus,
        progress: Callable[[Progress], None] | None,
        weights: Weights | None = None,  # loss="softmax": the tensors it trains
    ) -> None:
        self.m, self.enc, self.progress, self.weights = model, enc, progress, weights
        cfg, vocab = model.config, model.vocab
        self.words = np.asarray(enc.words)
        self.jobs = job_bounds(enc.offsets, cfg.job_words)
        self.job_words = [int(enc.offsets[b] - enc.offsets[a]) for a, b in self.jobs]
        self.job_starts = np.concatenate([[0], np.cumsum(self.job_words)])  # words before job
        self.keep = vocab.keep_probabilities(cfg.sample)
        self.total = cfg.epochs * len(enc.words)
        empty2 = np.zeros((1, 1), dtype=np.int8)
        if cfg.loss == "ns":
            self.neg_prob, self.neg_alias = vocab.alias_table()
        else:
            self.neg_prob, self.neg_alias = np.ones(1, np.float32), np.zeros(1, np.int32)
        if cfg.loss == "hs":
            self.codes, self.points, self.lengths = vocab.huffman()
        else:
            self.codes, self.points = empty2, empty2.astype(np.int32)
            self.lengths = np.zeros(1, dtype=np.int32)
        self.started = time.perf_counter()
        self.words_at_start = model.position.words_done

    def alpha(self, words_done: int) -> float:
        cfg = self.m.config
        frac = min(words_done / max(self.total, 1), 1.0)
        return cfg.alpha * (1.0 - (1.0 - cfg.min_alpha_ratio) * frac)

    def run(self) -> None:
        pos, cfg = self.m.position, self.m.config
        while pos.epoch < cfg.epochs:
            try:
                self._epoch(pos.epoch, pos.job)
            finally:  # a GPU's weights back into the model, also when interrupted
                if self.weights is not None:
                    write_back(self.weights, self.m)
            if not _finite(self.m.syn0, self.m.syn1):
                raise TrainingDiverged(
                    f"the weights after epoch {pos.epoch + 1}", cfg.alpha, cfg.loss
                )
            pos.epoch_losses.append(pos.partial_loss / max(pos.partial_pairs, 1))
            pos.epoch, pos.job, pos.partial_loss, pos.partial_pairs = pos.epoch + 1, 0, 0.0, 0

    def _epoch(self, epoch: int, first_job: int) -> None:
        todo = list(range(first_job, len(self.jobs)))
        begin = {j: epoch * len(self.enc.words) + int(self.job_starts[j]) for j in todo}
        finished: dict[int, tuple[float, int, int]] = {}
        results = self._results(epoch, todo, begin, finished)
        try:
            for j, result in results:
                if not math.isfinite(result[0]):
                    results.close()
                    where = f"the loss in epoch {epoch + 1}, job {j + 1}"
                    raise TrainingDiverged(where, self.m.config.alpha, self.m.config.loss)
                self._account(j, result, begin[j])
                self._report(epoch)
        except KeyboardInterrupt:
            results.close()  # waits for the running jobs, collects them into ``finished``
            # Jobs start in order, so those that ran form a run of consecutive indices.
            for j in sorted(finished):
                self._account(j, finished[j], begin[j])
            raise TrainingInterrupted(self.m) from None

    def _account(self, j: int, result: tuple[float, int, int], words_before: int) -> None:
        """Job ``j`` (the next one of the epoch) is done: add its loss and pairs."""
        pos = self.m.position
        loss, pairs, words = result
        assert j == pos.job, (j, pos.job)
        pos.partial_loss += loss
        pos.partial_pairs += pairs
        pos.words_done = words_before + words
        pos.job = j + 1

    def _results(
        self,
        epoch: int,
        todo: list[int],
        begin: dict[int, int],
        finished: dict[int, tuple[float, int, int]],
    ) -> Generator[tuple[int, tuple[float, int, int]], None, None]:
        """Results in job order; with several threads, jobs overlap (Hogwild). Jobs run on
        worker threads even with ``threads=1``, so that Ctrl-C (delivered to the main thread)
        never lands inside a job: when the generator is closed early, jobs that had started
        run to the end (their updates are in the weights) and their results go to
        ``finished``."""
        threads = self.m.config.threads
        pending: dict[int, Future[tuple[float, int, int]]] = {}
        try:
            with ThreadPoolExecutor(threads) as ex:
                try:
                    ahead = iter(todo)
                    for j in todo:
                        while len(pending) < 2 * threads:
                            nxt = next(ahead, None)
                            if nxt is None:
                                break
                            pending[nxt] = ex.submit(self._job, epoch, nxt, begin[nxt])
                        result = pending[j].result()
                        del pending[j]
                        yield j, result
                finally:
                    for f in pending.values():
                        f.cancel()
        finally:  # the executor has shut down: every job has finished or never started
            for j, f in pending.items():
                if not f.cancelled() and f.exception() is None:
                    finished[j] = f.result()

    def _job(self, epoch: int, j: int, words_before: int) -> tuple[float, int, int]:
        s0, s1 = self.jobs[j]
        offsets = self.enc.offsets[s0 : s1 + 1]
        a0 = self.alpha(words_before)
        a1 = self.alpha(words_before + self.job_words[j])
        seed = job_seed(self.m.config.seed, epoch, j)
        cfg = self.m.config
        if self.weights is not None:
            from crossent.word2vec._softmax import softmax_job

            return softmax_job(self.weights, cfg, self.words, offsets, self.keep, seed, (a0, a1))
        loss, pairs, words = _kernels.train_job(
            self.m.syn0,
            self.m.syn1,
            self.words,
            offsets,
            self.keep,
            cfg.window,
            a0,
            a1,
            seed,
            cfg.loss == "hs",
            cfg.negative,
            self.neg_prob,
            self.neg_alias,
            self.codes,
            self.points,
            self.lengths,
        )
        return float(loss), int(pairs), int(words)

    def _report(self, epoch: int) -> None:
        if self.progress is None:
            return
        pos = self.m.position
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.progress(
            Progress(
                epoch=epoch,
                epochs=self.m.config.epochs,
                words_done=pos.words_done,
                words_total=self.total,
                loss=pos.partial_loss / max(pos.partial_pairs, 1),
                pairs=pos.partial_pairs,
                alpha=self.alpha(pos.words_done),
                words_per_second=(pos.words_done - self.words_at_start) / elapsed,
                epoch_losses=list(pos.epoch_losses),
            )
        )
