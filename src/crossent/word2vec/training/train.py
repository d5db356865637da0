"""word2vec training (skip-gram or CBOW): epochs over the encoded corpus, jobs on threads.

Each job (about ``job_words`` words of whole sentences) runs one GIL-free numba kernel
(:mod:`.kernels`, dispatched by :mod:`.jobs`) for ``ns`` / ``hs`` / ``hs+ns``, or a series
of fused full-softmax steps for ``softmax``; callbacks (:mod:`.callbacks`) see each epoch.
The learning rate of a job is fixed by its place in the corpus, not by when it finishes,
and each job's random stream is seeded from ``(seed, epoch, job)``: with one thread a run
is bit-identical to any other with the same seed. The per-epoch loss is the float64 mean
over the epoch's examples.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from crossent.word2vec.formats.corpus import (
    Corpus,
    CorpusError,
    CorpusLike,
    EncodedCorpus,
    Job,
    as_corpus,
    count_words,
    encode_corpus,
    job_bounds,
)
from crossent.word2vec.formats.counted import read_once
from crossent.word2vec.training.callbacks import Hooks, TrainingCallback, epoch_stats
from crossent.word2vec.training.checkpoint import CheckpointError
from crossent.word2vec.training.config import ConfigError, TrainConfig
from crossent.word2vec.training.device import resolve_device, weights_on, write_back
from crossent.word2vec.training.jobs import JobResult, output_tables, run_job
from crossent.word2vec.training.model import Position, SkipGram
from crossent.word2vec.training.vocab import Vocabulary

if TYPE_CHECKING:
    from crossent.word2vec.training.softmax import Weights


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


LOSS_BOUND = 1e4
"""Nats per pair above which training has diverged. Every objective starts near its
uniform-model loss (ns: (1 + negative)·ln 2; hs: depth·ln 2; softmax: ln V — tens of nats at
most), and a loss of 10⁴ nats means p(context) < e^-10000: weights that blew up without
overflowing (seen: 2·10²⁸ per pair at 2048 pairs per step, alpha 0.025)."""


class TrainingDiverged(ValueError):
    """The loss or the weights stopped being finite, or the loss left every sane range: the
    learning rate is too high."""

    def __init__(
        self, where: str, alpha: float, loss: str, what: str = "is no longer finite"
    ) -> None:
        hint = " (for loss='softmax', 0.025 or less)" if loss == "softmax" else ""
        super().__init__(
            f"alpha: training diverged ({where} {what}) with alpha="
            f"{alpha:g}; use a smaller --alpha{hint}"
        )


def build_model(
    corpus: CorpusLike | Corpus, config: TrainConfig, *, counts: Counter[str] | None = None
) -> SkipGram:
    """First pass: count words, build the vocabulary, initialise the weights. Given
    ``counts`` (word2vec.c's ``-read-vocab``, :func:`~.vocabfile.read_vocab`, or the counts
    of :func:`~.counted.read_once`), the corpus is not counted: the vocabulary comes from
    them."""
    if counts is None:
        source = as_corpus(corpus)
        source.check()
        counts, stats = count_words(source, lowercase=config.lowercase)
        if stats.words == 0:
            raise CorpusError(f"corpus: no words in {source.describe()}")
    vocab = Vocabulary.build(counts, min_count=config.min_count, max_size=config.max_vocab)
    if len(vocab) == 0:
        top = ", ".join(f"{w!r}×{c}" for w, c in counts.most_common(3))
        raise CorpusError(
            f"corpus: none of its {len(counts)} distinct words occurs at least "
            f"min_count={config.min_count} times (most frequent: {top})"
        )
    if config.hs and len(vocab) < 2:
        raise CorpusError("corpus: hierarchical softmax needs at least 2 vocabulary words")
    return SkipGram.initial(config, vocab)


def train(
    corpus: CorpusLike | Corpus,
    config: TrainConfig | None = None,
    *,
    model: SkipGram | None = None,
    progress: Callable[[Progress], None] | None = None,
    callbacks: Iterable[TrainingCallback] = (),
    device: Any = None,
    distributed: bool = False,
) -> SkipGram:
    """Train skip-gram or CBOW (``config.model``) on ``corpus``: a path (a plain string is
    a path), a list of paths, or a re-iterable of token lists (gensim's ``sentences``).
    ``callbacks``: gensim-style epoch hooks (:mod:`crossent.word2vec.training.callbacks`).

    ``model`` (e.g. a checkpoint) continues from its position, on the corpus it was trained
    on (else :class:`CorpusError`); with ``config`` too, only ``epochs`` (train to that many
    epochs in all, so a finished run can be extended) and ``threads`` may differ from the
    model's settings (else :class:`ConfigError` naming the setting).

    ``device`` (``loss="softmax"`` only): ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``
    — where the weights live during training (see :mod:`.device`). ``distributed``: train
    across the ranks of the initialised default process group, the output vectors split
    by vocabulary (``loss="softmax"``, ``threads=1``; see :mod:`.distributed`)."""
    hooks = Hooks(callbacks)
    cfg = model.config if model is not None else config or TrainConfig()
    if distributed:
        from crossent.word2vec.training.ranks import train_across_ranks

        return train_across_ranks(corpus, config, model, progress, hooks, device)
    dev = None  # ns and hs train with numba kernels: torch is not even imported
    if device is not None or cfg.loss == "softmax":
        dev = resolve_device(device, cfg.loss)
    model, enc = _prepare(corpus, config, model)
    weights = None
    if model.config.loss == "softmax" and model.config.model == "skipgram":
        assert dev is not None
        weights = weights_on(model, dev)
    elif dev is not None and dev.type != "cpu":
        raise ValueError(
            f"device: only skip-gram's softmax runs on {dev}, not {model.config.model}"
        )
    with torch_threads(model.config):
        _Trainer(model, enc, progress, weights).run(hooks)
    return model


@contextlib.contextmanager
def torch_threads(config: TrainConfig) -> Iterator[None]:
    """Within the block torch's intra-op threads are ``config.threads`` (``--threads``
    bounds every compute thread), for the objectives that run through torch."""
    if config.loss != "softmax":
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _prepare(
    corpus: CorpusLike | Corpus, config: TrainConfig | None, model: SkipGram | None
) -> tuple[SkipGram, EncodedCorpus]:
    """The model (built from the corpus, read once: :func:`~.counted.read_once`; or the one
    given, the corpus then only encoded) and the encoded corpus it trains on."""
    source = as_corpus(corpus)
    source.check()
    if model is None:
        cfg = config or TrainConfig()
        with read_once(source, lowercase=cfg.lowercase) as counted:
            if counted.stats.words == 0:
                raise CorpusError(f"corpus: no words in {source.describe()}")
            model = build_model(source, cfg, counts=counted.counts)
            enc = counted.encode(model.vocab.index)
    else:
        if config is not None:
            model.config = resume_config(model, **config.to_dict())
        enc = encode_corpus(source, model.vocab.index, lowercase=model.config.lowercase)
    _check_trainable(model, enc)
    return model, enc


def resume_config(model: SkipGram, /, **requested: Any) -> TrainConfig:
    """The settings to continue ``model`` with: its own, with the ``requested`` epochs
    (to that many in all: at least what it has trained) and threads; any other requested
    setting must equal the model's (else :class:`ConfigError` naming it)."""
    config = model.config.resumed(**requested)
    pos = model.position
    if config.epochs < pos.epoch or (config.epochs == pos.epoch and pos.job > 0):
        raise ConfigError(
            "epochs",
            f"{config.epochs} is fewer than the checkpoint has trained "
            f"({pos.epoch} epochs{' and part of the next' if pos.job else ''})",
        )
    return config


