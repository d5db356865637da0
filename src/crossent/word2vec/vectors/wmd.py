r"""Word Mover's Distance between two documents (Kusner et al. 2015), as gensim's
``KeyedVectors.wmdistance``, solved by POT (``pip install pot``, or ``crossent[wmd]``).

Each document is its normalised bag of words :math:`d_i = n_i / N` over the known words;
the distance is the least cost of moving :math:`d` onto :math:`d'` when moving mass from
word :math:`i` to word :math:`j` costs :math:`\lVert x_i - x_j\rVert_2` (unit vectors if
``norm``): the earth mover's distance :math:`\min_{T \ge 0,\, T1 = d,\, T^\top 1 = d'}
\sum_{ij} T_{ij} c_{ij}`, an exact linear program (``ot.emd2``).

Unknown words are dropped; a document left empty gives ``inf`` (as gensim); one word in
both gives 0. Deliberate difference: when every cost is 0 (different words with equal
vectors) the distance is 0, where gensim returns ``inf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from crossent.word2vec.vectors.vectortable import VectorTable

_MISSING_POT = (
    "wmdistance needs POT, the Python Optimal Transport library: pip install pot "
    "(or pip install 'crossent[wmd]')"
)


def wmdistance(
    kv: VectorTable, document1: Sequence[str], document2: Sequence[str], norm: bool = True
) -> float:
    """The Word Mover's Distance between two token lists (see the module docstring)."""
    try:
        import ot
        from scipy.spatial.distance import cdist
    except ImportError as exc:
        raise ImportError(_MISSING_POT) from exc
    docs = []
    for name, document in (("document1", document1), ("document2", document2)):
        if isinstance(document, (str, bytes)):
            raise TypeError(f"{name}: expected a list of tokens, got a {type(document).__name__}")
        docs.append([t for t in document if t in kv])
    known1, known2 = docs
    if not known1 or not known2:
        return float("inf")
    words = list(dict.fromkeys(known1 + known2))  # the union, in order of first use
    if len(words) == 1:
        return 0.0
    position = {w: i for i, w in enumerate(words)}
    vectors = np.stack([kv.get_vector(w, norm=norm) for w in words]).astype(np.float64)
    first, second = list(dict.fromkeys(known1)), list(dict.fromkeys(known2))
    rows, cols = [position[w] for w in first], [position[w] for w in second]
    cost = np.zeros((len(words), len(words)))
    cost[np.ix_(rows, cols)] = cdist(vectors[rows], vectors[cols])
    if not cost.any():
        return 0.0
    return float(ot.emd2(_bag(known1, position), _bag(known2, position), cost))


def _bag(document: list[str], position: dict[str, int]) -> np.ndarray:
    """The normalised bag of words ``[n]`` of ``document`` over the union's positions."""
    counts = np.bincount([position[w] for w in document], minlength=len(position))
    bag: np.ndarray = counts / len(document)
    return bag
