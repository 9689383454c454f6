"""Argument and input checks shared by the Keras losses.

Arguments (weights, exponents, flags) are checked when a loss is created.
Inputs are checked in two ways: shapes always, from the static shapes Keras
knows even inside a compiled training step; values (labels in range,
probabilities in [0, 1]) only when they are known, that is in eager calls,
because a compiled ``model.fit`` step cannot look at them without leaving the
graph.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from .._checks import check_bool, check_number

__all__ = [
    "check_bool",
    "check_number",
    "check_probabilities",
    "concrete",
    "shapes_agree",
    "static_shape",
    "widened",
]


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


HALF = ("float16", "bfloat16")


def widened(y_pred: Any) -> tuple[Any, str]:
    """``y_pred`` in float32 when it is half precision (float16, bfloat16), and its own dtype name.

    In half precision ``1 - keras.config.epsilon()`` rounds to 1, so the clip that keeps a
    probability of exactly 1 away from ``log(0)`` does nothing; the losses compute in float32
    and cast the result back.
    """
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    return (keras.ops.cast(y_pred, "float32") if dtype in HALF else y_pred), dtype
