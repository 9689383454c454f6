"""Keras counterparts of the package's losses, following Keras' conventions.

* arguments in Keras' order, ``(y_true, y_pred)``, not torch's ``(input, target)``;
* each loss is a function returning one value per sample (the mean over the
  last axis, as Keras' built-in losses do) and a subclass of
  :class:`keras.losses.Loss`, which applies Keras' ``reduction``
  (``"sum_over_batch_size"`` by default) and sample weights;
* ``from_logits`` chooses between logits and probabilities, as in Keras;
* the classes define ``get_config()`` and, like the functions, are registered
  with :func:`keras.saving.register_keras_serializable` under the package name
  ``"companion"``: a model saved to a ``.keras`` file with one of these losses
  loads again with :func:`keras.saving.load_model` and no ``custom_objects``,
  as long as :mod:`companion.keras` has been imported.

Modules:

* :mod:`~companion.keras.focal`: :func:`binary_focal_loss` and :class:`BinaryFocalLoss`;
* :mod:`~companion.keras.sce`: :func:`symmetric_cross_entropy` and
  :class:`SymmetricCrossEntropy`, for integer class labels.

Keras 3 already has a stable log-cosh loss (:class:`keras.losses.LogCosh`), so
this package does not add one.

Importing this subpackage imports Keras (and its backend). When TensorFlow's
log settings are not set yet, they are set first, as :func:`companion.setup`
does, so that importing TensorFlow writes nothing to ``stderr``.
"""

from __future__ import annotations

import os

from ..runtime import _QUIET_ENV

for _name in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS"):
    os.environ.setdefault(_name, _QUIET_ENV[_name])

from .focal import BinaryFocalLoss, binary_focal_loss  # noqa: E402
from .sce import DEFAULT_A, SymmetricCrossEntropy, symmetric_cross_entropy  # noqa: E402

__all__ = [
    "DEFAULT_A",
    "BinaryFocalLoss",
    "SymmetricCrossEntropy",
    "binary_focal_loss",
    "symmetric_cross_entropy",
]
