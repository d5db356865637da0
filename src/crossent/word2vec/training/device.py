"""Where full-softmax training runs: ``device=`` resolved and checked before any work, and
the model's weights moved to torch tensors there and back.

``loss="ns"`` and ``"hs"`` train with numba kernels on the CPU; ``loss="softmax"`` trains
through the fused linear cross-entropy on any torch device: on the CPU its tensors are
views of the model's NumPy arrays (no copy), on a GPU copies that are written back to the
model after every epoch and when training stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from crossent.word2vec.training.model import SkipGram
    from crossent.word2vec.training.softmax import Weights


def resolve_device(device: Any, loss: str) -> torch.device:
    """``device`` (``None``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``) as a
    usable ``torch.device``, or a ValueError naming ``device`` — before any training."""
    import torch

    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if dev.type == "cpu":
        return dev
    if loss != "softmax":
        raise ValueError(
            f"device: loss={loss!r} trains with CPU kernels; only loss='softmax' runs on a GPU "
            f"(got device={device!r})"
        )
    if not torch.cuda.is_available():
        why = "this torch build has no CUDA" if torch.version.cuda is None else "no GPU is visible"
        raise ValueError(f"device: {device!r} asked for, but CUDA is not available ({why})")
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise ValueError(f"device: {device!r} asked for, but only {count} CUDA device(s) exist")
    return dev


def weights_on(
    model: SkipGram,
    device: torch.device,
    rows: tuple[int, int] | None = None,
    group: Any = None,
) -> Weights:
    """The model's ``syn0`` and rows ``rows = (start, stop)`` of its ``syn1`` (default: all)
    as tensors on ``device`` (views on the CPU, copies elsewhere)."""
    import torch

    from crossent.word2vec.training.softmax import Weights

    start, stop = rows or (0, model.syn1.shape[0])
    syn0 = torch.from_numpy(model.syn0).to(device)  # [V, D]
    syn1 = torch.from_numpy(model.syn1[start:stop]).to(device)  # [V_r, D]
    return Weights(syn0, syn1, start=start, vocab=model.syn1.shape[0], group=group)


def write_back(w: Weights, model: SkipGram) -> None:
    """Copy ``w``'s tensors into the model's arrays (nothing to do for CPU views of them)."""
    if w.syn0.device.type == "cpu" and w.syn0.data_ptr() == model.syn0.ctypes.data:
        return
    model.syn0[...] = w.syn0.cpu().numpy()
    model.syn1[w.start : w.start + w.syn1.shape[0]] = w.syn1.cpu().numpy()
