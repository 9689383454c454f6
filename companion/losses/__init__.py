"""Production losses: numerically stable, validated, each as a function and an ``nn.Module``.

* :mod:`~companion.losses.focal`: focal loss, binary / multi-label (:func:`sigmoid_focal_loss`,
  :class:`FocalLoss`) and multi-class (:func:`softmax_focal_loss`, :class:`SoftmaxFocalLoss`),
  plus the probability form the source articles use (:func:`binary_focal_loss_from_probs`);
* :mod:`~companion.losses.sce`: symmetric cross entropy for noisy labels (:func:`sce_loss`,
  :class:`SCELoss`).
"""

from __future__ import annotations

from .focal import (
    FocalLoss,
    SoftmaxFocalLoss,
    binary_focal_loss_from_probs,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from .sce import SCELoss, sce_loss

# Further loss modules (for example log_cosh) add their imports above and their names below.

__all__: list[str] = [
    "FocalLoss",
    "SCELoss",
    "SoftmaxFocalLoss",
    "binary_focal_loss_from_probs",
    "sce_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
]
