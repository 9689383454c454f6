r"""Binary focal loss (Lin et al., 2017) for Keras, stable from logits and from probabilities.

For a label :math:`y \in [0, 1]` and the predicted probability :math:`p` of the
positive class, with :math:`1 - p_t = y\,(1 - p) + (1 - y)\,p` (the
probability given to the wrong class, for a hard label),

.. math::

    \mathrm{FL}(y, p) = \alpha_t \, (1 - p_t)^{\gamma} \,
        \bigl(-y \log p - (1 - y) \log(1 - p)\bigr),
    \qquad \alpha_t = \alpha y + (1 - \alpha)(1 - y),

and ``alpha=None`` sets :math:`\alpha_t = 1`. :math:`\gamma = 0` gives binary
cross entropy back. The per-sample loss is the mean over the last axis, as in
:func:`keras.losses.binary_crossentropy`.

**From logits** (``from_logits=True``) nothing is rounded: the cross entropy is
the backend's fused sigmoid cross entropy and the modulating factor is
:math:`\exp\bigl(\gamma \log(1 - p_t)\bigr)` with

.. math::

    \log(1 - p_t) = \operatorname{logaddexp}\bigl(\log y + \log\sigma(-x),\;
                                                  \log(1 - y) + \log\sigma(x)\bigr),

which is :math:`\log\sigma(-x)` exactly for :math:`y = 1` and :math:`\log\sigma(x)`
for :math:`y = 0`. The loss is accurate at any logit (at :math:`x = \pm 100` as
well as near 0), and its gradient stays finite, also for :math:`0 < \gamma < 1`.
Keras' own :class:`keras.losses.BinaryFocalCrossentropy` applies a sigmoid
first and forms :math:`1 - p_t` from the probability: where :math:`\sigma(x)`
rounds to 1 (:math:`x \gtrsim 17` in float32) its factor is exactly 0, and for
:math:`\gamma < 1` its gradient there is NaN.

**From probabilities** (``from_logits=False``, the default, as in Keras) the
probability is clipped to :math:`[\varepsilon, 1 - \varepsilon]`
(:math:`\varepsilon` = ``keras.config.epsilon()``, 1e-7) before it enters the
modulating factor, and the cross entropy is Keras' ``ops.binary_crossentropy``,
which clips the same way. The loss is therefore finite at :math:`p = 0` and
:math:`p = 1` (at most :math:`-\log\varepsilon \approx 16.12` times
:math:`\alpha_t`) but saturates there, with zero gradient; and since Keras
computes :math:`\log(1 - p)` rather than :math:`\operatorname{log1p}(-p)`, a
small :math:`p` loses up to about 1e-7 (absolute) to rounding in float32. With
the TensorFlow backend, ``ops.binary_crossentropy`` recovers the logits from a
tensor that comes straight out of a sigmoid activation and uses them for the
cross entropy. Prefer ``from_logits=True`` and a linear last layer.

Relation to :class:`keras.losses.BinaryFocalCrossentropy`: ``alpha=None`` is
Keras' default ``apply_class_balancing=False`` (whose ``alpha`` is then
ignored), and ``alpha=a`` is ``apply_class_balancing=True, alpha=a``. The
factor :math:`1 - p_t` is Keras' (and torchvision's) also for soft labels, so
Keras' ``label_smoothing=s`` corresponds to passing the smoothed labels
:math:`y(1 - s) + s/2`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from ._checks import check_bool, check_number, check_probabilities, concrete, shapes_agree, static_shape, widened

__all__ = ["BinaryFocalLoss", "binary_focal_loss"]


def _check_alpha(alpha: float | None) -> float | None:
    """``None`` (no class weighting) or the weight of the positive class, a number in [0, 1]."""
    if alpha is None:
        return None
    return check_number(alpha, "alpha", low=0.0, high=1.0)


def _binary_inputs(y_true: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any]:
    """Tensors of ``y_pred``'s floating dtype and shape; ``y_true`` squeezed or expanded by one axis of size 1."""
    y_pred = ops.convert_to_tensor(y_pred)
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, keras.config.floatx())
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    pred_shape, true_shape = static_shape(y_pred), static_shape(y_true)
    if not pred_shape:
        raise ValueError("y_pred must have at least one axis (the loss is averaged over the last one)")
    # Keras accepts labels of shape (N,) for predictions of shape (N, 1) and the reverse
    if len(true_shape) == len(pred_shape) + 1 and true_shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif len(pred_shape) == len(true_shape) + 1 and pred_shape[-1] == 1:
        y_true = ops.expand_dims(y_true, axis=-1)
    if not shapes_agree(static_shape(y_true), pred_shape):
        raise ValueError(f"y_true must have the shape of y_pred {pred_shape}, got {true_shape}")

    labels = concrete(y_true)
    if labels is not None and labels.size and not ((labels >= 0) & (labels <= 1)).all():
        raise ValueError("y_true must hold labels in [0, 1] (0 or 1, or a probability of the positive class)")
    if not from_logits:
        check_probabilities(y_pred)
    return y_true, y_pred


