"""Argument checks shared by the package: every bad input gets a clear error naming the argument.

The torch side and the Keras side (``companion/keras/_checks.py`` re-exports from here) use
these checks and no others. The rules they implement, and the NaN policy of each family of
functions, are stated in ``book/api.md`` ("Arguments, errors and NaN"):

* numbers are Python or NumPy reals, never ``bool``; NaN fails every range check;
* flags are ``bool`` or ``np.bool_`` only;
* class-index targets of any integer dtype are converted to int64 (``bool`` refused), ±1
  targets to the input's floating dtype before any arithmetic;
* value checks on tensors go through :func:`require`: ``ValueError`` in eager CPU code, a
  device-side assertion elsewhere, never a host-device synchronisation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def describe(value: object) -> str:
    """A short description of ``value`` for an error message: its type, and its value when short."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of dtype {value.dtype} and shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__


def check_choice(value: object, name: str, choices: tuple[object, ...]) -> object:
    """Return ``value`` if it is one of ``choices`` (compared by type and value), else ``ValueError``."""
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return value
    raise ValueError(f"{name} must be one of {choices}, got {describe(value)}")


def check_reduction(reduction: object, choices: tuple[str, ...] = REDUCTIONS) -> str:
    """Return ``reduction`` if it is one of ``'none'``, ``'mean'``, ``'sum'`` (or ``choices``), else ``ValueError``."""
    if not isinstance(reduction, str) or reduction not in choices:
        raise ValueError(f"reduction must be one of {choices}, got {reduction!r}")
    return reduction


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply an (already checked) reduction to an element-wise loss."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---------------------------------------------------------------------------
# Python arguments: numbers, integers, flags
#
# NumPy scalars are accepted wherever a Python number is (``np.float32(0.5)``,
# ``np.int64(3)``, ``np.True_``), everywhere in the package; ``bool`` is never a
# number and a number is never a bool.


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    below: float | None = None,
    finite: bool = True,
) -> float:
    """Return ``value`` as a float: ``TypeError`` unless a real number, ``ValueError`` unless finite and in range.

    Python and NumPy integers and floats are numbers (and 0-dimensional
    tensors are not: pass ``float(t)``); ``bool`` is not. ``low``/``high`` are
    inclusive bounds, ``above``/``below`` exclusive ones. NaN fails every
    check; ``finite=False`` lets ``±inf`` through the finiteness check (the
    bounds still apply).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    number = float(value)
    if math.isnan(number) or (finite and not math.isfinite(number)):
        raise ValueError(f"{name} must be finite, got {number}")
    if low is not None and not number >= low:
        raise ValueError(f"{name} must be >= {low:g}, got {number}")
    if high is not None and not number <= high:
        raise ValueError(f"{name} must be <= {high:g}, got {number}")
    if above is not None and not number > above:
        raise ValueError(f"{name} must be > {above:g}, got {number}")
    if below is not None and not number < below:
        raise ValueError(f"{name} must be < {below:g}, got {number}")
    return number


def check_optional_number(value: object, name: str, **bounds: float | None) -> float | None:
    """``None``, or :func:`check_number` of ``value``."""
    return None if value is None else check_number(value, name, **bounds)  # type: ignore[arg-type]


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int: ``TypeError`` unless a Python or NumPy integer (not bool), ``ValueError`` out of range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    number = int(value)
    if low is not None and number < low:
        raise ValueError(f"{name} must be >= {low}, got {number}")
    if high is not None and number > high:
        raise ValueError(f"{name} must be <= {high}, got {number}")
    return number


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is a bool (Python or NumPy), else ``TypeError``: a string such as ``"no"`` is truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def check_callable(value: object, name: str) -> Callable[..., object]:
    """``value`` if it can be called, else ``TypeError``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {describe(value)}")
    return value


def check_instance(value: object, name: str, kind: type | tuple[type, ...], expected: str) -> object:
    """``value`` if it is an instance of ``kind``, else ``TypeError`` saying ``expected``."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    return value


def check_range(value: float, name: str, low: float, high: float) -> float:
    """Raise ``ValueError`` unless ``low <= value <= high`` (NaN fails)."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


# ---------------------------------------------------------------------------
# Tensors: type, dtype, shape, device (metadata only: free everywhere)


