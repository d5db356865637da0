"""Vector files (word2vec.c / gensim binary and text formats) and training checkpoints.

Binary format: header ``"V D\\n"``, then per word ``word + " "`` followed by ``D``
little-endian float32 and ``"\\n"``. Text format: the same header, then ``word f1 … fD``
per line. Every write goes to a temporary file in the target's directory and is renamed
over the target only when complete, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

CHECKPOINT_FORMAT = "crossent-word2vec-checkpoint"
CHECKPOINT_VERSION = 1


class VectorFileError(ValueError):
    """A vector file or checkpoint that cannot be parsed; the message says where."""


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, _mode_for(target))
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(target: Path) -> int:
    """The existing file's permissions, else the default for new files (0666 & ~umask)."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail early (before any training) when ``path`` cannot be written."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise PermissionError(f"out: {target} is a directory, expected a file path")
    if not parent.is_dir():
        raise PermissionError(f"out: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise PermissionError(f"out: cannot write to {target} (permission denied)")


def save_word2vec(
    path: str | os.PathLike[str], words: list[str], vectors: np.ndarray, *, binary: bool = True
) -> None:
    """Write ``vectors [V, D]`` for ``words`` in word2vec binary (default) or text format."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"vectors: expected shape [{len(words)}, D], got {vectors.shape}")
    with atomic_write(path) as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        for word, vec in zip(words, vectors, strict=True):
            if binary:
                f.write(word.encode() + b" " + vec.tobytes() + b"\n")
            else:
                f.write((word + " " + " ".join(f"{x:.6g}" for x in vec) + "\n").encode())


def load_word2vec(
    path: str | os.PathLike[str], *, binary: bool | None = None
) -> tuple[list[str], np.ndarray]:
    """Read a word2vec binary or text file (``binary=None``: detected from the content).

    The file is streamed (binary: memory-mapped; text: line by line): peak memory is the
    vectors themselves, not a copy of the file."""
    with open(path, "rb") as f:
        header = f.readline()
        try:
            count, dim = (int(x) for x in header.split())
        except ValueError:
            raise VectorFileError(
                f"{path}: line 1: expected a header 'V D', got {header.rstrip()[:60]!r}"
            ) from None
        if count < 0 or dim <= 0:
            raise VectorFileError(
                f"{path}: line 1: invalid header: {count} words of dimension {dim}"
            )
        start = f.tell()
        if binary is None:
            binary = _looks_binary(f.read(4096), dim)
            f.seek(start)
        if not binary:
            return _read_text(f, count, dim, str(path))
        if count == 0:
            return [], np.empty((0, dim), dtype=np.float32)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read_binary(data, start, count, dim, str(path))


def _looks_binary(head: bytes, dim: int) -> bool:
    line = head.split(b"\n", 1)[0]
    try:
        fields = line.decode("utf-8").split()
        [float(x) for x in fields[1:]]
    except (UnicodeDecodeError, ValueError):
        return True
    return len(fields) != dim + 1


def _read_binary(
    data: bytes | mmap.mmap, pos: int, count: int, dim: int, name: str
) -> tuple[list[str], np.ndarray]:
    words, vectors = [], np.empty((count, dim), dtype=np.float32)
    width, size = 4 * dim, len(data)
    for i in range(count):
        while pos < size and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.find(b" ", pos, pos + 10_001)
        if space < 0:
            raise VectorFileError(
                f"{name}: byte {pos}: word {i + 1} of {count}: no word "
                "followed by a space (truncated or corrupted file)"
            )
        if space + 1 + width > size:
            raise VectorFileError(
                f"{name}: byte {space + 1}: word {i + 1} of {count}: "
                f"expected {width} bytes of vector, file ends "
                f"{size - space - 1} bytes later (truncated file)"
            )
        words.append(data[pos:space].decode("utf-8", errors="replace"))
        vectors[i] = np.frombuffer(data[space + 1 : space + 1 + width], dtype="<f4")
        pos = space + 1 + width
    return words, vectors


def _read_text(f: IO[bytes], count: int, dim: int, name: str) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    vectors = np.empty((count, dim), dtype=np.float32)
    line_no = 1
    for raw in f:
        if len(words) == count:
            break
        line_no += 1
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            continue
        fields = line.rstrip().split(" ")
        try:
            if len(fields) != dim + 1:
                raise ValueError
            vectors[len(words)] = [float(x) for x in fields[1:]]
        except ValueError:
            raise VectorFileError(
                f"{name}: line {line_no}: expected a word and {dim} numbers, got {line[:80]!r}"
            ) from None
        words.append(fields[0])
    if len(words) < count:
        raise VectorFileError(
            f"{name}: line {line_no + 1}: expected {count} vectors, "
            f"the file ends after {len(words)} (truncated file)"
        )
    return words, vectors


def is_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a checkpoint (a zip archive, as ``.npz`` files are) rather
    than a word2vec vector file: the first bytes are a zip header."""
    with open(path, "rb") as f:
        return f.read(2) == b"PK"


def save_checkpoint(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """Write the model arrays and a JSON description atomically (one .npz file)."""
    meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **meta}
    with atomic_write(path) as f:
        payload: dict[str, Any] = {"meta": np.asarray(json.dumps(meta)), **arrays}
        np.savez(f, **payload)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`, checking its format and version."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        raise VectorFileError(f"{path}: not a crossent checkpoint ({exc})") from exc
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise VectorFileError(f"{path}: not a crossent checkpoint (no metadata)") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise VectorFileError(f"{path}: not a crossent checkpoint (format {meta.get('format')!r})")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise VectorFileError(
            f"{path}: checkpoint version {meta.get('version')} is incompatible with this "
            f"crossent, which reads version {CHECKPOINT_VERSION}"
        )
    return arrays, meta
