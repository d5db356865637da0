"""The loss-curve PNG of a training run (matplotlib, written atomically)."""

from __future__ import annotations

import os

from crossent.word2vec.formats.files import atomic_write


def plot_loss(
    path: str | os.PathLike[str],
    points: list[tuple[float, float]],
    epoch_losses: list[float],
    objective: str,
) -> None:
    """Running mean loss within each epoch (``points``: (epoch progress, loss)) and the
    mean loss of every finished epoch."""
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
        fig.savefig(f, format="png")
    plt.close(fig)
