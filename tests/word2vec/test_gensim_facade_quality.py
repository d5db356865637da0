"""The gensim tutorial program, import changed, reaches gensim's quality on the bundled
text (WikiText-2 valid + test, 460k words): WordSim-353 Spearman and analogy accuracy
averaged over two seeds (run with ``-m slow``: about three minutes on 2 cores).

Measured (2 cores, sg=1, 5 epochs, vector_size=100): WS353 gensim 0.070 / 0.104 / 0.096,
ours 0.096 / 0.096 / 0.073; analogies gensim 1.21 / 1.48 / 1.41 %, ours 1.25 / 1.56 / 1.37 %
(seeds 1, 2, 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import KeyedVectors
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.vectors.intrinsic import analogy_report, word_pairs_report

from .gensim_programs import CROSSENT, gensim_namespace, tutorial


def _scores(model: Any) -> tuple[float, float]:
    kv = KeyedVectors(list(model.wv.index_to_key), np.asarray(model.wv.vectors))
    pairs = word_pairs_report(kv, data_file("wordsim353.tsv")).spearman
    return pairs, analogy_report(kv, data_file("questions-words.txt")).accuracy


@pytest.mark.slow
@pytest.mark.parametrize("sg", [1, 0])
def test_tutorial_reaches_gensims_quality(tmp_path: Path, sg: int) -> None:
    text = tmp_path / "text.txt"
    text.write_text(
        "".join(data_file(f).read_text(encoding="utf-8") for f in ("wikitext2-valid.txt",
                                                                    "wikitext2-test.txt")),
        encoding="utf-8",
    )  # fmt: skip
    scores: dict[str, list[tuple[float, float]]] = {"ours": [], "gensim": []}
    for seed in (1, 2):
        for name, lib in (("ours", CROSSENT), ("gensim", gensim_namespace())):
            out = tmp_path / f"{name}{seed}"
            out.mkdir()
            run = tutorial(lib, text, out, sg=sg, seed=seed, workers=2, vector_size=100)
            scores[name].append(_scores(run["loaded"]))
    ours, theirs = np.mean(scores["ours"], axis=0), np.mean(scores["gensim"], axis=0)
    print(f"sg={sg}: WS353 ours {ours[0]:.3f} gensim {theirs[0]:.3f}; "
          f"analogies ours {ours[1]:.2%} gensim {theirs[1]:.2%}")  # fmt: skip
    assert ours[0] >= theirs[0] - 0.03
    assert ours[1] >= theirs[1] - 0.005
