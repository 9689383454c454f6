"""Argument checks shared by the package: every bad input gets a clear error naming the argument."""

from __future__ import annotations

import math
import numbers
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
        raise ValueError(
            f"{name_b} must have the same shape as {name_a}: got {tuple(b.shape)} and {tuple(a.shape)}"
        )


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
