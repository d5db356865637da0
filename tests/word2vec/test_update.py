"""Vocabulary update (gensim's build_vocab(update=True)) against gensim's counts and rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from crossent.word2vec.training.config import TrainConfig
from crossent.word2vec.training.model import Position, SkipGram
from crossent.word2vec.training.train import train
from crossent.word2vec.training.update import update_from_text, update_vocabulary
from crossent.word2vec.training.vocab import Vocabulary

gensim_models = pytest.importorskip("gensim.models")


def _text(rng: np.random.Generator, words: list[str], n: int) -> list[list[str]]:
    tokens = list(
        rng.choice(
            words, size=n, p=np.linspace(2, 1, len(words)) / np.linspace(2, 1, len(words)).sum()
        )
    )
    return [tokens[i : i + 8] for i in range(0, n, 8)]


@pytest.mark.parametrize("loss", ["ns", "hs", "hs+ns"])
def test_update_matches_gensims_vocabulary_and_keeps_vectors(loss: str) -> None:
    rng = np.random.default_rng(0)
    old_text = _text(rng, [f"a{i}" for i in range(40)], 1200)
    new_text = _text(rng, [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(30)], 500)
    theirs = gensim_models.Word2Vec(vector_size=8, min_count=6, hs=int("hs" in loss),
                                    negative=0 if loss == "hs" else 5)  # fmt: skip
    theirs.build_vocab(old_text)
    theirs.build_vocab(new_text, update=True)
    config = TrainConfig(dim=8, min_count=6, loss=loss)
    old_vocab = Vocabulary.build(Counter(w for s in old_text for w in s), min_count=6)
    model = SkipGram.initial(config, old_vocab)
    model.syn1 += np.random.default_rng(1).normal(size=model.syn1.shape).astype(np.float32)
    model.position = Position(epoch=5, words_done=123)
    updated = update_vocabulary(model, Counter(w for s in new_text for w in s))
    ours = dict(zip(updated.vocab.words, updated.vocab.counts.tolist(), strict=True))
    expected = {w: theirs.wv.get_vecattr(w, "count") for w in theirs.wv.index_to_key}
    assert ours == expected
    assert any(w.startswith("b") for w in ours) and any(w.startswith("a") for w in ours)
    assert (np.diff(updated.vocab.counts) <= 0).all()  # still sorted by count
    for w, i in old_vocab.index.items():  # old vectors kept, by word
        np.testing.assert_array_equal(updated.syn0[updated.vocab.index[w]], model.syn0[i])
        if not config.hs:
            np.testing.assert_array_equal(updated.syn1[updated.vocab.index[w]], model.syn1[i])
    fresh = [updated.vocab.index[w] for w in ours if w not in old_vocab.index]
    assert np.abs(updated.syn0[fresh]).max() <= 0.5 / 8
    assert np.abs(updated.syn0[fresh]).max() > 0
    v = len(updated.vocab)
    assert updated.syn1.shape == ((v - 1, 8) if config.hs else (v, 8))
    assert (updated.syn1neg is None) == (loss != "hs+ns")
    if updated.syn1neg is not None:
        assert updated.syn1neg.shape == (v, 8) and not updated.syn1neg[fresh].any()
    assert updated.position == Position()
    updated.vocab.huffman()  # the tree of the grown vocabulary builds


def test_max_vocab_caps_new_words_only() -> None:
    config = TrainConfig(dim=4, min_count=1, max_vocab=3)
    model = SkipGram.initial(config, Vocabulary.build(Counter("aabbc"), min_count=1))
    updated = update_vocabulary(model, Counter("xxxxyyz"))
    assert sorted(updated.vocab.words) == ["a", "b", "c"]
    config = TrainConfig(dim=4, min_count=1, max_vocab=5)
    model = SkipGram.initial(config, Vocabulary.build(Counter("aabbc"), min_count=1))
    updated = update_vocabulary(model, Counter("xxxxyyz"))
    assert updated.vocab.words == ["x", "a", "b", "y", "c"]
    assert updated.vocab.counts.tolist() == [4, 2, 2, 2, 1]


def test_update_then_train_on_new_text(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    new = tmp_path / "new.txt"
    rng = np.random.default_rng(2)
    old.write_text("\n".join(" ".join(s) for s in _text(rng, [f"a{i}" for i in range(15)], 3000)))
    new.write_text("\n".join(" ".join(s) for s in _text(rng, ["a1", "a2", "b1", "b2"], 800)))
    config = TrainConfig(dim=8, min_count=3, epochs=2, threads=1)
    model = train([old], config)
    before = model.keyed_vectors()
    grown = update_from_text(model, [new])
    assert {"b1", "b2"} <= set(grown.vocab.words) and len(grown.vocab) == 17
    trained = train([new], model=grown)
    assert trained.position.epoch == 2 and len(trained.position.epoch_losses) == 2
    kv = trained.keyed_vectors()
    np.testing.assert_array_equal(kv["a9"], before["a9"])  # not in the new text: untouched
    assert not np.array_equal(kv["a1"], before["a1"])  # trained on the new text