def check_tensor(value: object, name: str) -> torch.Tensor:
    """Raise ``TypeError`` unless ``value`` is a tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(value)}")
    return value


def check_floating(value: object, name: str) -> torch.Tensor:
    """Raise ``TypeError`` unless ``value`` is a floating-point tensor."""
    tensor = check_tensor(value, name)
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    return tensor


def check_optional_floating(value: object, name: str) -> torch.Tensor | None:
    """``None``, or :func:`check_floating` of ``value``."""
    return None if value is None else check_floating(value, name)


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str = "input", name_b: str = "target") -> None:
    """Raise ``ValueError`` if two tensors differ in shape (no silent broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the same shape as {name_a}: got {tuple(b.shape)} and {tuple(a.shape)}")


def check_shape(tensor: torch.Tensor, name: str, shape: tuple[int, ...], what: str = "") -> None:
    """Raise ``ValueError`` unless ``tensor`` has exactly ``shape``."""
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}{what}, got {tuple(tensor.shape)}")


def check_ndim(tensor: torch.Tensor, name: str, ndims: tuple[int, ...], layout: str) -> None:
    """Raise ``ValueError`` unless ``tensor`` has one of ``ndims`` dimensions (``layout`` names them)."""
    if tensor.dim() not in ndims:
        raise ValueError(f"{name} must have shape {layout}, got {tuple(tensor.shape)}")


def check_broadcasts(value: torch.Tensor, name: str, shape: torch.Size | tuple[int, ...], to: str = "input") -> None:
    """Raise ``ValueError`` unless ``value`` broadcasts to ``shape`` without enlarging it."""
    try:
        result = tuple(torch.broadcast_shapes(value.shape, shape))
    except RuntimeError:
        result = None
    if result != tuple(shape):
        raise ValueError(f"{name} of shape {tuple(value.shape)} does not broadcast to the {to} shape {tuple(shape)}")


def check_same_device(*named: tuple[torch.Tensor | None, str]) -> None:
    """Raise ``ValueError`` unless every given tensor (``None`` skipped) lies on the first one's device."""
    tensors = [(t, n) for t, n in named if t is not None]
    if not tensors:
        return
    first, first_name = tensors[0]
    for t, n in tensors[1:]:
        if t.device != first.device:
            raise ValueError(f"{n} is on {t.device} but {first_name} is on {first.device}: move them to one device")


def check_same_dtype(*named: tuple[torch.Tensor | None, str]) -> None:
    """Raise ``TypeError`` unless every given floating tensor (``None`` skipped) has the first one's dtype."""
    tensors = [(t, n) for t, n in named if t is not None]
    first, first_name = tensors[0]
    for t, n in tensors[1:]:
        if t.dtype != first.dtype:
            raise TypeError(f"{n} has dtype {t.dtype} but {first_name} has {first.dtype}: convert one of them")


def check_index_dtype(target: torch.Tensor, name: str) -> torch.Tensor:
    """Integer class indices as int64: any integer dtype (uint8 included) is converted, never wrapped.

    ``bool`` is refused (True/False are not class numbers: use ``.long()`` if
    meant), and so are floating and complex tensors.
    """
    check_tensor(target, name)
    if target.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype torch.bool (convert with .long())")
    if target.is_floating_point() or target.is_complex():
        raise TypeError(f"{name} must hold integer class indices, got dtype {target.dtype}")
    return target.long()


def check_sign_target(target: object, name: str, like: torch.Tensor, *, allow_bool: bool = False) -> torch.Tensor:
    """A target of labels (``1``/``-1``, or ``0``/``1`` with ``allow_bool``) as a tensor of ``like``'s dtype.

    Any real dtype is converted before arithmetic, so an unsigned ``uint8`` target
    of 1 cannot turn into 255 under negation; ``bool`` is refused unless
    ``allow_bool`` (it cannot hold -1).
    """
    tensor = check_tensor(target, name)
    if (tensor.dtype == torch.bool and not allow_bool) or tensor.is_complex():
        raise TypeError(f"{name} must hold labels 1 and -1 as numbers, got dtype {tensor.dtype}")
    return tensor.to(like.dtype)


def as_real_tensor(value: object, name: str) -> tuple[torch.Tensor, bool]:
    """``value`` as a floating tensor, and whether it was given as a tensor.

    A tensor of integers becomes the default floating dtype, an array (or list)
    of integers float64; an array is always copied, so that the caller may
    change the tensor in place. ``TypeError`` for booleans, complex numbers and
    anything that is not numbers.
    """
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        return (value if value.is_floating_point() else value.to(torch.get_default_dtype())), True
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - asarray accepts nearly anything
        raise TypeError(f"{name} must be a tensor or an array of numbers: {exc}") from None
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return torch.from_numpy(np.array(arr, order="C", copy=True)), False


