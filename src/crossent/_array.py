"""Array-namespace dispatch: one implementation serves NumPy, PyTorch and JAX inputs.

The backend is resolved from the inputs with array-api-compat; no framework is imported
unless the caller passed one of its arrays. Python scalars and lists become NumPy arrays.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import array_api_compat
import numpy as np

Array = Any
"""An array of any supported library (NumPy array, torch.Tensor, jax.Array)."""


def is_tensor(x: Any) -> bool:
    """A torch.Tensor (without importing torch). A direct test, so that code traced by
    ``torch.compile`` does not go through array-api-compat's cached helpers."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def as_array(x: Any) -> Array:
    """Return ``x`` unchanged if it is an array, else ``np.asarray(x)``."""
    if is_tensor(x) or array_api_compat.is_array_api_obj(x):
        return x
    return np.asarray(x)


def namespace(**arrays: Any) -> Any:
    """The array namespace shared by the named arguments (``None`` ones are skipped).

    Raises TypeError naming the arguments when they come from different libraries.
    """
    present = {k: v for k, v in arrays.items() if v is not None}
    if present and all(is_tensor(v) for v in present.values()):
        import array_api_compat.torch as torch_namespace

        return torch_namespace
    try:
        return array_api_compat.array_namespace(*present.values())
    except TypeError as exc:
        kinds = ", ".join(
            f"{k}: {type(v).__module__}.{type(v).__name__}" for k, v in present.items()
        )
        raise TypeError(
            f"arguments must all come from one array library, got {kinds}; "
            "convert them to the same library first"
        ) from exc


def size(x: Array) -> int:
    """Number of elements of ``x`` (``x.size`` is a method on torch tensors)."""
    if is_tensor(x):
        return int(x.numel())
    n = array_api_compat.size(x)
    return 0 if n is None else int(n)


def is_torch(xp: Any) -> bool:
    """Whether ``xp`` is PyTorch's namespace."""
    return getattr(xp, "__name__", None) in ("torch", "array_api_compat.torch")


def is_floating(xp: Any, x: Array) -> bool:
    """Whether ``x`` has a real floating dtype (bfloat16 included)."""
    return bool(xp.isdtype(x.dtype, "real floating"))


def is_integer(xp: Any, x: Array) -> bool:
    """Whether ``x`` has a signed or unsigned integer dtype (bool excluded)."""
    return bool(xp.isdtype(x.dtype, "integral"))


def compute_dtype(xp: Any, x: Array) -> Any:
    """The dtype to accumulate in: float32 for 16-bit floats, else ``x``'s own dtype."""
    if xp.finfo(x.dtype).bits < 32:
        return xp.float32
    return x.dtype


def upcast(xp: Any, x: Array) -> Array:
    """``x`` in its accumulation dtype (float16/bfloat16 → float32; others unchanged)."""
    dtype = compute_dtype(xp, x)
    return x if x.dtype == dtype else xp.astype(x, dtype)


def numpy_scalar(x: Array) -> Array:
    """SciPy's and NumPy's convention for a result without dimensions: a NumPy scalar
    (``np.float64``, as ``np.sum`` and ``scipy.stats.entropy`` return), not a 0-d array.
    Arrays of other libraries, and NumPy results with dimensions, are returned unchanged."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x[()]
    return x


def to_bool(x: Array) -> bool:
    """A 0-d boolean array as a Python bool (a host sync on accelerators)."""
    return bool(x.item()) if hasattr(x, "item") else bool(x)


@contextlib.contextmanager
def quiet(xp: Any) -> Iterator[None]:
    """Silence NumPy's floating-point warnings: log(0) = -inf and 0/0 are handled explicitly.

    Other libraries do not warn; for them this does nothing (and stays traceable)."""
    if getattr(xp, "__name__", None) not in ("numpy", "array_api_compat.numpy"):
        yield
        return
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        yield


def traced(x: Array) -> bool:
    """Whether ``x`` is a tensor being traced by ``torch.compile``: its values are not known
    yet, so value checks are skipped and no branch may depend on them."""
    return is_tensor(x) and bool(sys.modules["torch"].compiler.is_compiling())


def any_true(xp: Any, condition: Array) -> bool:
    """``bool(any(condition))`` for a value check; False where no values exist yet: an empty
    array, a tensor traced by ``torch.compile``, a JAX array traced by ``jax.jit`` (under
    ``jax.grad`` alone the values are concrete and the check runs)."""
    if size(condition) == 0 or traced(condition):
        return False
    try:
        return to_bool(xp.any(condition))
    except Exception as exc:
        jax = sys.modules.get("jax")
        if jax is not None and isinstance(exc, jax.errors.ConcretizationTypeError):
            return False  # traced by jax.jit: no values
        raise


def normalize_axis(axis: int | None, ndim: int, name: str = "axis") -> int:
    """``axis`` as a non-negative index into ``ndim`` dimensions, or a clear error.

    ``None`` (not given) means the last axis for 1-D and 2-D inputs (``[C]``, ``[N, C]``,
    where every convention agrees); with more dimensions the class axis is ambiguous
    (last here and in JAX/optax, 1 in PyTorch's ``[N, C, d1, ...]``), so it must be given.
    """
    if axis is None:
        if ndim > 2:
            raise ValueError(
                f"{name}: an input with {ndim} dimensions needs an explicit {name} (the class "
                f"axis: -1 for [..., C], 1 for PyTorch's [N, C, d1, ...]); it is only implied "
                f"(-1) for 1-D and 2-D inputs"
            )
        axis = -1
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: expected an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise IndexError(f"{name}: expected an axis in [{-ndim}, {ndim - 1}], got {axis}")
    return int(axis) % ndim