@keras.saving.register_keras_serializable(package="companion")
def binary_focal_loss(
    y_true: Any,
    y_pred: Any,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
) -> Any:
    r"""Binary focal loss per sample, :math:`\mathrm{FL}(y, p)` averaged over the last axis.

    Parameters
    ----------
    y_true:
        Labels in [0, 1] (0 or 1, or soft labels), the shape of ``y_pred``
        (a trailing axis of size 1 may be missing on either side).
    y_pred:
        Logits (``from_logits=True``) or probabilities of the positive class.
    alpha:
        Weight of the positive class in [0, 1], the negative class getting
        ``1 - alpha``; ``None`` weights both by 1. Lin et al. use 0.25.
    gamma:
        Focusing exponent, a number >= 0; 0 gives binary cross entropy.
    from_logits:
        Whether ``y_pred`` holds logits (recommended) or probabilities.

    Returns
    -------
    tensor
        Shape ``y_pred.shape[:-1]``, in ``y_pred``'s floating dtype.

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1.0], [1.0], [0.0]])
    >>> logits = np.array([[2.0], [-1.0], [100.0]], dtype="float32")
    >>> loss = binary_focal_loss(y_true, logits, alpha=None, gamma=2.0, from_logits=True)
    >>> np.round(ops.convert_to_numpy(loss).astype(float), 4).tolist()
    [0.0018, 0.7019, 100.0]
    >>> bce = binary_focal_loss(y_true, logits, alpha=None, gamma=0.0, from_logits=True)
    >>> np.round(ops.convert_to_numpy(bce).astype(float), 4).tolist()
    [0.1269, 1.3133, 100.0]
    """
    alpha = _check_alpha(alpha)
    gamma = check_number(gamma, "gamma", low=0.0)
    from_logits = check_bool(from_logits, "from_logits")
    y_true, y_pred = _binary_inputs(y_true, y_pred, from_logits)
    y_pred, dtype = widened(y_pred)  # half precision: 1 - eps would round to 1
    y_true = ops.cast(y_true, y_pred.dtype)

    if from_logits:
        loss = ops.binary_crossentropy(y_true, y_pred, from_logits=True)
        if gamma != 0:
            # log(1 - p_t) = log(y (1 - p) + (1 - y) p), each term from a log-sigmoid;
            # log(0) = -inf for a hard label drops its term exactly
            log_wrong = ops.logaddexp(
                ops.log(y_true) + ops.log_sigmoid(-y_pred),
                ops.log(1.0 - y_true) + ops.log_sigmoid(y_pred),
            )
            loss = ops.exp(gamma * log_wrong) * loss
    else:
        loss = ops.binary_crossentropy(y_true, y_pred, from_logits=False)  # clips to [eps, 1 - eps]
        if gamma != 0:
            eps = keras.config.epsilon()
            p = ops.clip(y_pred, eps, 1.0 - eps)
            loss = ops.power(y_true * (1.0 - p) + (1.0 - y_true) * p, gamma) * loss
    if alpha is not None:
        loss = (alpha * y_true + (1.0 - alpha) * (1.0 - y_true)) * loss
    return ops.cast(ops.mean(loss, axis=-1), dtype)


@keras.saving.register_keras_serializable(package="companion")
class BinaryFocalLoss(keras.losses.Loss):
    r"""Binary focal loss as a :class:`keras.losses.Loss`: :func:`binary_focal_loss` plus Keras' reduction.

    Parameters
    ----------
    alpha, gamma, from_logits:
        As in :func:`binary_focal_loss`; checked here, when the loss is created.
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
    >>> import numpy as np
    >>> loss_fn = BinaryFocalLoss(alpha=0.25, gamma=2.0, from_logits=True)
    >>> round(float(loss_fn(np.array([[1.0], [0.0]]), np.array([[3.0], [3.0]]))), 4)
    1.0374
    >>> BinaryFocalLoss.from_config(loss_fn.get_config()).get_config() == loss_fn.get_config()
    True
    """

    def __init__(
        self,
        alpha: float | None = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = _check_alpha(alpha)
        self.gamma = check_number(gamma, "gamma", low=0.0)
        self.from_logits = check_bool(from_logits, "from_logits")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return binary_focal_loss(y_true, y_pred, self.alpha, self.gamma, self.from_logits)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update({"alpha": self.alpha, "gamma": self.gamma, "from_logits": self.from_logits})
        return config
