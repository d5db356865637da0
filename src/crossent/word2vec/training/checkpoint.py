"""Training checkpoints: one uncompressed ``.npz`` (zip) file, proved sound before use.

Members: ``syn0`` (float32 [V, D]), ``syn1`` (float32 [V, D], or [V−1, D] for ``hs`` and
``hs+ns``), ``syn1neg`` (float32 [V, D], only for ``hs+ns``), ``counts`` (int64 [V], ≥ 1,
non-increasing), ``words`` (str [V], distinct tokens) and ``meta`` (JSON: format, version,
config, training position, corpus fingerprint).

:func:`read_checkpoint` checks everything the trainer and the numba kernels will rely on —
each member's dtype and shape from its header before its data is read (so a crafted header
cannot make us allocate without bound), the arrays against each other and against the
configuration, finite weights, the position within the run — and raises
:class:`CheckpointError` naming the file and what is wrong. The kernels then trust only
what was proved here.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from crossent.word2vec.formats.files import atomic_write, open_input
from crossent.word2vec.formats.io import VectorFileError
from crossent.word2vec.training.config import ConfigError, TrainConfig

CHECKPOINT_FORMAT = "crossent-word2vec-checkpoint"
CHECKPOINT_VERSION = 4
"""4: hierarchical softmax's Huffman tree is gensim's count-keyed heap tree (ties in heap
order, :meth:`~.vocab.Vocabulary.huffman`); 3: equal counts merged in a shuffled order;
2: in vocabulary order. A version-2 or -3 checkpoint still loads unless it trained a tree
(``hs``, ``hs+ns``), whose inner-node vectors belong to that version's tree."""
_TREES = {  # the older versions' Huffman trees (version 4: gensim's heap tree)
    2: "equal counts merged in vocabulary order",
    3: "equal counts merged in a shuffled order",
}
_READABLE = (*_TREES, CHECKPOINT_VERSION)
_MEMBERS = {  # name: (dtype kind and size, or None for any str; ndim)
    "meta": (None, 0),
    "words": (None, 1),
    "counts": (np.dtype("<i8"), 1),
    "syn0": (np.dtype("<f4"), 2),
    "syn1": (np.dtype("<f4"), 2),
}
_OPTIONAL = {
    "syn1neg": (np.dtype("<f4"), 2),  # the output vectors of loss "hs+ns"
    "keep": (np.dtype("<f4"), 1),  # subsampling of a vocabulary update's run (update.py)
}
_POSITION_INTS = ("epoch", "job", "words_done", "partial_pairs")
MAX_TOTAL_COUNT = 2**53  # counts are summed in float64 (subsampling) and int64 (Huffman)


class CheckpointError(VectorFileError):
    """A checkpoint that cannot be read or does not hold a sound model; says where."""


@dataclass
class Checkpoint:
    """The validated content of a checkpoint."""

    config: TrainConfig
    words: list[str]
    counts: np.ndarray  # int64 [V]
    syn0: np.ndarray  # float32 [V, D]
    syn1: np.ndarray  # float32 [V, D] or [V-1, D] (hs, hs+ns)
    position: dict[str, Any]  # the fields of ``model.Position``, checked
    corpus: dict[str, Any] | None  # ``words``, ``sentences``, ``digest``; None: untrained
    syn1neg: np.ndarray | None = None  # float32 [V, D] (hs+ns)
    keep: np.ndarray | None = None  # float32 [V] in [0, 1]: subsampling after an update


def is_checkpoint(path: str | os.PathLike[str], what: str = "file") -> bool:
    """Whether ``path`` (a regular file) starts with a zip header, as checkpoints do."""
    with open_input(path, what) as f:
        return f.read(4) == b"PK\x03\x04"


def save_checkpoint(
    path: str | os.PathLike[str],
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    *,
    replace: bool = True,
) -> None:
    """Write the model arrays and a JSON description atomically (one .npz file)."""
    meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **meta}
    with atomic_write(path, replace=replace) as f:
        payload: dict[str, Any] = {"meta": np.asarray(json.dumps(meta)), **arrays}
        np.savez(f, **payload)


