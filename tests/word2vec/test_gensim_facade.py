"""crossent.word2vec.Word2Vec runs gensim users' programs with only the import changed;
its settings, errors and files against gensim 4's."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossent.word2vec import (
    CheckpointError,
    ConfigError,
    LineSentence,
    PathLineSentences,
    TrainConfig,
    Word2Vec,
)
from crossent.word2vec.formats.data import data_file
from crossent.word2vec.training.config import default_threads

from .gensim_programs import CROSSENT, gensim_namespace, one_call, online_update, tutorial

FAST = {"vector_size": 20, "workers": 1, "epochs": 2, "min_count": 3, "seed": 1}


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = data_file("wikitext2-valid.txt").read_text(encoding="utf-8").splitlines()[:600]
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sg", [0, 1])
def test_tutorial_runs_as_with_gensim(text: Path, tmp_path: Path, sg: int) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = tutorial(CROSSENT, text, tmp_path / "a", sg=sg, **FAST)
    theirs = tutorial(gensim_namespace(), text, tmp_path / "b", sg=sg, **FAST)
    m, g = ours["model"], theirs["model"]
    assert m.corpus_count == g.corpus_count and m.corpus_total_words == g.corpus_total_words
    assert set(m.wv.index_to_key) == set(g.wv.index_to_key)  # ties may be in another order
    assert len(m.wv) == len(g.wv) and m.wv.vectors.shape == g.wv.vectors.shape
    assert len(ours["losses"]) == len(theirs["losses"]) == 2
    assert all(x > 0 for x in ours["losses"])
    np.testing.assert_array_equal(ours["loaded"].wv.vectors, m.wv.vectors)
    assert ours["vector"].shape == theirs["vector"].shape == (20,)
    for key in ("similar", "predicted"):
        assert len(ours[key]) == len(theirs[key]) == 5
        assert all(isinstance(w, str) and isinstance(s, float) for w, s in ours[key])
    probs = [p for _, p in ours["predicted"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1
    assert ours["loaded"].sg == sg and ours["loaded"].vector_size == 20


def test_toy_corpus_trains_with_a_warning() -> None:
    sentences = [["hello", "world"], ["hello", "there"]]
    with pytest.warns(UserWarning, match="sample: subsampling with sample=0.001 left no"):
        model = one_call(CROSSENT, sentences, min_count=1)
    theirs = one_call(gensim_namespace(), sentences, min_count=1)
    assert sorted(model.wv.index_to_key) == sorted(theirs.wv.index_to_key)
    assert model.wv["hello"].shape == (100,) and model.corpus_count == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained = one_call(CROSSENT, sentences * 20, min_count=1, sample=0, sg=1, seed=3)
    assert trained.get_latest_training_loss() > 0


@pytest.mark.parametrize("bad", [["hello world", "hello there"], "hello world", iter([["a", "b"]])])
def test_plain_strings_and_iterators_are_clear_errors(bad: Any) -> None:
    with pytest.raises(TypeError, match="sentences: expected (token lists|a re-iterable)"):
        Word2Vec(bad, min_count=1)


def test_paths_as_path_and_corpus_file(text: Path, tmp_path: Path) -> None:
    a = Word2Vec([text], **FAST)  # our extension: paths as Path
    b = Word2Vec(corpus_file=str(text), **FAST)
    c = Word2Vec(LineSentence(text), **FAST)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    d = Word2Vec(PathLineSentences(tmp_path / "d"), **FAST)
    for m in (b, c, d):  # one thread, one seed: the same run
        np.testing.assert_array_equal(m.wv.vectors, a.wv.vectors)
    limited = list(LineSentence(text, limit=3, max_sentence_length=4))
    assert all(len(s) <= 4 for s in limited) and limited[0] == text.read_text().split()[:4]


def test_settings_map_onto_train_config() -> None:
    model = Word2Vec(
        vector_size=7, window=3, min_count=0, sg=1, hs=1, negative=0, min_alpha=0.0025,
        workers=None, batch_words=500, max_final_vocab=9, cbow_mean=0,
    )  # fmt: skip
    cfg = model.config()
    assert (cfg.dim, cfg.window, cfg.min_count, cfg.model, cfg.loss) == (7, 3, 1, "skipgram", "hs")
    assert cfg.min_alpha_ratio == pytest.approx(0.1) and cfg.threads == default_threads()
    assert (cfg.job_words, cfg.max_vocab, cfg.cbow_mean) == (500, 9, False)
    assert Word2Vec(hs=1).config().loss == "hs+ns" and Word2Vec().config().model == "cbow"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"vector_size": 0}, "vector_size: expected a positive integer"),
        ({"workers": 0}, "workers: expected a positive integer"),
        ({"hs": 0, "negative": 0}, "negative: hs=0 and negative=0 leave no objective"),
        ({"sg": 2}, "sg: expected 0 .CBOW. or 1"),
        ({"sample": 5}, "sample: .*count shorthand"),
        ({"min_alpha": 0.1}, "min_alpha: expected a rate in"),
        ({"sorted_vocab": 0}, "sorted_vocab: crossent always sorts"),
        ({"null_word": 1}, "null_word"),
        ({"hashfxn": id}, "hashfxn"),
        ({"max_final_vocab": 0}, "max_final_vocab: expected a positive integer"),
    ],
)
def test_values_gensim_accepts_and_we_do_not_are_clear_errors(
    kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Word2Vec(**kw)


def test_train_config_names_its_gensim_aliases() -> None:
    with pytest.raises(TypeError, match=r"vector_size is dim.*Word2Vec\(vector_size=...\)"):
        TrainConfig(vector_size=50)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="expected one of dim, window"):
        TrainConfig(dimension=50)  # type: ignore[call-arg]
    assert TrainConfig().threads == default_threads()  # as the CLI: all cores


def test_max_vocab_size_is_ignored_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="max_vocab_size=100 ignored"):
        Word2Vec(max_vocab_size=100)


def test_train_before_build_vocab_and_unknown_arguments() -> None:
    with pytest.raises(RuntimeError, match="build vocabulary before training"):
        Word2Vec().train([["a", "b"]], total_examples=1, epochs=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Word2Vec().build_vocab([["a", "b"]], bogus=1)


def test_vector_size_cannot_change_after_build_vocab() -> None:
    model = Word2Vec(vector_size=8, min_count=1, workers=1)
    model.build_vocab([["a", "b", "c"]] * 5)
    model.vector_size = 9
    with pytest.raises(ConfigError, match="vector_size: the vocabulary was built with 8"):
        model.train([["a", "b", "c"]] * 5, total_examples=5, epochs=1)


def test_callbacks_see_the_facade_and_can_stop(text: Path) -> None:
    seen: list[tuple[str, int]] = []

    class Stop(CROSSENT.CallbackAny2Vec):  # type: ignore[misc]
        def on_epoch_end(self, model: Any) -> None:
            assert isinstance(model, Word2Vec) and len(model.wv) > 10
            seen.append(("end", len(seen)))
            model.stop_training = True

    model = Word2Vec(LineSentence(text), callbacks=[Stop()], **{**FAST, "epochs": 4})
    assert seen == [("end", 0)] and model.model.position.epoch == 1


def test_build_vocab_from_freq_and_trim_rule() -> None:
    model = Word2Vec(vector_size=4, min_count=2, workers=1)
    model.build_vocab_from_freq({"a": 5, "b": 3, "c": 1})
    assert model.wv.index_to_key == ["a", "b"]

    def keep_c(word: str, count: int, min_count: int) -> int:
        return 2 if word == "c" else 1 if word == "b" else 0

    model.build_vocab([["a"] * 5 + ["b"] * 3 + ["c"]], trim_rule=keep_c)
    assert model.wv.index_to_key == ["a", "c"]
    with pytest.raises(TypeError, match="word_freq: expected str words"):
        model.build_vocab_from_freq({"a": -1})


def test_online_update_as_gensim() -> None:
    rng = np.random.default_rng(0)
    old = [list(rng.choice(list("abcdefgh"), 6)) for _ in range(300)]
    new = [list(rng.choice(["a", "b", "x", "y"], 6)) for _ in range(100)]
    kw = {"min_count": 5, "vector_size": 8, "workers": 1, "sg": 1}
    ours, theirs = (
        online_update(CROSSENT, old, new, **kw),
        online_update(gensim_namespace(), old, new, **kw),
    )
    assert sorted(ours.wv.index_to_key) == sorted(theirs.wv.index_to_key)
    assert ours.corpus_count == theirs.corpus_count == 100
    with pytest.raises(RuntimeError, match="online vocabulary-update"):
        Word2Vec().build_vocab(new, update=True)


def test_predict_output_word_is_gensims_softmax() -> None:
    model = one_call(
        CROSSENT, [list("abcdef")] * 50, min_count=1, vector_size=6, sg=1, workers=1, sample=0
    )
    got = model.predict_output_word(["a", "b", "zzz"], topn=3)
    rows = [model.wv.key_to_index["a"], model.wv.key_to_index["b"]]
    h = model.wv.vectors[rows].astype(np.float64).mean(axis=0)
    logits = model.syn1neg.astype(np.float64) @ h
    p = np.exp(logits) / np.exp(logits).sum()
    want = [(model.wv.index_to_key[i], p[i]) for i in np.argsort(-p)[:3]]
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([x for _, x in got], [x for _, x in want], rtol=1e-12)
    with pytest.warns(UserWarning, match="out-of-vocabulary"):
        assert model.predict_output_word(["zzz"]) is None
    hs_only = one_call(
        CROSSENT, [list("abcdef")] * 5, min_count=1, hs=1, negative=0, workers=1, sample=0
    )
    with pytest.raises(RuntimeError, match="hierarchical softmax only"):
        hs_only.predict_output_word(["a"])


def test_a_gensim_pickle_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "gensim.model"
    path.write_bytes(pickle.dumps({"not": "a model"}, protocol=4))
    with pytest.raises(CheckpointError) as info:
        Word2Vec.load(path)
    message = str(info.value)
    assert "\n" not in message and "save_word2vec_format" in message and "pickle" in message
    theirs = gensim_namespace().Word2Vec([["a", "b"]] * 5, min_count=1, vector_size=4)
    theirs.save(str(tmp_path / "real.model"))
    with pytest.raises(CheckpointError, match="is a pickle .gensim's save."):
        Word2Vec.load(tmp_path / "real.model")


def test_gensims_rules_for_train_and_load(tmp_path: Path) -> None:
    model = Word2Vec(vector_size=4, min_count=1, workers=1)
    model.build_vocab([["a", "b"]] * 5)
    with pytest.raises(ValueError, match="epochs: give it explicitly"):
        model.train([["a", "b"]] * 5, total_examples=5)
    with pytest.raises(ValueError, match="total_examples, total_words: give one"):
        model.train([["a", "b"]] * 5, epochs=1)
    model.save(tmp_path / "m.npz")
    with pytest.raises(AttributeError, match="load: call it on the class"):
        model.load(tmp_path / "m.npz")
    assert Word2Vec.load(tmp_path / "m.npz").wv.index_to_key == model.wv.index_to_key
    with pytest.raises(TypeError, match="sentences: expected token lists"):
        Word2Vec((None, "x.bz2"))  # type: ignore[arg-type]


def test_line_sentence_reads_bz2_as_gensim(tmp_path: Path) -> None:
    import bz2

    path = tmp_path / "t.txt.bz2"
    path.write_bytes(bz2.compress(b"a b c\n\nd e\n"))
    theirs = pytest.importorskip("gensim.models.word2vec").LineSentence(str(path))
    assert list(LineSentence(path)) == list(theirs) == [["a", "b", "c"], ["d", "e"]]
    assert list(PathLineSentences(tmp_path)) == [["a", "b", "c"], ["d", "e"]]


def test_gensim_shapes_and_keys(tmp_path: Path) -> None:
    sentences = [list("abcdef"), list("abcxyz")] * 10
    model = Word2Vec(sentences, vector_size=4, min_count=1, hs=1, negative=5, workers=1)
    assert model.syn1.shape == (len(model.wv), 4) and not model.syn1[-1].any()  # gensim's
    assert model.scan_vocab(sentences) == (120, 20) and model.raw_vocab["a"] == 20
    by_word = model.predict_output_word(["a", "b"], topn=3)
    assert model.predict_output_word([model.wv.get_index("a"), "b"], topn=3) == by_word
    model.wv.save_word2vec_format(tmp_path / "v.txt")
    with pytest.raises(AttributeError, match="holds word vectors, not a model"):
        Word2Vec.load(tmp_path / "v.txt")


def test_reset_from_takes_the_other_vocabulary() -> None:
    model = Word2Vec([list("abc")] * 5, min_count=1, vector_size=4, workers=1, sample=0)
    other = Word2Vec([list("xyzw")] * 6, min_count=1, vector_size=4, workers=1, sample=0)
    model.reset_from(other)
    assert model.wv.key_to_index == other.wv.key_to_index and model.corpus_count == 6
    assert not np.array_equal(model.wv.vectors, other.wv.vectors)  # fresh weights
