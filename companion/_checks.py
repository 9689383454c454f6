"""Argument checks shared by the package: every bad input gets a clear error naming the argument."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of ``'none'``, ``'mean'``, ``'sum'``, else raise ``ValueError``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply an (already checked) reduction to an element-wise loss."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_tensor(value: object, name: str) -> torch.Tensor:
    """Raise ``TypeError`` unless ``value`` is a tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def check_floating(value: object, name: str) -> torch.Tensor:
    """Raise ``TypeError`` unless ``value`` is a floating-point tensor."""
    tensor = check_tensor(value, name)
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    return tensor


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str = "input", name_b: str = "target") -> None:
    """Raise ``ValueError`` if two tensors differ in shape (no silent broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the same shape as {name_a}: got {tuple(b.shape)} and {tuple(a.shape)}")


def check_range(value: float, name: str, low: float, high: float) -> float:
    """Raise ``ValueError`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def check_number(value: object, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """Return ``value`` as a float: ``TypeError`` unless a real number, ``ValueError`` unless finite and in range.

    Python and NumPy integers and floats are numbers; ``bool`` is not.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low:g}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value}")
    return value


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
