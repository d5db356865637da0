"""File safety for everything word2vec reads and writes.

- Inputs are opened with :func:`open_input`: only regular files (a FIFO, a terminal,
  ``/dev/zero`` or a directory is refused before a byte is read, so nothing blocks or reads
  without bound); a missing or unreadable file is a clear error naming the option.
- :func:`check_distinct` proves, before any work, that no output is an input or another
  output, comparing real files (device and inode, so symlinks and hard links count).
- :func:`atomic_write` writes to an unnamed temporary file in the target's directory
  (Linux ``O_TMPFILE``; elsewhere a hidden named one) and puts it in place only when
  complete: an interruption, even ``SIGKILL``, leaves the previous version intact and, on
  Linux, no temporary file. ``replace=False`` never replaces an existing file (a file the
  run did not create and the user did not name is never overwritten).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

PathLike = str | os.PathLike[str]


class InputFileError(ValueError):
    """An input that is missing, unreadable or not a regular file."""


def open_input(
    path: PathLike, what: str, kind: str = "regular file", error: type[ValueError] | None = None
) -> IO[bytes]:
    """``path`` opened for binary reading, proved to be a regular file.

    ``what`` names the input in errors (``"corpus"``, ``"--resume"``...), ``kind`` what it
    should be, ``error`` the exception class (default :class:`InputFileError`). The file
    is opened non-blocking, so a FIFO without a writer cannot block, then checked with
    ``fstat``."""
    error = error or InputFileError
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{what}: file not found: {name}") from None
    except IsADirectoryError:
        raise error(f"{what}: expected a {kind}, got a directory: {name}") from None
    except PermissionError:
        raise error(f"{what}: file is not readable (permissions): {name}") from None
    except OSError as exc:
        raise error(f"{what}: cannot open {name}: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{what}: expected a {kind}, got {_kind(mode)}: {name}")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def check_input(path: PathLike, what: str, kind: str = "regular file") -> Path:
    """``path`` if it is a readable regular file (opened and closed once), else the error."""
    with open_input(path, what, kind):
        return Path(path)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _identity(path: PathLike) -> tuple[str, ...]:
    """What makes two paths the same file: (device, inode) of an existing file (symlinks
    followed, so links count), else the resolved path of the file to be created."""
    try:
        st = os.stat(path)
    except OSError:
        return ("new", os.path.realpath(path))
    return ("file", str(st.st_dev), str(st.st_ino))


def check_distinct(
    inputs: Sequence[tuple[str, PathLike]], outputs: Sequence[tuple[str, PathLike]]
) -> None:
    """Fail (naming both options) when an output is the same file as an input or as another
    output. Each entry is ``(option, path)``; compare before any work."""
    seen: dict[tuple[str, ...], str] = {}
    for option, path in inputs:
        seen.setdefault(_identity(path), f"{option} {os.fspath(path)} (an input)")
    for option, path in outputs:
        key = _identity(path)
        if key in seen:
            raise ValueError(
                f"{option}: {os.fspath(path)} is the same file as {seen[key]}; choose another path"
            )
        seen[key] = f"{option} {os.fspath(path)} (an output)"


def check_writable(path: PathLike, what: str = "out") -> None:
    """Fail early (before any training) when ``path`` cannot be written. A symbolic
    link is checked as its target (written through, as ``cp`` does); ``-`` is refused."""
    if os.fspath(path) == "-":
        raise PermissionError(f"{what}: '-' (standard output) is not supported; give a file name")
    target = _through_link(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise PermissionError(f"{what}: {target} is a directory, expected a file path")
    if target.exists() and not target.is_file():
        raise PermissionError(f"{what}: {target} exists and is not a regular file")
    if not parent.is_dir():
        blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():  # /dev/null/x.bin, file.txt/x.bin
            raise PermissionError(
                f"{what}: {blocker} is not a directory, so {target} cannot be created in it"
            )
        raise PermissionError(f"{what}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise PermissionError(f"{what}: cannot write to {target} (permission denied)")


@contextlib.contextmanager
def atomic_write(path: PathLike, *, replace: bool = True) -> Iterator[IO[bytes]]:
    """A file object whose content becomes ``path`` only if the block completes.

    ``replace=False``: the file is created only if ``path`` does not exist (else
    ``FileExistsError``), atomically — an existing file is never replaced. A symbolic
    link (even a dangling one) is written through: its target gets the content (a temp
    file in the target's directory renamed onto it) and the link stays a link."""
    target = _through_link(path) if replace else Path(path)
    anonymous = _open_anonymous(target.parent)
    if anonymous is not None:
        with anonymous as f:
            yield f
            _finish(f)
            _link_into_place(f.fileno(), target, replace)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, _mode_for(target))
        with os.fdopen(fd, "wb") as f:
            yield f
            _finish(f)
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # fails if target exists: never replaces it
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _through_link(path: PathLike) -> Path:
    """``path``, or where it is a symbolic link the file it points to (resolved fully)."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)


def _open_anonymous(directory: Path) -> IO[bytes] | None:
    """An unnamed file in ``directory`` (Linux ``O_TMPFILE``), or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = os.open(directory, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None  # the file system has no O_TMPFILE
        raise
    return os.fdopen(fd, "wb")


def _finish(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())


def _link_into_place(fd: int, target: Path, replace: bool) -> None:
    """Give the unnamed file ``fd`` the name ``target`` (atomically)."""
    os.fchmod(fd, _mode_for(target))
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        _link_or_replace(proc, str(fd), target, replace)
    finally:
        os.close(proc)


def _link_or_replace(proc: int, fd: str, target: Path, replace: bool) -> None:
    # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N: a directory fd makes Python call linkat
    if not replace:
        os.link(fd, target, src_dir_fd=proc, follow_symlinks=True)  # FileExistsError if taken
        return
    for attempt in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.tmp")
        try:
            os.link(fd, tmp, src_dir_fd=proc, follow_symlinks=True)
        except FileExistsError:
            continue
        try:
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return
    raise FileExistsError(f"cannot find a free temporary name beside {target}")


def _mode_for(target: Path) -> int:
    """The existing file's permissions, else the default for new files (0666 & ~umask)."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def free_path(path: PathLike) -> Path:
    """``path`` if no file has that name, else the first of ``path.1``, ``path.2``, … that
    is free (for files the user did not name, such as the Ctrl-C checkpoint)."""
    target = Path(path)
    k = 0
    candidate = target
    while os.path.lexists(candidate):
        k += 1
        candidate = target.with_name(f"{target.name}.{k}")
    return candidate
