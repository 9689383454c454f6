"""Checks and helpers shared by the losses of :mod:`companion.losses`."""

from __future__ import annotations

import torch

from .._checks import check_floating, check_number, check_tensor, require


def check_alpha(alpha: float | None) -> float | None:
    """The class-balance weight of the binary focal loss: ``None`` or a number in [0, 1]."""
    if alpha is None:
        return None
    return check_number(alpha, "alpha", low=0.0, high=1.0)


def check_gamma(gamma: float) -> float:
    """The focusing parameter of the focal loss: a finite number >= 0."""
    return check_number(gamma, "gamma", low=0.0)


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
    check_tensor(target, "target")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    if input.dim() == 0:
        raise ValueError("input must have shape (N, C, ...) or (C,), got a 0-dimensional tensor")
    unbatched = input.dim() == 1
    logits = input.unsqueeze(0) if unbatched else input
    labels = target.unsqueeze(0) if unbatched else target
    n_classes = logits.shape[1]
    if n_classes < 2:
        raise ValueError(f"input must hold logits of at least 2 classes in dimension 1, got {n_classes}")
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(labels.shape) != expected:
        want = () if unbatched else expected
        raise ValueError(
            f"target must have shape {want} for input of shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    if target.device != input.device:
        raise ValueError(f"target is on {target.device} but input is on {input.device}")
    labels = labels.long()
    keep = labels != ignore_index

    def in_range(t: torch.Tensor) -> torch.Tensor:
        return (t == ignore_index) | ((t >= 0) & (t < n_classes))

    def first_bad(t: torch.Tensor) -> str:
        return f" (found {int(t[~in_range(t)].flatten()[0])})"

    require(
        in_range,
        labels,
        f"target must hold class indices in [0, {n_classes - 1}] or ignore_index={ignore_index}",
        first_bad,
    )
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
