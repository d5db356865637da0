"""The picture of ``crossent explain --plot``: y and p per class, and the per-class terms
of ``H(y, p) = H(y) + KL(y‖p)`` as grouped bars (matplotlib, imported only when drawing).
:func:`crossent.explain.plot_explanation` and :func:`crossent.explain.draw_explanation`
are the public entry points."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crossent.explain import Explanation


def save_figure(result: Explanation, path: str | os.PathLike[str]) -> None:
    """Draw ``result`` and write it to ``path`` atomically (see ``plot_explanation``)."""
    target = Path(path)
    fmt = _plot_format(target)
    fig = draw(result)
    try:
        _save_atomically(fig, target, fmt)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def draw(result: Explanation) -> Any:
    """The figure :func:`crossent.explain.plot_explanation` saves (a matplotlib ``Figure``;
    the caller closes it with ``matplotlib.pyplot.close``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6), dpi=110, layout="constrained")
    _draw_distributions(left, result)
    _draw_terms(right, result)
    return fig


def _plot_format(target: Path) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in formats:
        names = ", ".join(f".{f}" for f in sorted(formats))
        raise ValueError(
            f"plot: expected a file name ending in one of {names}, got {str(target)!r}"
        )
    if target.exists() and not target.is_file():
        raise ValueError(f"plot: {str(target)!r} exists and is not a regular file")
    if not target.parent.is_dir():
        parents = (target.parent, *target.parent.parents)
        blocker = next((p for p in parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():  # /dev/null/x.png, file.txt/x.png
            raise ValueError(f"plot: {str(blocker)!r} is not a directory")
        raise ValueError(f"plot: directory {str(target.parent)!r} does not exist")
    return fmt


def _draw_distributions(ax: Any, r: Explanation) -> None:
    classes = np.arange(len(r.target))
    ax.bar(classes - 0.2, r.target, width=0.4, label="target y", color="tab:green")
    ax.bar(classes + 0.2, r.probabilities, width=0.4, label="prediction p = softmax(z)")
    ax.set_xticks(classes)
    ax.set_xlabel("class c")
    ax.set_ylabel("probability")
    ax.set_ylim(0.0, 1.05)
    ax.set_title("target and prediction")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)


def _draw_terms(ax: Any, r: Explanation) -> None:
    """Grouped bars per class: the H(y, p) term and its split into the H(y) term and the
    (signed: a class can be over-predicted) KL term; infinite terms are labelled ∞."""
    classes = np.arange(len(r.target))
    bars = (
        (r.cross_entropy_terms, "-y_c log p_c  (sums to H(y, p))", "tab:blue"),
        (r.entropy_terms, "-y_c log y_c  (sums to H(y))", "tab:green"),
        (r.kl_terms, "y_c log(y_c / p_c)  (sums to KL(y‖p))", "tab:red"),
    )
    for i, (values, label, color) in enumerate(bars):
        x = classes + (i - 1) * 0.27
        v = np.asarray(values)
        ax.bar(x, np.where(np.isinf(v), 0.0, v), width=0.27, label=label, color=color)
        for c in np.flatnonzero(np.isinf(v)):
            ax.annotate("∞", (float(x[c]), 0.0), ha="center", va="bottom")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xticks(classes)
    ax.set_xlabel("class c")
    ax.set_ylabel("nats")
    ax.set_title(
        f"per-class terms: H(y, p) = H(y) + KL(y‖p)\n{r.cross_entropy:.4g} = "
        f"{r.entropy_target:.4g} + {r.kl_divergence:.4g}"
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small", frameon=False)


def _file_mode(target: Path) -> int:
    """The permissions ``target`` gets: those of the file it replaces, else a new file's
    (``0666`` less the umask; ``mkstemp`` alone would leave ``0600``)."""
    if target.is_file():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _save_atomically(fig: Any, target: Path, fmt: str) -> None:
    mode = _file_mode(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