def read_checkpoint(path: str | os.PathLike[str], what: str = "checkpoint") -> Checkpoint:
    """Read and validate a checkpoint written by :func:`save_checkpoint`."""
    name = os.fspath(path)
    with open_input(path, what) as f:
        arrays = _read_members(f, name)
    meta = _meta(arrays.pop("meta"), name)
    try:
        config = TrainConfig.from_dict(meta["config"])
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{name}: config: {exc}") from None
    if meta["version"] in _TREES and config.hs:
        version = meta["version"]
        raise CheckpointError(
            f"{name}: a version-{version} checkpoint of loss={config.loss!r}: its inner-node "
            f"vectors belong to the Huffman tree of older crossent ({_TREES[version]}), not "
            f"to the tree this crossent builds; train it again (version-{version} "
            "checkpoints of loss='ns' or 'softmax' still load)"
        )
    words = [str(w) for w in arrays["words"]]
    _check_vocabulary(words, arrays["counts"], name)
    _check_weights(arrays["syn0"], arrays["syn1"], len(words), config, name)
    _check_syn1neg(arrays.get("syn1neg"), len(words), config, name)
    _check_keep(arrays.get("keep"), len(words), name)
    position = _checked_position(meta["position"], config, name)
    corpus = _checked_corpus(meta["corpus"], position, name)
    if position["words_done"] > config.epochs * (corpus["words"] if corpus else 0):
        raise CheckpointError(f"{name}: position: words_done is beyond the end of the run")
    return Checkpoint(
        config, words, arrays["counts"], arrays["syn0"], arrays["syn1"], position, corpus,
        arrays.get("syn1neg"), arrays.get("keep"),
    )  # fmt: skip


def _read_members(f: IO[bytes], name: str) -> dict[str, np.ndarray]:
    size = os.fstat(f.fileno()).st_size
    try:
        with zipfile.ZipFile(f) as z:
            infos = {i.filename: i for i in z.infolist()}
            members = {**_MEMBERS, **{m: t for m, t in _OPTIONAL.items() if f"{m}.npy" in infos}}
            expected = {f"{m}.npy" for m in members}
            if set(infos) != expected:
                missing = sorted(expected - set(infos))
                extra = sorted(set(infos) - expected)
                raise CheckpointError(
                    f"{name}: not a crossent checkpoint (missing {missing}, unexpected {extra})"
                )
            return {m: _read_array(z, infos[f"{m}.npy"], m, size, name) for m in members}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        hint = " (a word2vec vector file?)" if _looks_like_vectors(f) else ""
        raise CheckpointError(f"{name}: not a crossent checkpoint{hint}: {exc}") from None


def _looks_like_vectors(f: IO[bytes]) -> bool:
    f.seek(0)
    fields = f.read(64).split(b"\n", 1)[0].split()
    return len(fields) == 2 and all(x.isdigit() for x in fields)


