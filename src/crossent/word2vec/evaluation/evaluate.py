"""Exact held-out evaluation: the seed's full-softmax loss J(θ) of a model on a text.

Pairs are every (centre, context) within ``window`` of each other in each sentence of the
text (no subsampling, no random window shrinking), words outside the model's vocabulary
dropped. For ``ns`` and ``softmax`` models the output vectors define
:math:`p(o \\mid c) = \\operatorname{softmax}_o(U v_c)` over the whole vocabulary, computed
through :func:`crossent.linear_cross_entropy` in chunks; for ``hs`` models the tree's own
normalised :math:`p(o \\mid c) = \\prod_n \\sigma(\\pm u_n^\\top v_c)` is used. The result
is the mean :math:`J = -\\frac{1}{P}\\sum \\log p(o \\mid c)` and the perplexity
:math:`e^J`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossent.word2vec.formats.corpus import (
    Corpus,
    CorpusError,
    CorpusLike,
    as_corpus,
    encode_corpus,
    job_bounds,
)
from crossent.word2vec.training import kernels
from crossent.word2vec.training.model import SkipGram
from crossent.word2vec.vectors.intrinsic import (
    AnalogyReport,
    PairsReport,
    analogy_report,
    word_pairs_report,
)
from crossent.word2vec.vectors.keyedvectors import KeyedVectors


@dataclass
class EvaluationReport:
    """Scores of one set of vectors: per word-pair file (by file name), analogies and the
    held-out loss (each as returned by the function that computes it), where asked."""

    words: int
    similarity: dict[str, PairsReport]
    analogies: AnalogyReport | None = None
    heldout: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; parts that were not asked for are left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def evaluate(
    vectors: KeyedVectors,
    model: SkipGram | None = None,
    *,
    similarity: Sequence[str | os.PathLike[str]] = (),
    analogies: str | os.PathLike[str] | None = None,
    heldout: CorpusLike | Corpus = (),
) -> EvaluationReport:
    """Word similarity (Spearman) on each ``similarity`` file, analogy accuracy on
    ``analogies``, and the exact held-out J(θ) of ``model`` on the ``heldout`` text."""
    heldout_corpus = None if _empty(heldout) else as_corpus(heldout)
    if heldout_corpus is not None and model is None:
        raise ValueError(
            "heldout: needs a model (a checkpoint holds the output vectors), not only vectors"
        )
    report = EvaluationReport(len(vectors), {})
    for path in similarity:
        report.similarity[Path(path).name] = word_pairs_report(vectors, path)
    if analogies is not None:
        report.analogies = analogy_report(vectors, analogies)
    if heldout_corpus is not None and model is not None:
        report.heldout = heldout_loss(model, heldout_corpus)
    return report


def _empty(corpus: object) -> bool:
    return isinstance(corpus, (list, tuple)) and not corpus


def heldout_loss(
    model: SkipGram,
    corpus: CorpusLike | Corpus,
    *,
    window: int | None = None,
    batch_pairs: int = 8192,
    block_words: int = 100_000,
) -> dict[str, Any]:
    """Mean held-out J(θ) over the pairs of ``corpus`` (paths or token lists, as
    :func:`.train.train`), its perplexity and the pair count.

    The text is encoded to a memory-mapped file and scored ``block_words`` words at a time,
    so memory stays bounded (about ``32 · window · block_words`` bytes of pairs) whatever
    the text's size."""
    if model.config.model != "skipgram":
        raise ValueError(
            f"heldout: J(θ) is skip-gram's objective p(context | centre); this model is "
            f"{model.config.model!r}, whose output vectors predict the centre from its context"
        )
    window = window or model.config.window
    if not isinstance(window, int) or not 1 <= window <= 1000:
        raise ValueError(f"window: expected an integer in [1, 1000], got {window!r}")
    keep = np.ones(len(model.vocab), dtype=np.float32)
    score = _hs_scorer(model) if model.config.hs else _softmax_scorer(model, batch_pairs)
    total, pairs = 0.0, 0
    enc = encode_corpus(corpus, model.vocab.index, lowercase=model.config.lowercase)
    words = np.asarray(enc.words)
    for s0, s1 in job_bounds(enc.offsets, block_words) if len(words) else []:
        offsets = enc.offsets[s0 : s1 + 1]
        centres, starts, contexts = kernels.job_windows(words, offsets, keep, window, 0, False)
        if len(contexts):
            total += score(centres, starts, contexts)
            pairs += len(contexts)
    if pairs == 0:
        raise CorpusError("heldout: no pair of in-vocabulary words within the window")
    mean = total / pairs
    return {
        "loss": mean,
        "perplexity": math.exp(min(mean, 700.0)),
        "pairs": pairs,
        "objective": "hierarchical softmax" if model.config.hs else "softmax",
    }


Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
"""``Σ -log p(context | centre)`` over a block of windows ``(centres [M], starts [M+1],
contexts [P])`` (see :func:`.kernels.job_windows`), in float64."""


def _hs_scorer(model: SkipGram) -> Scorer:
    codes, points, lengths = model.vocab.huffman()

    def score(centres: np.ndarray, starts: np.ndarray, contexts: np.ndarray) -> float:
        pair_centres = np.repeat(centres, np.diff(starts))  # [P]
        return float(
            kernels.hs_log_likelihood(
                model.syn0, model.syn1, pair_centres, contexts, codes, points, lengths
            )
        )

    return score


def _softmax_scorer(model: SkipGram, batch_pairs: int) -> Scorer:
    """One float64 logits row per centre word of a batch of windows holding about
    ``batch_pairs`` pairs: Σ_j J_{c,o_j} = k·lse(z_c) − Σ_j z_{c,o_j} (count targets, see
    :mod:`..training.softmax`)."""
    import torch

    from crossent.fused import linear_cross_entropy
    from crossent.word2vec.training.softmax import batches, centre_rows, count_targets

    syn0 = torch.from_numpy(model.syn0).double()  # float64 throughout: an exact reference
    syn1 = torch.from_numpy(model.syn1).double()

    def score(centres: np.ndarray, starts: np.ndarray, contexts: np.ndarray) -> float:
        total = 0.0
        c_t, s_t, o_t = (torch.from_numpy(x) for x in (centres, starts, contexts))
        with torch.no_grad():
            for a, b in batches(starts, batch_pairs):
                o = o_t[starts[a] : starts[b]]  # [P]
                rows, pair_rows = centre_rows(c_t[a:b], s_t[a : b + 1], len(o))
                columns = (0, syn1.shape[0])
                counts = count_targets(pair_rows, o, len(rows), columns, syn1.dtype)
                loss = linear_cross_entropy(syn0[rows], syn1, counts, reduction="sum")
                total += float(loss)
        return total

    return score
