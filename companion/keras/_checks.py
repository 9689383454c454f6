"""Argument and input checks shared by the Keras losses.

Arguments (weights, exponents, flags) are checked when a loss is created.
Inputs are checked in two ways: shapes always, from the static shapes Keras
knows even inside a compiled training step; values (labels in range,
probabilities in [0, 1]) only when they are known, that is in eager calls,
because a compiled ``model.fit`` step cannot look at them without leaving the
graph.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras
import numpy as np

from .._checks import check_range


def check_number(value: object, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a float: ``TypeError`` unless a real number, ``ValueError`` unless finite and in range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return check_range(value, name, -math.inf if low is None else low, math.inf if high is None else high)


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is a bool, else ``TypeError`` (a string such as ``"False"`` would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def concrete(x: Any) -> np.ndarray | None:
    """The values of tensor ``x`` as a NumPy array when they are known now, else ``None``.

    Inside a compiled function (``tf.function``, XLA, a JAX trace) a tensor is
    symbolic and converting it raises; those calls skip the value checks.
    """
    try:
        with warnings.catch_warnings():
            # NumPy 2 asks TensorFlow's __array__ for a `copy` keyword it lacks; the values are right
            warnings.simplefilter("ignore", DeprecationWarning)
            return np.asarray(keras.ops.convert_to_numpy(x))
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None


def check_probabilities(y_pred: Any) -> None:
    """``ValueError`` when known values of ``y_pred`` lie outside [0, 1] (the loss was given logits)."""
    probs = concrete(y_pred)
    if probs is not None and probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(
            "y_pred must hold probabilities in [0, 1] when from_logits=False; pass logits with from_logits=True"
        )


def static_shape(x: Any) -> tuple[int | None, ...]:
    """The shape Keras knows for ``x`` (``None`` for dimensions known only at run time)."""
    return tuple(None if d is None else int(d) for d in x.shape)


def shapes_agree(a: tuple[int | None, ...], b: tuple[int | None, ...]) -> bool:
    """Whether two static shapes can be equal (a ``None`` dimension matches anything)."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))
