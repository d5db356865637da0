"""word2vec, skip-gram and CBOW: exact full softmax (the seed's loss), negative sampling and
hierarchical softmax (or both); word2vec.c/gensim vector formats; evaluation; gensim 4's
``Word2Vec``, ``KeyedVectors``, ``LineSentence``, ``PathLineSentences`` and
``CallbackAny2Vec`` under their names (:mod:`.compat`): gensim code runs with its import
changed to ``from crossent.word2vec import Word2Vec``.

>>> from crossent.word2vec import TrainConfig
>>> TrainConfig().window, TrainConfig().negative, TrainConfig().alpha
(5, 5, 0.025)
"""

from crossent.word2vec.compat import LineSentence, PathLineSentences, Word2Vec
from crossent.word2vec.formats.corpus import CorpusError
from crossent.word2vec.formats.evalsets import EvaluationFileError
from crossent.word2vec.formats.files import InputFileError
from crossent.word2vec.formats.io import VectorFileError, load_word2vec, save_word2vec
from crossent.word2vec.training.callbacks import CallbackAny2Vec
from crossent.word2vec.training.checkpoint import CheckpointError
from crossent.word2vec.training.config import ConfigError, TrainConfig
from crossent.word2vec.training.model import EpochStats, SkipGram
from crossent.word2vec.training.train import Progress, TrainingDiverged, TrainingInterrupted, train
from crossent.word2vec.vectors.intrinsic import (
    AnalogyReport,
    Correlation,
    PairsReport,
    analogy_report,
    word_pairs_report,
)
from crossent.word2vec.vectors.keyedvectors import KeyedVectors, UnknownWordError

__all__ = [
    "AnalogyReport",
    "CallbackAny2Vec",
    "CheckpointError",
    "ConfigError",
    "CorpusError",
    "Correlation",
    "EpochStats",
    "EvaluationFileError",
    "InputFileError",
    "KeyedVectors",
    "LineSentence",
    "PairsReport",
    "PathLineSentences",
    "Progress",
    "SkipGram",
    "TrainConfig",
    "TrainingDiverged",
    "TrainingInterrupted",
    "UnknownWordError",
    "VectorFileError",
    "Word2Vec",
    "analogy_report",
    "load_word2vec",
    "save_word2vec",
    "train",
    "word_pairs_report",
]
