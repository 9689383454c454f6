"""Checks and helpers shared by the losses of :mod:`companion.losses`."""

from __future__ import annotations

import torch

from .._checks import (
    check_floating,
    check_index_dtype,
    check_int,
    check_number,
    check_same_device,
    require_class_indices,
)

__all__ = [
    "check_alpha",
    "check_class_targets",
    "check_gamma",
    "check_ignore_index",
    "check_number",
    "compute_dtype",
    "reduce_class_loss",
]


def check_alpha(alpha: float | None) -> float | None:
    """The class-balance weight of the binary focal loss: ``None`` or a number in [0, 1]."""
    if alpha is None:
        return None
    return check_number(alpha, "alpha", low=0.0, high=1.0)


def check_gamma(gamma: float) -> float:
    """The focusing parameter of the focal loss: a finite number >= 0."""
    return check_number(gamma, "gamma", low=0.0)


def check_ignore_index(ignore_index: object) -> int:
    """The target value whose positions are skipped: an int (Python or NumPy)."""
    return check_int(ignore_index, "ignore_index")


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for half-precision inputs (float16, bfloat16), the input's own dtype otherwise."""
    return torch.promote_types(dtype, torch.float32)


def check_class_targets(
    input: torch.Tensor, target: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    """Validate logits ``(N, C, *d)`` or ``(C,)`` and class indices ``(N, *d)`` or ``()``.

    Returns the logits with a batch dimension, the targets with ignored
    positions replaced by class 0 (safe for ``gather``), the mask of positions
    that count, and whether the input was unbatched.
    """
    check_floating(input, "input")
    ignore_index = check_ignore_index(ignore_index)
    labels_any = check_index_dtype(target, "target")  # any integer dtype, as int64
    if input.dim() == 0:
        raise ValueError("input must have shape (N, C, ...) or (C,), got a 0-dimensional tensor")
    unbatched = input.dim() == 1
    logits = input.unsqueeze(0) if unbatched else input
    labels = labels_any.unsqueeze(0) if unbatched else labels_any
    n_classes = logits.shape[1]
    if n_classes < 2:
        raise ValueError(f"input must hold logits of at least 2 classes in dimension 1, got {n_classes}")
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(labels.shape) != expected:
        want = () if unbatched else expected
        raise ValueError(
            f"target must have shape {want} for input of shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    check_same_device((input, "input"), (target, "target"))
    keep = labels != ignore_index
    require_class_indices(labels, "target", n_classes, ignore_index)
    safe = torch.where(keep, labels, torch.zeros_like(labels))
    return logits, safe, keep, unbatched


def reduce_class_loss(loss: torch.Tensor, keep: torch.Tensor, reduction: str, unbatched: bool) -> torch.Tensor:
    """Reduce a per-position loss of class-index targets, leaving out the positions where ``keep`` is False.

    ``'mean'`` divides by the number of kept positions (NaN when there are none,
    as in torch); ``'none'`` gives 0 at the others, and a scalar for an
    unbatched input.
    """
    loss = torch.where(keep, loss, torch.zeros_like(loss))
    if reduction == "mean":
        return loss.sum() / keep.sum()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss
