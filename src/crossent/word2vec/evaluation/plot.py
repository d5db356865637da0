"""The loss curve of a training run (matplotlib, written atomically): PNG, SVG or PDF, as
the file's name says."""

from __future__ import annotations

import os
from pathlib import Path

from crossent.word2vec.formats.files import atomic_write

PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str | os.PathLike[str], name: str = "path") -> str:
    """The image format that ``path``'s suffix names (``png``, ``svg`` or ``pdf``, any
    case); another suffix, or none, is a ``ValueError`` naming ``name``.

    >>> plot_format("loss.SVG")
    'svg'
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise ValueError(
            f"{name}: expected a file name ending in .png, .svg or .pdf (the image format), "
            f"got {os.fspath(path)!r}"
        )
    return suffix


def plot_loss(
    path: str | os.PathLike[str],
    points: list[tuple[float, float]],
    epoch_losses: list[float],
    objective: str,
) -> None:
    """Running mean loss within each epoch (``points``: (epoch progress, loss)) and the
    mean loss of every finished epoch, in the format of ``path``'s suffix
    (:func:`plot_format`)."""
    image_format = plot_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, lw=1.2, color="tab:blue", label="running mean within the epoch")
    if epoch_losses:
        ax.plot(
            [i + 1 for i in range(len(epoch_losses))],
            epoch_losses,
            "o-",
            color="tab:red",
            label="epoch mean",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss per pair ({objective})")
    ax.set_title("skip-gram training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format=image_format)
    plt.close(fig)