def _check_trainable(model: SkipGram, enc: EncodedCorpus) -> None:
    """The encoded corpus can train ``model``: words to pair, and the model's own corpus."""
    if len(enc.words) == 0:
        raise CorpusError("corpus: no in-vocabulary words to train on")
    if int(np.diff(enc.offsets).max()) < 2:
        raise CorpusError(
            "corpus: no sentence has two in-vocabulary words: no (centre, context) pair"
        )
    fingerprint = enc.fingerprint()
    ranks = 1 if model.corpus is None else model.corpus.get("ranks", 1)
    if ranks != 1:
        raise CorpusError(
            f"corpus: the checkpoint was trained across {ranks} ranks; it resumes only across "
            f"{ranks} ranks (torchrun --nproc-per-node ...), not in one process"
        )
    if model.corpus is not None and fingerprint != model.corpus:
        raise CorpusError(
            "corpus: not the corpus the checkpoint was trained on ("
            f"{model.corpus['words']} in-vocabulary words in {model.corpus['sentences']} "
            f"sentences then, {fingerprint['words']} in {fingerprint['sentences']} now, "
            "or different words)"
        )
    model.corpus = fingerprint


def _finite(*arrays: np.ndarray) -> bool:
    """Whether every entry is finite — via a float64 sum (a NaN or inf anywhere makes it
    non-finite), without the V×D boolean temporary of ``np.isfinite(a).all()``."""
    return all(math.isfinite(float(np.sum(a, dtype=np.float64))) for a in arrays)


