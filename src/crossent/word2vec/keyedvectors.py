"""Word vectors with gensim's KeyedVectors-style API: lookup, neighbours, evaluation."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossent.word2vec.evalsets import read_analogies, read_word_pairs
from crossent.word2vec.io import load_word2vec, save_word2vec


class UnknownWordError(KeyError):
    """A word that is not in the vocabulary; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class KeyedVectors:
    """``vectors [V, D]`` (float32) for ``words``, most frequent first."""

    words: list[str]
    vectors: np.ndarray
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if not self.index:
            self.index = {w: i for i, w in enumerate(self.words)}
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self._unit = self.vectors / np.where(norms == 0, 1, norms)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector ``[D]`` of ``word`` (UnknownWordError with close matches if absent)."""
        vector: np.ndarray = self.vectors[self._id(word)]
        return vector

    def _id(self, word: str) -> int:
        if word in self.index:
            return self.index[word]
        close = difflib.get_close_matches(word, self.words[:50_000], n=5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise UnknownWordError(f"word {word!r} is not in the vocabulary of {len(self)} words{hint}")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, binary: bool | None = None) -> KeyedVectors:
        """Read a word2vec binary or text file (gensim's and word2vec.c's included)."""
        words, vectors = load_word2vec(path, binary=binary)
        return cls(words, vectors)

    def save(self, path: str | os.PathLike[str], *, binary: bool = True) -> None:
        """Write in word2vec binary (default) or text format, atomically."""
        save_word2vec(path, self.words, self.vectors, binary=binary)

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(self._unit[self._id(w1)] @ self._unit[self._id(w2)])

    def most_similar(
        self,
        positive: Sequence[str] | str = (),
        negative: Sequence[str] = (),
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words nearest (cosine) to ``Σ positive − Σ negative`` of unit vectors (3CosAdd),
        the query words excluded."""
        pos = [positive] if isinstance(positive, str) else list(positive)
        neg = list(negative)
        if not pos and not neg:
            raise ValueError("most_similar: expected at least one positive or negative word")
        ids = [self._id(w) for w in pos + neg]
        query = self._unit[ids[: len(pos)]].sum(0) - self._unit[ids[len(pos) :]].sum(0)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        limit = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        scores = self._unit[:limit] @ query
        scores[[i for i in ids if i < limit]] = -np.inf
        top = np.argsort(-scores)[:topn]
        return [(self.words[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _case_index(self, limit: int, case_insensitive: bool) -> dict[str, int]:
        """Word → id among the ``limit`` most frequent; lowercased, first (most frequent) wins."""
        out: dict[str, int] = {}
        for i, w in enumerate(self.words[:limit]):
            out.setdefault(w.lower() if case_insensitive else w, i)
        return out

    def evaluate_word_pairs(
        self,
        path: str | os.PathLike[str],
        *,
        restrict_vocab: int = 300_000,
        case_insensitive: bool = True,
    ) -> dict[str, Any]:
        """Spearman correlation between cosine similarity and human scores of word pairs.

        File: ``word1<TAB>word2<TAB>score`` lines, ``#`` comments (a line that does not
        parse is an error naming ``file:line``). Pairs with a word outside the
        ``restrict_vocab`` most frequent are skipped and counted in ``oov_ratio``; fewer
        than 2 pairs left is an error (no correlation exists).
        """
        lookup = self._case_index(restrict_vocab, case_insensitive)
        pairs = read_word_pairs(path)
        ours, human = [], []
        for pair in pairs:
            a, b = (pair.first, pair.second)
            a, b = (a.lower(), b.lower()) if case_insensitive else (a, b)
            if a in lookup and b in lookup:
                ours.append(float(self._unit[lookup[a]] @ self._unit[lookup[b]]))
                human.append(pair.score)
        if len(ours) < 2:
            raise ValueError(
                f"similarity: {os.fspath(path)}: only {len(ours)} of its {len(pairs)} pairs "
                f"have both words among the {restrict_vocab} most frequent; need 2 or more"
            )
        return {
            "spearman": spearman(np.asarray(ours), np.asarray(human)),
            "pairs": len(ours),
            "oov_ratio": 1 - len(ours) / len(pairs),
        }

    def evaluate_word_analogies(
        self,
        path: str | os.PathLike[str],
        *,
        restrict_vocab: int = 30_000,
        case_insensitive: bool = True,
    ) -> dict[str, Any]:
        """Accuracy on ``a b c d`` analogy questions (3CosAdd: ``b − a + c`` nearest ``d``).

        Searched among the ``restrict_vocab`` most frequent words; questions with a word
        outside them are skipped and reported through ``coverage``.
        """
        lookup = self._case_index(restrict_vocab, case_insensitive)
        unit = self._unit[: min(restrict_vocab, len(self))]
        questions = read_analogies(path)
        names: list[str] = []
        asked: list[int] = []  # section of each covered question
        quads: list[tuple[int, ...]] = []
        for question in questions:
            if not names or names[-1] != question.section:
                names.append(question.section)
            parts = [p.lower() if case_insensitive else p for p in question.words]
            if all(p in lookup for p in parts):
                quads.append(tuple(lookup[p] for p in parts))
                asked.append(len(names) - 1)
        if not quads:
            raise ValueError(
                f"analogies: {os.fspath(path)}: none of its {len(questions)} questions has all "
                f"four words among the {restrict_vocab} most frequent"
            )
        total = len(questions)
        ids = np.asarray(quads, dtype=np.int64).reshape(-1, 4)
        hits = np.zeros(len(ids), dtype=bool)
        for s in range(0, len(ids), 1024):  # batched: one matrix multiply per 1024 questions
            a, b, c, d = ids[s : s + 1024].T
            scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # [B, limit]
            rows = np.arange(len(a))
            for excluded in (a, b, c):
                scores[rows, excluded] = -np.inf
            hits[s : s + 1024] = scores.argmax(1) == d
        per = np.asarray(asked, dtype=np.int64)
        sections = {
            name: float(hits[per == k].mean()) for k, name in enumerate(names) if (per == k).any()
        }
        return {
            "accuracy": float(hits.mean()) if len(hits) else 0.0,
            "correct": int(hits.sum()),
            "questions": len(hits),
            "coverage": len(hits) / total if total else 0.0,
            "sections": sections,
        }


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / np.bincount(inverse))[inverse]
