"""Growing a trained model's vocabulary with new text (gensim's ``build_vocab(update=True)``).

Semantics (``crossent train NEW.txt --resume CKPT --update-vocab``), as gensim 4:

- every word already in the model keeps its vectors; its count grows by its count in the new
  text (the negative-sampling table and the Huffman tree see the summed counts);
- subsampling of the run on the new text follows the *new text's* counts, as gensim's: the
  threshold is ``sample`` times the new text's occurrences of its words at ``min_count``, and
  each such word is kept with word2vec.c's probability for its count in the new text; the
  other words keep the probability they had (``SkipGram.keep``, saved in checkpoints). With
  the summed counts instead, a new word — rare in the sum — escaped subsampling while the
  old words around it did not, and many more updates pulled the new words towards the old
  words in their slot rather than towards each other (``tests/word2vec/test_update_quality.py``).
  A short new text is subsampled hard (every word is frequent in it): an epoch left without
  any pair is a warning (gensim trains on silently), and ``sample=0`` trains on every word;
- a word of the new text that the model lacks is added when it occurs at least ``min_count``
  times *in the new text*; its input vector starts as word2vec.c starts every row (uniform in
  ``[-0.5/D, 0.5/D)``), its output row at zero;
- the Huffman tree is rebuilt over the summed counts; as gensim, the inner-node vectors are
  kept row by row and new rows start at zero (the nodes they belong to may change);
- training then restarts its schedule on the new text: epoch 0, the learning rate decaying
  from ``alpha`` again, the same configuration otherwise.

One difference from gensim, in layout only: the vocabulary stays sorted by decreasing count
(gensim appends new words at the end), so ``restrict_vocab`` and ``max_vocab`` keep meaning
"the most frequent"; rows move with their words. With ``max_vocab``, the least frequent new
words beyond it are not added (old words are never dropped).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from crossent.word2vec.formats.corpus import Corpus, CorpusLike, as_corpus, count_words
from crossent.word2vec.training.model import Position, SkipGram
from crossent.word2vec.training.vocab import Vocabulary


def update_vocabulary(model: SkipGram, new_counts: Counter[str]) -> SkipGram:
    """A new model: ``model``'s vectors, its vocabulary grown by ``new_counts`` (word counts
    of the new text), weights for the new words, and a fresh training position."""
    cfg, old = model.config, model.vocab
    counts = old.counts.astype(np.int64) + np.asarray(
        [new_counts.get(w, 0) for w in old.words], dtype=np.int64
    )
    fresh = [(w, c) for w, c in new_counts.items() if c >= cfg.min_count and w not in old.index]
    fresh.sort(key=lambda wc: -wc[1])  # stable: ties keep first-seen order
    if cfg.max_vocab is not None:
        fresh = fresh[: max(cfg.max_vocab - len(old), 0)]
    words = old.words + [w for w, _ in fresh]
    all_counts = np.concatenate([counts, np.asarray([c for _, c in fresh], dtype=np.int64)])
    order = np.argsort(-all_counts, kind="stable")  # old words first among equal counts
    vocab = Vocabulary([words[i] for i in order], all_counts[order])
    rng = np.random.default_rng([cfg.seed, len(words)])
    d, added = cfg.dim, len(fresh)
    new_rows = ((rng.random((added, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
    syn0 = np.concatenate([model.syn0, new_rows])[order]
    zeros = np.zeros((added, d), dtype=np.float32)
    syn1 = np.concatenate([model.syn1, zeros])  # hs: inner nodes, one more per added word
    if not cfg.hs:  # output vectors, one per word: they move with their words
        syn1 = syn1[order]
    syn1neg = None
    if model.syn1neg is not None:
        syn1neg = np.concatenate([model.syn1neg, zeros])[order]
    grown = SkipGram(cfg, vocab, syn0, syn1, Position(), syn1neg=syn1neg)
    before = np.concatenate([model.keep_probabilities(), np.ones(added, np.float32)])[order]
    grown.keep = update_keep(vocab, before, new_counts, cfg.sample, cfg.min_count)
    grown.warn_no_pairs = True  # a short new text can lose every pair (gensim: silently)
    return grown


def update_keep(
    vocab: Vocabulary, before: np.ndarray, new_counts: Counter[str], sample: float, min_count: int
) -> np.ndarray | None:
    """Subsampling for the run on the new text (gensim's rule): for each word of ``vocab``
    with ``c ≥ min_count`` occurrences in the new text, :math:`p = \\min(1, (\\sqrt{c/t} + 1)
    \\, t/c)` with :math:`t` = ``sample`` × the new text's occurrences of those words; the
    other words keep ``before`` (float32 [V], their previous probabilities). None (no
    subsampling) when ``sample`` is 0."""
    if sample <= 0:
        return None
    c = np.asarray([new_counts.get(w, 0) for w in vocab.words], dtype=np.float64)
    retained = c >= min_count
    t = sample * float(c[retained].sum())
    keep = before.astype(np.float64)
    if t > 0:
        r = c[retained]
        keep[retained] = np.minimum((np.sqrt(r / t) + 1.0) * t / r, 1.0)
    return keep.astype(np.float32)


def update_from_text(model: SkipGram, corpus: CorpusLike | Corpus) -> SkipGram:
    """:func:`update_vocabulary` with the word counts of ``corpus`` (paths or token lists,
    as :func:`~crossent.word2vec.train`); train the result on it with
    ``train(corpus, model=...)``."""
    source = as_corpus(corpus)
    source.check()
    counts, _ = count_words(source, lowercase=model.config.lowercase)
    return update_vocabulary(model, counts)