def job_seed(seed: int, epoch: int, job: int) -> int:
    """A 64-bit seed for one job, distinct for every (seed, epoch, job)."""
    x = seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + job * 0x94D049BB133111EB
    return (x ^ (x >> 31)) % (2**63)


class _Trainer:
    """One process's training loop (:class:`~.ranks.RankTrainer` extends it across ranks)."""

    stopping = False  # stop after this epoch (across ranks: a signal seen at the last sync)

    def __init__(
        self,
        model: SkipGram,
        enc: EncodedCorpus,
        progress: Callable[[Progress], None] | None,
        weights: Weights | None = None,  # loss="softmax": the tensors it trains
    ) -> None:
        self.m, self.enc, self.progress, self.weights = model, enc, progress, weights
        cfg = model.config
        self.words = np.asarray(enc.words)
        self.jobs = job_bounds(enc.offsets, cfg.job_words) if len(enc.words) else []
        self.job_words = [int(enc.offsets[b] - enc.offsets[a]) for a, b in self.jobs]
        self.job_starts = np.concatenate([[0], np.cumsum(self.job_words)])  # words before job
        self.keep = model.keep_probabilities()
        self.total = cfg.epochs * len(enc.words)
        self.tables = output_tables(model)
        self.started = time.perf_counter()
        self.words_at_start = model.position.words_done

    def alpha(self, words_done: int) -> float:
        cfg = self.m.config
        frac = min(words_done / max(self.total, 1), 1.0)
        return cfg.alpha * (1.0 - (1.0 - cfg.min_alpha_ratio) * frac)

    def steps(self) -> tuple[int, str]:
        """How many steps an epoch has and what they are (``position.job`` counts them)."""
        return len(self.jobs), "jobs"

    def run(self, hooks: Hooks) -> None:
        """Epochs from the model's position to ``config.epochs``, or until a callback sets
        ``model.stop_training``. The position changes by whole assignments only, so Ctrl-C
        anywhere leaves it consistent."""
        cfg, m = self.m.config, self.m
        steps, what = self.steps()
        if m.position.job > steps:
            raise CheckpointError(
                f"checkpoint: position: job {m.position.job} is beyond the {steps} {what} "
                "of the corpus"
            )
        m.stop_training = False
        try:
            stop = hooks("on_train_begin", m)
            while m.position.epoch < cfg.epochs and not stop and not hooks("on_epoch_begin", m):
                started, words_before = time.perf_counter(), m.position.words_done
                try:
                    self._epoch(m.position.epoch, m.position.job)
                finally:  # a GPU's weights back into the model, also when interrupted
                    if self.weights is not None:
                        write_back(self.weights, m)
                m.last_epoch = epoch_stats(m, time.perf_counter() - started, words_before)
                self._end_epoch(m.position)
                stop = hooks("on_epoch_end", m)
                if self.stopping:
                    raise TrainingInterrupted(m)
        except KeyboardInterrupt:  # outside a job: the position is a consistent snapshot
            raise TrainingInterrupted(m) from None
        hooks("on_train_end", m)

    def _end_epoch(self, pos: Position) -> None:
        cfg = self.m.config
        if not _finite(*(w for w in (self.m.syn0, self.m.syn1, self.m.syn1neg) if w is not None)):
            raise TrainingDiverged(f"the weights after epoch {pos.epoch + 1}", cfg.alpha, cfg.loss)
        if pos.partial_pairs == 0:  # the facade warns, as gensim trains a toy corpus
            problem = (
                f"subsampling with sample={cfg.sample:g} left no (centre, context) pair in "
                "an epoch; use a larger sample, or 0 to turn it off"
            )
            if not self.m.warn_no_pairs:
                raise ConfigError("sample", problem)
            warnings.warn(f"sample: {problem}", UserWarning, stacklevel=2)
        losses = [*pos.epoch_losses, pos.partial_loss / max(pos.partial_pairs, 1)]
        self.m.position = replace(
            pos, epoch=pos.epoch + 1, job=0, epoch_losses=losses, partial_loss=0.0, partial_pairs=0
        )

    def _epoch(self, epoch: int, first_job: int) -> None:
        """Jobs ``first_job..`` of the epoch, accounted in job order. With several threads,
        jobs overlap (Hogwild). Jobs run on worker threads even with ``threads=1``, so that
        Ctrl-C (delivered to the main thread) never lands inside a job: on Ctrl-C, jobs that
        had started run to the end (their updates are in the weights) and are accounted."""
        pending: dict[int, Future[JobResult]] = {}
        try:
            with ThreadPoolExecutor(self.m.config.threads) as pool:
                try:
                    for j in range(first_job, len(self.jobs)):
                        self._submit_ahead(pool, pending, epoch, j)
                        result = pending[j].result()
                        del pending[j]
                        self._account(epoch, j, result)
                finally:
                    for future in pending.values():
                        future.cancel()
        except KeyboardInterrupt:  # the pool has shut down: started jobs have finished
            for j in sorted(pending):  # jobs start in order: the finished ones come first
                if pending[j].cancelled() or pending[j].exception() is not None:
                    break
                self._account(epoch, j, pending[j].result())
            raise TrainingInterrupted(self.m) from None

    def _submit_ahead(
        self,
        pool: ThreadPoolExecutor,
        pending: dict[int, Future[JobResult]],
        epoch: int,
        j: int,
        end: int | None = None,
    ) -> None:
        """Keep up to two jobs per thread queued, from job ``j`` on (before job ``end``)."""
        nxt = max(pending, default=j - 1) + 1
        end = len(self.jobs) if end is None else end
        while len(pending) < 2 * self.m.config.threads and nxt < end:
            pending[nxt] = pool.submit(self._job, epoch, nxt, self._words_before(epoch, nxt))
            nxt += 1

    def _words_before(self, epoch: int, j: int) -> int:
        """In-vocabulary words of all the jobs before job ``j`` of ``epoch``, over all epochs."""
        return epoch * len(self.enc.words) + int(self.job_starts[j])

    def _after_job(self, epoch: int, j: int, words: int, pos: Position) -> Position:
        """The position once job ``j`` of ``epoch`` (``words`` read) has been accounted."""
        assert j == pos.job, (j, pos.job)
        return replace(pos, words_done=self._words_before(epoch, j) + words, job=j + 1)

    def _account(self, epoch: int, j: int, result: JobResult) -> None:
        """Job ``j`` (the next one of the epoch) is done: add its loss and pairs."""
        pos, cfg = self.m.position, self.m.config
        loss, pairs, words = result
        where = f"the loss in epoch {epoch + 1}, job {j + 1}"
        if not math.isfinite(loss):
            raise TrainingDiverged(where, cfg.alpha, cfg.loss)
        if pairs and loss / pairs > LOSS_BOUND:
            what = f"is {loss / pairs:.3g} nats per pair, above {LOSS_BOUND:g}"
            raise TrainingDiverged(where, cfg.alpha, cfg.loss, what)
        sums = replace(
            pos, partial_loss=pos.partial_loss + loss, partial_pairs=pos.partial_pairs + pairs
        )
        self.m.position = self._after_job(epoch, j, words, sums)  # one assignment: Ctrl-C never
        self._report(epoch)  # sees half an update

    def job_seed(self, epoch: int, j: int) -> int:
        return job_seed(self.m.config.seed, epoch, j)

    def _job(self, epoch: int, j: int, words_before: int) -> JobResult:
        s0, s1 = self.jobs[j]
        offsets = self.enc.offsets[s0 : s1 + 1]
        a0 = self.alpha(words_before)
        a1 = self.alpha(words_before + self.job_words[j])
        seed = self.job_seed(epoch, j)
        if self.weights is not None:
            from crossent.word2vec.training.softmax import softmax_job

            cfg = self.m.config
            return softmax_job(self.weights, cfg, self.words, offsets, self.keep, seed, (a0, a1))
        return run_job(self.m, self.tables, Job(self.words, offsets, self.keep, seed, a0, a1))

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
