r"""Symmetric cross entropy (Wang et al., 2019) for Keras, with integer class labels.

Cross entropy :math:`-\log p_y` grows without bound when a label is wrong and
the model disagrees with it confidently. The *reverse* cross entropy swaps the
roles of label and prediction, :math:`-\sum_k p_k \log q_k` with the one-hot
label :math:`q`; giving :math:`\log 0` the finite value :math:`A < 0` makes it

.. math::

    \mathrm{RCE} = -A \sum_{k \ne y} p_k = -A\,(1 - p_y),

bounded by :math:`-A`. The loss is

.. math::

    \mathrm{SCE} = \alpha \, (-\log p_y) + \beta \, \bigl(-A\,(1 - p_y)\bigr).

:math:`A = \ln 10^{-4} \approx -9.2103` (:data:`DEFAULT_A`) is what the paper's
official code uses: it clamps the one-hot label at :math:`10^{-4}` before the log.

Both terms come from one number, the cross entropy
:math:`c = -\log p_y` as Keras' ``ops.sparse_categorical_crossentropy``
computes it, since :math:`1 - p_y = -\operatorname{expm1}(-c)`:

* from logits, :math:`c` is the backend's fused log-softmax cross entropy,
  accurate at any logit, and ``expm1`` keeps :math:`1 - p_y` accurate when
  :math:`p_y` is close to 1;
* from probabilities, Keras clips them to :math:`[\varepsilon, 1 - \varepsilon]`
  (:math:`\varepsilon` = ``keras.config.epsilon()``) and renormalizes them to sum
  to 1, so :math:`p_y` is that clipped, renormalized probability and the loss is
  finite at :math:`p = 0` and :math:`p = 1`.

With ``alpha=1, beta=0`` the loss is exactly Keras'
:func:`keras.losses.sparse_categorical_crossentropy`. The official code clamps
the predicted probabilities at :math:`10^{-7}` inside the reverse term, which
changes it by at most :math:`(C - 1) \cdot 10^{-7} \cdot |A|`; this module does not.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from ._checks import check_bool, check_number, check_probabilities, concrete, shapes_agree, static_shape, widened

__all__ = ["DEFAULT_A", "SymmetricCrossEntropy", "symmetric_cross_entropy"]

#: ``A`` of the paper's official code: the log of the clamp value 1e-4 of the one-hot label.
DEFAULT_A: float = math.log(1e-4)


def _check_weights(alpha: float, beta: float, A: float) -> tuple[float, float, float]:
    return (
        check_number(alpha, "alpha", low=0.0),
        check_number(beta, "beta", low=0.0),
        check_number(A, "A", high=0.0),
    )


def _sparse_inputs(y_true: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any]:
    """``y_pred`` as a floating tensor of shape ``(..., C)``; ``y_true`` checked against it."""
    y_pred = ops.convert_to_tensor(y_pred)
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, keras.config.floatx())
    y_true = ops.convert_to_tensor(y_true)
    pred_shape, true_shape = static_shape(y_pred), static_shape(y_true)
    if len(pred_shape) < 2:
        raise ValueError(f"y_pred must have shape (N, ..., C), one score per class on the last axis, got {pred_shape}")
    n_classes = pred_shape[-1]
    if n_classes is not None and n_classes < 2:
        raise ValueError(f"y_pred must hold at least 2 classes on its last axis, got {n_classes}")
    expected = pred_shape[:-1]
    if not (shapes_agree(true_shape, expected) or shapes_agree(true_shape, (*expected, 1))):
        raise ValueError(
            f"y_true must hold one class index per sample, shape {expected} (or {(*expected, 1)}), got {true_shape}"
        )

    labels = concrete(y_true)
    if labels is not None and labels.size:
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError("y_true must hold integer class indices")
        if n_classes is not None and not ((labels >= 0) & (labels < n_classes)).all():
            raise ValueError(f"y_true must hold class indices in [0, {n_classes - 1}]")
    if not from_logits:
        check_probabilities(y_pred)
    return y_true, y_pred


@keras.saving.register_keras_serializable(package="companion")
def symmetric_cross_entropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.1,
    beta: float = 1.0,
    A: float = DEFAULT_A,
    from_logits: bool = False,
) -> Any:
    r"""Symmetric cross entropy per sample, :math:`\alpha(-\log p_y) + \beta(-A)(1 - p_y)`.

    Parameters
    ----------
    y_true:
        Integer class indices in ``[0, C)``, shape ``y_pred.shape[:-1]`` (a
        trailing axis of size 1 is allowed, as in Keras).
    y_pred:
        Logits (``from_logits=True``) or class probabilities, shape ``(N, ..., C)``.
    alpha:
        Weight of the cross entropy, >= 0 (the paper uses 0.1 on CIFAR-10).
    beta:
        Weight of the reverse cross entropy, >= 0 (1.0 on CIFAR-10).
    A:
        The value given to :math:`\log 0`, <= 0; the default is :math:`\ln 10^{-4}`.
    from_logits:
        Whether ``y_pred`` holds logits (recommended) or probabilities.

    Returns
    -------
    tensor
        Shape ``y_pred.shape[:-1]``.

    Examples
    --------
    >>> y_true = np.array([0, 1])
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]], dtype="float32")
    >>> ce = symmetric_cross_entropy(y_true, logits, alpha=1.0, beta=0.0, from_logits=True)
    >>> np.round(ops.convert_to_numpy(ce).astype(float), 4).tolist()
    [0.2395, 2.1698]
    >>> rce = symmetric_cross_entropy(y_true, logits, alpha=0.0, beta=1.0, A=-4.0, from_logits=True)
    >>> np.round(ops.convert_to_numpy(rce).astype(float), 4).tolist()
    [0.8521, 3.5432]
    """
    alpha, beta, A = _check_weights(alpha, beta, A)
    from_logits = check_bool(from_logits, "from_logits")
    y_true, y_pred = _sparse_inputs(y_true, y_pred, from_logits)
    y_pred, dtype = widened(y_pred)  # half precision: 1 - eps would round to 1
    ce = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)  # -log p_y
    return ops.cast(alpha * ce + (beta * A) * ops.expm1(-ce), dtype)  # -A (1 - p_y) = A expm1(log p_y)


@keras.saving.register_keras_serializable(package="companion")
class SymmetricCrossEntropy(keras.losses.Loss):
    r"""Symmetric cross entropy as a :class:`keras.losses.Loss`: :func:`symmetric_cross_entropy` plus Keras' reduction.

    Parameters
    ----------
    alpha, beta, A, from_logits:
        As in :func:`symmetric_cross_entropy`; checked here, when the loss is created.
    reduction:
        Keras' reduction of the per-sample losses: ``"sum_over_batch_size"``
        (the mean), ``"sum"``, ``"mean"``, ``"mean_with_sample_weight"``,
        ``"none"`` or ``None``.
    name:
        The loss's name.
    dtype:
        The dtype Keras computes the loss in (default: ``keras.config.floatx()``).

    Examples
    --------
    >>> loss_fn = SymmetricCrossEntropy(alpha=0.1, beta=1.0, from_logits=True)
    >>> round(float(loss_fn(np.array([0]), np.array([[2.0, 0.0, 0.0]]))), 4)
    1.9859
    """

    def __init__(
        self,
        alpha: float = 0.1,
        beta: float = 1.0,
        A: float = DEFAULT_A,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "symmetric_cross_entropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha, self.beta, self.A = _check_weights(alpha, beta, A)
        self.from_logits = check_bool(from_logits, "from_logits")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return symmetric_cross_entropy(y_true, y_pred, self.alpha, self.beta, self.A, self.from_logits)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update({"alpha": self.alpha, "beta": self.beta, "A": self.A, "from_logits": self.from_logits})
        return config
