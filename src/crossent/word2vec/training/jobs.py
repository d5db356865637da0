"""One training job of any model (skip-gram, CBOW) and loss (ns, hs, hs+ns, softmax).

:func:`output_tables` builds, once per run, what the kernels read besides the weights (the
negative-sampling alias table over ``count^ns_exponent``, the Huffman codes); :func:`run_job`
trains on one run of sentences with the matching kernel: the numba kernels of
:mod:`.kernels` for ``ns`` / ``hs`` / ``hs+ns``, or full-softmax steps through the fused op
(:mod:`.softmax`, :mod:`.cbow_softmax`). Unused matrices and tables are 1-row stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossent.word2vec.formats.corpus import Job
from crossent.word2vec.training import kernels
from crossent.word2vec.training.model import SkipGram

JobResult = tuple[float, int, int]
"""(loss summed over the job's examples in float64, examples, words read)."""


@dataclass(frozen=True)
class OutputTables:
    """Negative sampling: ``neg_prob`` float32 [V], ``neg_alias`` int32 [V]; hierarchical
    softmax: ``codes`` int8 [V, L], ``points`` int32 [V, L], ``lengths`` int32 [V]."""

    neg_prob: np.ndarray
    neg_alias: np.ndarray
    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray


def output_tables(model: SkipGram) -> OutputTables:
    """The tables ``model``'s loss needs (stand-ins for the others)."""
    cfg, vocab = model.config, model.vocab
    if cfg.ns:
        neg_prob, neg_alias = vocab.alias_table(cfg.ns_exponent)
    else:
        neg_prob, neg_alias = np.ones(1, np.float32), np.zeros(1, np.int32)
    if cfg.hs:
        codes, points, lengths = vocab.huffman()
    else:
        codes, points = np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int32)
        lengths = np.zeros(1, dtype=np.int32)
    return OutputTables(neg_prob, neg_alias, codes, points, lengths)


def output_matrices(model: SkipGram) -> tuple[np.ndarray, np.ndarray]:
    """(inner-node vectors of the tree, output vectors of negative sampling), each the
    model's matrix when its loss uses it, else a 1-row stand-in."""
    cfg = model.config
    stand_in = np.zeros((1, model.syn0.shape[1]), dtype=np.float32)
    tree = model.syn1 if cfg.hs else stand_in
    if cfg.loss == "hs+ns":
        assert model.syn1neg is not None
        return tree, model.syn1neg
    return tree, model.syn1 if cfg.ns else stand_in


def run_job(model: SkipGram, tables: OutputTables, job: Job) -> JobResult:
    """Train ``model`` on one job (see :class:`~crossent.word2vec.formats.corpus.Job`)."""
    cfg = model.config
    if cfg.loss == "softmax":
        return _softmax_job(model, job)
    tree, outputs = output_matrices(model)
    t = tables
    negative = cfg.negative if cfg.ns else 0
    common = (job.words, job.offsets, job.keep, cfg.window, job.alpha0, job.alpha1, job.seed,
              cfg.hs, negative, t.neg_prob, t.neg_alias, t.codes, t.points, t.lengths)  # fmt: skip
    if cfg.model == "cbow":
        loss, examples, read = kernels.cbow_job(
            model.syn0, tree, outputs, *common, cfg.cbow_mean, cfg.shrink_windows, True,
            kernels.CBOW_BATCH,
        )  # fmt: skip
    else:
        loss, examples, read = kernels.train_job(
            model.syn0, tree, outputs, *common, cfg.shrink_windows, True
        )
    return float(loss), int(examples), int(read)


def _softmax_job(model: SkipGram, job: Job) -> JobResult:
    """The exact softmax objective, skip-gram or CBOW (imports torch on first use)."""
    if model.config.model == "cbow":
        from crossent.word2vec.training.cbow_softmax import cbow_softmax_job

        return cbow_softmax_job(model, job)
    import torch

    from crossent.word2vec.training.device import weights_on
    from crossent.word2vec.training.softmax import softmax_job

    w = weights_on(model, torch.device("cpu"))  # views of the model's arrays
    alphas = (job.alpha0, job.alpha1)
    return softmax_job(w, model.config, job.words, job.offsets, job.keep, job.seed, alphas)