# ---------------------------------------------------------------------------
# Checks on tensor *data*: free on the CPU, no host-device sync or graph break elsewhere


def _underlying(tensor: torch.Tensor) -> torch.Tensor:
    """The plain tensor under ``torch.func`` wrappers (grad, vmap, jacrev levels)."""
    from torch._C import _functorch

    while _functorch.is_functorch_wrapped_tensor(tensor):
        tensor = _functorch.get_unwrapped(tensor)
    return tensor


def require(
    ok: Callable[[torch.Tensor], torch.Tensor],
    tensor: torch.Tensor,
    message: str,
    detail: Callable[[torch.Tensor], str] | None = None,
) -> None:
    """Check a condition on the values of ``tensor`` in the way that costs nothing where it runs.

    ``ok(tensor)`` must return a boolean tensor (any shape; every element must be true).
    ``detail(tensor)``, when given, adds the offending value to the eager CPU error.

    * **Eager, on the CPU** (the book's setting): ``ValueError(message)`` when it fails.
      Reading a CPU tensor's value is not a synchronisation, so this is the cheap case.
    * **Eager, on an accelerator**: ``torch._assert_async``, a device-side assertion; the
      program does not wait for the device, and a failure surfaces as a device error (on
      CUDA a "device-side assert" at the next synchronisation), like an out-of-range index
      given to ``F.cross_entropy``.
    * **Under torch.compile**: the same ``torch._assert_async``, traced into the graph: no
      graph break (``fullgraph=True`` works); on the CPU a failure raises ``RuntimeError``
      carrying ``message``.
    * **Inside torch.func transforms** (``grad``, ``vmap``, ``jacrev``): the check runs
      eagerly on the underlying values, so bad data still raises ``ValueError``.
    """
    if torch.compiler.is_compiling():
        torch._assert_async(ok(tensor).all(), message)
        return
    plain = _underlying(tensor)
    if plain.numel() == 0:
        return
    with torch.no_grad():
        verdict = ok(plain).all()
    if plain.device.type == "cpu" or plain.device.type == "meta":
        if plain.device.type == "cpu" and not bool(verdict):
            raise ValueError(message + (detail(plain) if detail is not None else ""))
        return
    torch._assert_async(verdict, message)


def _in_unit_interval(t: torch.Tensor) -> torch.Tensor:
    lo, hi = torch.aminmax(t)  # one pass; NaN makes both comparisons false
    return (lo >= 0) & (hi <= 1)


def require_probabilities(tensor: torch.Tensor, name: str, hint: str = "") -> None:
    """Every value of ``tensor`` in [0, 1] (NaN fails), checked with :func:`require`."""
    message = f"{name} must hold values in [0, 1]{hint}"
    if tensor.numel():
        require(_in_unit_interval, tensor, message)


def require_nonnegative(tensor: torch.Tensor, name: str, hint: str = "") -> None:
    """Every value of ``tensor`` >= 0 (NaN fails), checked with :func:`require`."""
    require(lambda t: t >= 0, tensor, f"{name} must be >= 0 everywhere (and not NaN){hint}")


def require_finite(tensor: torch.Tensor, name: str) -> None:
    """Every value of ``tensor`` finite (no NaN, no ±inf), checked with :func:`require`."""
    require(torch.isfinite, tensor, f"{name} must be finite everywhere (it holds NaN or inf)")


def require_not_nan(tensor: torch.Tensor, name: str) -> None:
    """No NaN in ``tensor``, checked with :func:`require`."""
    require(lambda t: ~torch.isnan(t), tensor, f"{name} must not hold NaN")


def require_class_indices(labels: torch.Tensor, name: str, n_classes: int, ignore_index: int | None = None) -> None:
    """Every entry of int64 ``labels`` in ``[0, n_classes)`` or equal to ``ignore_index``, with :func:`require`."""

    def in_range(t: torch.Tensor) -> torch.Tensor:
        ok = (t >= 0) & (t < n_classes)
        return ok | (t == ignore_index) if ignore_index is not None else ok

    def first_bad(t: torch.Tensor) -> str:
        return f" (found {int(t[~in_range(t)].flatten()[0])})"

    also = f" or ignore_index={ignore_index}" if ignore_index is not None else ""
    require(in_range, labels, f"{name} must hold class indices in [0, {n_classes - 1}]{also}", first_bad)