def _read_array(
    z: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, size: int, name: str
) -> np.ndarray:
    """One member, its header checked before its data is read."""
    dtype_wanted, ndim = {**_MEMBERS, **_OPTIONAL}[member]
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
        raise CheckpointError(f"{name}: {member}: not stored as crossent writes it (compressed)")
    with z.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{name}: {member}: unsupported .npy version {version}")
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(fp)
        if any(d < 0 for d in shape):
            raise CheckpointError(f"{name}: {member}: negative size in shape {shape}")
        ok_dtype = dtype == dtype_wanted if dtype_wanted is not None else dtype.kind == "U"
        if not ok_dtype or len(shape) != ndim or fortran or dtype.byteorder == ">":
            want = dtype_wanted or "str"
            raise CheckpointError(
                f"{name}: {member}: expected a {ndim}-d {want} array, "
                f"got {len(shape)}-d {dtype}{' (Fortran order)' if fortran else ''}"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > info.file_size:
            raise CheckpointError(
                f"{name}: {member}: its header promises {nbytes} bytes, the member holds "
                f"{info.file_size} (truncated or crafted file)"
            )
        data = fp.read(nbytes)
        if len(data) != nbytes or fp.read(1):  # reading to the end checks the CRC
            raise CheckpointError(f"{name}: {member}: size does not match its header")
    array: np.ndarray = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return array


def _meta(array: np.ndarray, name: str) -> dict[str, Any]:
    try:
        meta = json.loads(str(array[()]))
    except ValueError:
        raise CheckpointError(f"{name}: not a crossent checkpoint (unreadable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{name}: not a crossent checkpoint (no crossent metadata)")
    if meta.get("version") not in _READABLE:
        raise CheckpointError(
            f"{name}: checkpoint version {meta.get('version')!r} is incompatible with this "
            f"crossent, which reads version {CHECKPOINT_VERSION}"
        )
    for key in ("config", "position", "corpus"):
        if not isinstance(meta.get(key), dict) and not (key == "corpus" and key in meta):
            raise CheckpointError(f"{name}: metadata: {key} is missing or not a mapping")
    return meta


def _check_vocabulary(words: list[str], counts: np.ndarray, name: str) -> None:
    v = len(words)
    if v == 0:
        raise CheckpointError(f"{name}: words: the vocabulary is empty")
    if counts.shape != (v,):
        raise CheckpointError(
            f"{name}: words and counts disagree: {v} words, counts of shape {counts.shape}"
        )
    if counts.min() < 1 or (v > 1 and (np.diff(counts) > 0).any()):
        raise CheckpointError(f"{name}: counts: expected positive, non-increasing counts")
    if int(counts.sum(dtype=np.float64)) > MAX_TOTAL_COUNT:
        raise CheckpointError(f"{name}: counts: total above {MAX_TOTAL_COUNT}")
    if len(set(words)) != v:
        raise CheckpointError(f"{name}: words: the vocabulary has repeated words")
    bad = next((w for w in words if w.split() != [w]), None)
    if bad is not None:
        raise CheckpointError(f"{name}: words: {bad[:40]!r} is empty or holds whitespace")


def _check_weights(
    syn0: np.ndarray, syn1: np.ndarray, v: int, config: TrainConfig, name: str
) -> None:
    rows = v - 1 if config.hs else v
    if config.hs and v < 2:
        raise CheckpointError(f"{name}: words: hierarchical softmax needs at least 2 words")
    for member, array, want in (
        ("syn0", syn0, (v, config.dim)),
        ("syn1", syn1, (rows, config.dim)),
    ):
        if array.shape != want:
            raise CheckpointError(
                f"{name}: {member}: expected shape {want} (vocabulary of {v}, dim "
                f"{config.dim}, loss {config.loss!r}), got {array.shape}"
            )
        if not math.isfinite(float(np.sum(array, dtype=np.float64))):
            raise CheckpointError(f"{name}: {member}: holds non-finite values")


def _check_syn1neg(syn1neg: np.ndarray | None, v: int, config: TrainConfig, name: str) -> None:
    """``syn1neg`` is there exactly for loss ``hs+ns``, of shape [V, D], finite."""
    if (syn1neg is not None) != (config.loss == "hs+ns"):
        state = "has" if syn1neg is not None else "lacks"
        raise CheckpointError(f"{name}: syn1neg: the checkpoint {state} it, loss {config.loss!r}")
    if syn1neg is None:
        return
    if syn1neg.shape != (v, config.dim):
        raise CheckpointError(
            f"{name}: syn1neg: expected shape {(v, config.dim)}, got {syn1neg.shape}"
        )
    if not math.isfinite(float(np.sum(syn1neg, dtype=np.float64))):
        raise CheckpointError(f"{name}: syn1neg: holds non-finite values")


def _check_keep(keep: np.ndarray | None, v: int, name: str) -> None:
    """``keep`` (optional): one probability in [0, 1] per word."""
    if keep is None:
        return
    if keep.shape != (v,):
        raise CheckpointError(f"{name}: keep: expected shape {(v,)}, got {keep.shape}")
    if not ((keep >= 0) & (keep <= 1)).all():  # NaN fails both comparisons
        raise CheckpointError(f"{name}: keep: expected probabilities in [0, 1]")


def _checked_position(position: dict[str, Any], config: TrainConfig, name: str) -> dict[str, Any]:
    keys = {*_POSITION_INTS, "epoch_losses", "partial_loss"}
    if set(position) != keys:
        raise CheckpointError(f"{name}: position: expected the fields {sorted(keys)}")
    for key in _POSITION_INTS:
        value = position[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{name}: position: {key}: expected an integer >= 0")
    epoch, losses, partial = position["epoch"], position["epoch_losses"], position["partial_loss"]
    if epoch > config.epochs:
        raise CheckpointError(f"{name}: position: epoch {epoch} beyond epochs={config.epochs}")
    if not isinstance(losses, list) or len(losses) != epoch or not all(map(_nonneg, losses)):
        raise CheckpointError(
            f"{name}: position: epoch_losses: expected {epoch} finite losses >= 0"
        )
    if not _nonneg(partial):
        raise CheckpointError(f"{name}: position: partial_loss: expected a finite loss >= 0")
    if epoch == config.epochs and (position["job"] or position["partial_pairs"]):
        raise CheckpointError(f"{name}: position: a finished run with a partial epoch")
    return {**position, "epoch_losses": [float(x) for x in losses]}


def _count(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _nonneg(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x < math.inf


def _checked_corpus(corpus: object, position: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The fingerprint of the corpus trained on (None only before any training)."""
    if corpus is None:
        if any(position[k] for k in _POSITION_INTS):
            raise CheckpointError(f"{name}: corpus: a trained model without its fingerprint")
        return None
    ok = (
        isinstance(corpus, dict)
        and set(corpus) - {"ranks"} == {"words", "sentences", "digest"}
        and _count(corpus.get("ranks", 1))
        and corpus.get("ranks", 1) >= 1  # trained across this many ranks (torchrun)
        and all(_count(corpus[k]) for k in ("words", "sentences"))
        and 1 <= corpus["sentences"] <= corpus["words"]
        and isinstance(corpus["digest"], str)
        and len(corpus["digest"]) == 32
    )
    if not ok:
        raise CheckpointError(f"{name}: corpus: expected words, sentences and a digest")
    checked: dict[str, Any] = corpus  # type: ignore[assignment]
    return checked
