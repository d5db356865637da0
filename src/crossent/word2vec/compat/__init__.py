"""gensim 4's ``Word2Vec`` interface on crossent's trainer (:mod:`.model`), its settings
mapped onto :class:`~crossent.word2vec.TrainConfig` (:mod:`.settings`), gensim's corpus
readers (:mod:`.corpora`). Sits on top of :mod:`..training`."""

from crossent.word2vec.compat.corpora import LineSentence, PathLineSentences
from crossent.word2vec.compat.model import Word2Vec
from crossent.word2vec.compat.state import RULE_DEFAULT, RULE_DISCARD, RULE_KEEP

__all__ = [
    "RULE_DEFAULT",
    "RULE_DISCARD",
    "RULE_KEEP",
    "LineSentence",
    "PathLineSentences",
    "Word2Vec",
]
