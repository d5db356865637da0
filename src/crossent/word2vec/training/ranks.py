"""The training loop of one rank of a data-parallel run (:mod:`.dataparallel`).

It is the one-process loop (:class:`~.train._Trainer`) with an epoch cut into rounds,
each followed by a sync: ``position.job`` counts rounds (the same on every rank), the
learning rate follows the global word count, every job of every rank has its own seed,
and signals and failures are carried by the syncs so that every rank stops at the same
point.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any

from crossent.word2vec.formats.corpus import Corpus, CorpusLike, EncodedCorpus
from crossent.word2vec.training import train as train_module
from crossent.word2vec.training.callbacks import Hooks
from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.dataparallel import Schedule, Sync, deferred_interrupts
from crossent.word2vec.training.distributed import Parallel, RankFailed
from crossent.word2vec.training.jobs import JobResult
from crossent.word2vec.training.model import Position, SkipGram
from crossent.word2vec.training.train import (
    Progress,
    TrainingInterrupted,
    _Trainer,
    job_seed,
    torch_threads,
)

log = logging.getLogger(__name__)


class RankTrainer(_Trainer):
    """This rank's share of a data-parallel run: its jobs in rounds, synced after each."""

    def __init__(
        self,
        model: SkipGram,
        enc: EncodedCorpus,
        progress: Callable[[Progress], None] | None,
        sync: Sync,
        shard_words: list[int],
    ) -> None:
        super().__init__(model, enc, progress)
        self.sync, cfg = sync, model.config
        self.schedule = Schedule.of(self.job_starts, shard_words, sync.ranks.rank, cfg.sync_every)
        self.total = cfg.epochs * self.schedule.global_words
        if sync.ranks.rank != 0:  # a resumed epoch's partial sums are rank 0's alone
            model.position = replace(model.position, partial_loss=0.0, partial_pairs=0)

    def steps(self) -> tuple[int, str]:
        return len(self.schedule.bounds), "rounds"

    def run(self, hooks: Hooks) -> None:
        with deferred_interrupts() as self.interrupts:
            super().run(hooks)
        log.info("%s", self.sync.report())

    def _epoch(self, epoch: int, first_round: int) -> None:
        """Rounds ``first_round..`` of the epoch, each followed by a sync; a signal (any
        rank's) stops every rank at the same sync, a failed job every rank."""
        rounds = len(self.schedule.bounds)
        with ThreadPoolExecutor(self.m.config.threads) as pool:
            for t in range(first_round, rounds):
                a, b = self.schedule.bounds[t]
                error = self._round(pool, epoch, a, b)
                s0, s1 = (self.jobs[a][0], self.jobs[b - 1][1]) if b > a else (0, 0)
                words = self.words[self.enc.offsets[s0] : self.enc.offsets[s1]]
                stop, bad = self.sync.round(words, self.interrupts.count > 0, error is not None)
                if bad:
                    raise error if error is not None else _failed_elsewhere(bad - 1)
                before = self.schedule.global_before(epoch, int(self.job_starts[b]))
                if t + 1 == rounds:  # exact on every rank (one with an empty share too)
                    before = (epoch + 1) * self.schedule.global_words
                self.m.position = replace(self.m.position, job=t + 1, words_done=before)
                self.stopping = stop
                if stop and t + 1 < rounds:
                    self._stop_mid_epoch()

    def _stop_mid_epoch(self) -> None:
        """Every row exchanged and the epoch's loss so far summed: a position every rank
        shares, to checkpoint."""
        self.sync.full()
        pos = self.m.position
        loss, pairs = self.sync.totals(pos.partial_loss, pos.partial_pairs)
        self.m.position = replace(pos, partial_loss=loss, partial_pairs=pairs)
        raise TrainingInterrupted(self.m)

    def _round(self, pool: ThreadPoolExecutor, epoch: int, a: int, b: int) -> Exception | None:
        """Jobs ``a..b`` on this rank's threads (Hogwild), accounted in order; a failure is
        returned once the round's started jobs have finished, for the sync to share."""
        pending: dict[int, Future[JobResult]] = {}
        try:
            for j in range(a, b):
                self._submit_ahead(pool, pending, epoch, j, b)
                self._account(epoch, j, pending.pop(j).result())
        except Exception as exc:
            for future in pending.values():
                future.cancel()
            wait(list(pending.values()))
            return exc
        return None

    def _end_epoch(self, pos: Position) -> None:
        self.sync.full()  # every row exchanged: the same model on every rank
        loss, pairs = self.sync.totals(pos.partial_loss, pos.partial_pairs)
        super()._end_epoch(replace(pos, partial_loss=loss, partial_pairs=pairs))

    def _words_before(self, epoch: int, j: int) -> int:
        """The global words at the same fraction of the epoch as job ``j`` of this rank."""
        return self.schedule.global_before(epoch, int(self.job_starts[j]))

    def _after_job(self, epoch: int, j: int, words: int, pos: Position) -> Position:
        return replace(pos, words_done=self._words_before(epoch, j + 1))  # job: at syncs

    def job_seed(self, epoch: int, j: int) -> int:
        ranks = self.sync.ranks
        return job_seed(self.m.config.seed, epoch, j * ranks.world + ranks.rank)


def train_across_ranks(
    corpus: CorpusLike | Corpus,
    config: TrainConfig | None,
    model: SkipGram | None,
    progress: Callable[[Progress], None] | None,
    hooks: Hooks,
    device: Any,
) -> SkipGram:
    """:func:`train` across the ranks: the exact softmax split by vocabulary
    (:mod:`.distributed`), every other objective data-parallel (:mod:`.dataparallel`)."""
    par = Parallel()
    dev = par.settings(config, device, model, corpus)
    cfg = model.config if model is not None else config or TrainConfig()
    if cfg.loss == "softmax":
        model, enc = par.prepare(functools.partial(train_module._prepare, corpus, config, model))
        weights = par.weights(model, dev)
        with torch_threads(model.config):
            _Trainer(model, enc, progress, weights).run(hooks)
        par.gather(weights, model)
        return model
    model, enc, shard_words = par.data_parallel(corpus, config, model)
    RankTrainer(model, enc, progress, Sync(model, par.ranks), shard_words).run(hooks)
    return model


def _failed_elsewhere(rank: int) -> RankFailed:
    return RankFailed(
        f"distributed: rank {rank} failed during training (its own error says why); "
        "every rank stopped"
    )


__all__ = ["RankTrainer", "train_across_ranks"]
