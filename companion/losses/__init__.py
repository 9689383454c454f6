"""Production losses: numerically stable, validated, each as a function and an ``nn.Module``.

* :mod:`~companion.losses.focal`: focal loss, binary / multi-label (:func:`sigmoid_focal_loss`,
  :class:`FocalLoss`) and multi-class (:func:`softmax_focal_loss`, :class:`SoftmaxFocalLoss`),
  plus the probability form the source articles use (:func:`binary_focal_loss_from_probs`);
* :mod:`~companion.losses.sce`: symmetric cross entropy for noisy labels (:func:`sce_loss`,
  :class:`SCELoss`);
* :mod:`~companion.losses.log_cosh`: the log-cosh regression loss, stable for any residual
  (:func:`log_cosh_loss`, :class:`LogCoshLoss`).

NaN policy: logits are not inspected (a check would cost a host-device sync per step), so NaN
logits give a NaN loss, as in torch; targets are checked, and a NaN target raises ``ValueError``
on the CPU (a device-side assertion elsewhere). An empty batch gives 0 (``'sum'``) or NaN
(``'mean'``), as in torch.
"""

from __future__ import annotations

from .focal import (
    FocalLoss,
    SoftmaxFocalLoss,
    binary_focal_loss_from_probs,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from .log_cosh import LogCoshLoss, log_cosh, log_cosh_loss
from .sce import SCELoss, sce_loss

__all__: list[str] = [
    "FocalLoss",
    "LogCoshLoss",
    "SCELoss",
    "SoftmaxFocalLoss",
    "binary_focal_loss_from_probs",
    "log_cosh",
    "log_cosh_loss",
    "sce_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
]
