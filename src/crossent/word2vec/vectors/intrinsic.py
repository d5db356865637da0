r"""Intrinsic evaluation of word vectors: word-pair similarity and analogy questions.

Two forms of each result:

- gensim 4's, returned by :meth:`KeyedVectors.evaluate_word_pairs` (``(pearson, spearman,
  oov_ratio)``, the ratio in percent) and :meth:`KeyedVectors.evaluate_word_analogies`
  (``(accuracy, sections)``): same files, same skipping rules, same numbers;
- our reports (:func:`word_pairs_report`, :func:`analogy_report`), dataclasses with the
  counts and the coverage that the command line prints.

Word pairs: ``word1<delimiter>word2<delimiter>score`` lines, ``#`` comments; the model's
score of a pair is the cosine of the two vectors. Analogies (word2vec.c's
``questions-words.txt``): ``: section`` headers, then ``a b c d`` lines; the answer is the
word nearest (cosine) to :math:`\hat b - \hat a + \hat c` (3CosAdd over unit vectors) among
the ``restrict_vocab`` most frequent, ``a``, ``b`` and ``c`` (and, as gensim, their case
variants) left out. With ``case_insensitive`` every word is upper-cased, the most frequent
case variant standing for all. Correlations come with two-sided p-values from Student's
:math:`t` with :math:`n - 2` degrees of freedom, :math:`p = I_{1-r^2}((n-2)/2, 1/2)` (as
``scipy.stats.pearsonr`` and ``spearmanr``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict

import numpy as np

from crossent.word2vec.formats.evalsets import EvaluationFileError, read_analogies, read_word_pairs
from crossent.word2vec.formats.files import open_input
from crossent.word2vec.vectors.vectortable import VectorTable


class Correlation(NamedTuple):
    """A correlation coefficient and its two-sided p-value (scipy's field names)."""

    statistic: float
    pvalue: float


class AnalogySection(TypedDict):
    """gensim's section record: name, and the upper-cased (if so) questions it got right
    and wrong."""

    section: str
    correct: list[tuple[str, str, str, str]]
    incorrect: list[tuple[str, str, str, str]]


@dataclass
class PairsReport:
    """Our word-pair report: Spearman's ρ, Pearson's r, pairs scored, share skipped."""

    spearman: float
    pearson: float
    pairs: int
    oov_fraction: float  # pairs with an unknown word / all pairs, in [0, 1]


@dataclass
class AnalogyReport:
    """Our analogy report: accuracy over the questions answered and per section."""

    accuracy: float
    correct: int
    questions: int  # answered: all four words known
    coverage: float  # answered / all questions
    sections: dict[str, float] = field(default_factory=dict)


def evaluate_word_pairs(
    kv: VectorTable,
    pairs: str | os.PathLike[str],
    delimiter: str = "\t",
    encoding: str = "utf8",
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
) -> tuple[Correlation, Correlation, float]:
    """gensim's ``(pearson, spearman, oov_ratio)``: each correlation a ``(statistic,
    pvalue)`` pair, the ratio of pairs with an unknown word in percent; with
    ``dummy4unknown`` a pair with an unknown word scores 0 instead of being skipped.
    Raises ``ValueError`` if no pair is left. Also :meth:`KeyedVectors.evaluate_word_pairs`."""
    gold, model, oov = _score_pairs(kv, pairs, delimiter, encoding, restrict_vocab,
                                    case_insensitive, dummy4unknown)  # fmt: skip
    if not gold:
        raise ValueError(f"pairs: no valid in-vocabulary word pair in {pairs}")
    scored = len(gold) if dummy4unknown else len(gold) + oov
    x, y = np.asarray(gold), np.asarray(model)
    return pearson(x, y), spearman(x, y), 100.0 * oov / scored


def word_pairs_report(
    kv: VectorTable,
    path: str | os.PathLike[str],
    *,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
) -> PairsReport:
    """Our report on a word-pair file, read strictly (a line that does not parse is an
    error naming ``file:line``, :mod:`.evalsets`); fewer than 2 known pairs is an error."""
    pairs = read_word_pairs(path)
    lookup = _case_lookup(kv, restrict_vocab, case_insensitive)
    norm = str.upper if case_insensitive else str
    unit = kv.get_normed_vectors()
    gold, model = [], []
    for pair in pairs:
        a, b = norm(pair.first), norm(pair.second)
        if a in lookup and b in lookup:
            gold.append(pair.score)
            model.append(float(unit[lookup[a]] @ unit[lookup[b]]))
    if len(gold) < 2:
        raise ValueError(
            f"similarity: {os.fspath(path)}: only {len(gold)} of its {len(pairs)} pairs have "
            f"both words among the {restrict_vocab} most frequent; need 2 or more"
        )
    x, y = np.asarray(gold), np.asarray(model)
    return PairsReport(
        spearman=spearman(x, y).statistic,
        pearson=pearson(x, y).statistic,
        pairs=len(gold),
        oov_fraction=1 - len(gold) / len(pairs),
    )


def _score_pairs(
    kv: VectorTable,
    path: str | os.PathLike[str],
    delimiter: str,
    encoding: str,
    restrict_vocab: int,
    case_insensitive: bool,
    dummy4unknown: bool,
) -> tuple[list[float], list[float], int]:
    """Human scores, model cosines (float32, as gensim) and the count of unknown pairs."""
    lookup = _case_lookup(kv, restrict_vocab, case_insensitive)
    unit = kv.get_normed_vectors()
    gold: list[float] = []
    model: list[float] = []
    oov = 0
    for line in _text(path, "pairs", encoding).splitlines(keepends=True):
        if not line or line.startswith("#"):
            continue
        fields = (line.upper() if case_insensitive else line).split(delimiter)
        try:
            a, b, text = fields
            score = float(text)
        except ValueError:
            continue  # gensim skips malformed lines too
        if a in lookup and b in lookup:
            gold.append(score)
            model.append(float(unit[lookup[a]] @ unit[lookup[b]]))
        else:
            oov += 1
            if dummy4unknown:
                gold.append(score)
                model.append(0.0)
    return gold, model, oov


def _case_lookup(kv: VectorTable, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """Word → row among the ``restrict_vocab`` first; upper-cased, the first variant wins."""
    out: dict[str, int] = {}
    for i, w in enumerate(kv.words[:restrict_vocab]):
        out.setdefault(w.upper() if case_insensitive else w, i)
    return out


def evaluate_word_analogies(
    kv: VectorTable,
    analogies: str | os.PathLike[str],
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    similarity_function: str = "most_similar",
) -> tuple[float, list[AnalogySection]]:
    """gensim's ``(accuracy, sections)``, each section a dict with ``section``, ``correct``
    and ``incorrect`` question lists, the last one ``"Total accuracy"``. With
    ``dummy4unknown`` a question with an unknown word counts as wrong instead of skipped.
    ``similarity_function``: ``"most_similar"`` (3CosAdd) or ``"most_similar_cosmul"``
    (3CosMul; gensim 4.4 accepts the name but answers with 3CosAdd regardless).
    Also :meth:`KeyedVectors.evaluate_word_analogies`."""
    if similarity_function not in _SCORERS:
        raise ValueError(
            f"similarity_function: expected one of {sorted(_SCORERS)}, got {similarity_function!r}"
        )
    norm = str.upper if case_insensitive else str
    sections: list[AnalogySection] = []
    read: list[tuple[int, Question]] = []  # (section, question), in file order
    for number, line in enumerate(_text(analogies, "analogies", "utf-8").splitlines()):
        if line.startswith(": "):
            sections.append(AnalogySection(section=line[2:].strip(), correct=[], incorrect=[]))
        elif not sections:
            raise ValueError(
                f"analogies: line {number + 1} of {analogies}: missing ': section' header"
            )
        elif len(words := [norm(w) for w in line.split()]) == 4:  # others skipped, as gensim
            read.append((len(sections) - 1, (words[0], words[1], words[2], words[3])))
    _grade(kv, sections, read, restrict_vocab, case_insensitive, dummy4unknown,
           similarity_function)  # fmt: skip
    total = AnalogySection(
        section="Total accuracy",
        correct=[q for s in sections for q in s["correct"]],
        incorrect=[q for s in sections for q in s["incorrect"]],
    )
    return _accuracy(total), [*sections, total]


def analogy_report(
    kv: VectorTable,
    path: str | os.PathLike[str],
    *,
    restrict_vocab: int = 30_000,
    case_insensitive: bool = True,
) -> AnalogyReport:
    """Our report: gensim's answers, with the counts and the coverage; the file is read
    strictly (:mod:`.evalsets`); no question with four known words is an error."""
    questions = read_analogies(path)
    norm = str.upper if case_insensitive else str
    sections: list[AnalogySection] = []
    read: list[tuple[int, Question]] = []
    for q in questions:
        if not sections or sections[-1]["section"] != q.section:
            sections.append(AnalogySection(section=q.section, correct=[], incorrect=[]))
        a, b, c, d = (norm(w) for w in q.words)
        read.append((len(sections) - 1, (a, b, c, d)))
    _grade(kv, sections, read, restrict_vocab, case_insensitive, False)
    correct = sum(len(s["correct"]) for s in sections)
    answered = correct + sum(len(s["incorrect"]) for s in sections)
    if not answered:
        raise ValueError(
            f"analogies: {os.fspath(path)}: none of its {len(questions)} questions has all "
            f"four words among the {restrict_vocab} most frequent"
        )
    return AnalogyReport(
        accuracy=correct / answered,
        correct=correct,
        questions=answered,
        coverage=answered / len(questions),
        sections={s["section"]: _accuracy(s) for s in sections if s["correct"] or s["incorrect"]},
    )


def _accuracy(section: AnalogySection) -> float:
    n = len(section["correct"]) + len(section["incorrect"])
    return len(section["correct"]) / n if n else 0.0


Question = tuple[str, str, str, str]


def _grade(
    kv: VectorTable,
    sections: list[AnalogySection],
    read: list[tuple[int, Question]],
    restrict_vocab: int,
    case_insensitive: bool,
    dummy4unknown: bool,
    similarity_function: str = "most_similar",
) -> None:
    """File each question of ``read`` (section index, normalised words) as right or wrong
    in its section; unknown ones as wrong with ``dummy4unknown``, else nowhere."""
    norm: Callable[[str], str] = str.upper if case_insensitive else str
    lookup = _case_lookup(kv, restrict_vocab, case_insensitive)
    known = [all(w in lookup for w in q) for _, q in read]
    abc = [[lookup[w] for w in q[:3]] for (_, q), k in zip(read, known, strict=True) if k]
    guesses = iter(_predict(kv, abc, restrict_vocab, norm, _SCORERS[similarity_function]))
    for (s, question), k in zip(read, known, strict=True):
        if k:
            sections[s]["correct" if next(guesses) == question[3] else "incorrect"].append(question)
        elif dummy4unknown:
            sections[s]["incorrect"].append(question)


def _text(path: str | os.PathLike[str], what: str, encoding: str) -> str:
    """The whole of a regular file, decoded (a clear ``ValueError`` if it does not)."""
    with open_input(path, what) as f:
        data = f.read()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise EvaluationFileError(
            f"{what}: {os.fspath(path)}: not {encoding} text ({exc})"
        ) from None


def _cos_add(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """3CosAdd scores ``[B, limit]``: :math:`\\cos(w, \\hat b - \\hat a + \\hat c)` up to a
    positive factor per question (the ranking gensim's ``most_similar`` makes)."""
    scores: np.ndarray = (unit[b] - unit[a] + unit[c]) @ unit.T
    return scores


def _cos_mul(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """3CosMul scores ``[B, limit]`` (Levy & Goldberg 2014), gensim's
    ``most_similar_cosmul``: :math:`s_b s_c / (s_a + 10^{-6})`, :math:`s = (1 + \\cos) / 2`."""
    shifted = [(1 + unit[x] @ unit.T) / 2 for x in (a, b, c)]
    scores: np.ndarray = shifted[1] * shifted[2] / (shifted[0] + 1e-6)
    return scores


_SCORERS = {"most_similar": _cos_add, "most_similar_cosmul": _cos_mul}


def _predict(
    kv: VectorTable,
    abc: list[list[int]],
    restrict_vocab: int,
    norm: Callable[[str], str],
    scorer: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray] = _cos_add,
) -> list[str]:
    """gensim's answer to each ``a : b :: c : ?``: of the 5 rows scored best by ``scorer``
    (rows a, b, c excluded), the first whose (normalised) word is none of the question's
    three, else the fifth."""
    unit = kv.get_normed_vectors()[:restrict_vocab]
    rows = np.asarray(abc, dtype=np.int64).reshape(-1, 3)
    out: list[str] = []
    for s in range(0, len(rows), 1024):  # one matrix multiply per 1024 questions
        a, b, c = rows[s : s + 1024].T
        scores = scorer(unit, a, b, c)  # [B, limit]
        r = np.arange(len(a))
        for excluded in (a, b, c):
            scores[r, excluded] = -np.inf
        k = min(5, unit.shape[0])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
        for q, candidates in enumerate(top):
            ignore = {norm(kv.words[i]) for i in (a[q], b[q], c[q])}
            guesses = [norm(kv.words[i]) for i in candidates if np.isfinite(scores[q, i])]
            out.append(
                next((g for g in guesses if g not in ignore), guesses[-1] if guesses else "")
            )
    return out


def pearson(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Pearson's r of two samples ``[n]`` (float64) and its two-sided p-value."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x, y: expected two samples of one length, got {x.shape}, {y.shape}")
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(dx @ dx) * float(dy @ dy))
    r = max(-1.0, min(1.0, float(dx @ dy) / denom)) if denom > 0 else math.nan
    return Correlation(r, _t_pvalue(r, len(x)))


def spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Spearman's ρ (Pearson's r of average ranks) and its two-sided p-value."""
    return pearson(_ranks(np.asarray(x)), _ranks(np.asarray(y)))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    ranked: np.ndarray = (sums / np.bincount(inverse))[inverse]
    return ranked


def _t_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation ``r`` of ``n`` points: ``I_{1-r²}((n-2)/2, 1/2)``."""
    if math.isnan(r):
        return math.nan
    if n <= 2:
        return 1.0
    return regularized_beta((n - 2) / 2, 0.5, 1.0 - r * r)


def regularized_beta(a: float, b: float, x: float) -> float:
    r"""The regularised incomplete beta function
    :math:`I_x(a, b) = \frac{1}{B(a,b)}\int_0^x t^{a-1}(1-t)^{b-1}\,dt` (float64), by its
    continued fraction, evaluated on the side of ``x`` where it converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of ``I_x(a, b)``, by the modified Lentz method."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for coef in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + coef * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + coef / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h
