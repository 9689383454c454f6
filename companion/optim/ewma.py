"""Exponentially weighted moving averages: the running mean behind momentum, RMSprop and Adam."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import as_real_tensor, check_bool, check_number

__all__ = ["ewma"]

Array = np.ndarray | torch.Tensor


def _check_beta(beta: Any) -> float:
    return check_number(beta, "beta", low=0.0, below=1.0)


def ewma(values: Any, beta: float, *, bias_correction: bool = False) -> Array:
    r"""The exponentially weighted moving average of ``values`` along their first axis.

    Starting from :math:`v_0 = 0`,

    .. math::

        v_t = \beta\, v_{t-1} + (1 - \beta)\, x_t, \qquad t = 1, \dots, n,

    so that :math:`v_t = (1-\beta) \sum_{i=0}^{t-1} \beta^i x_{t-i}`: the weights
    fall geometrically with age and add up to :math:`1 - \beta^t`, not 1. Early
    averages are therefore pulled toward the starting value 0. With
    ``bias_correction=True`` each average is divided by that sum,

    .. math::

        \hat v_t = \frac{v_t}{1 - \beta^t},

    which is the correction Adam applies to its two moment estimates. The
    corrected average is what pandas computes with
    ``Series.ewm(alpha=1 - beta, adjust=True).mean()``.

    Parameters
    ----------
    values:
        A NumPy array (or a list of numbers) or a torch tensor, at least
        one-dimensional; time runs along the first axis, other axes are
        averaged independently. Integers are converted to floats.
    beta:
        The decay :math:`\beta \in [0, 1)`. Larger values average over a
        longer past: the weights fall to :math:`1/e` of the newest one after
        about :math:`1/(1-\beta)` steps.
    bias_correction:
        Divide :math:`v_t` by :math:`1 - \beta^t`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The averages :math:`v_1, \dots, v_n` (or :math:`\hat v_t`), the same kind,
        shape and floating dtype as ``values`` (a tensor stays on its device);
        half-precision values are averaged in float32 and rounded once at the end.

    Examples
    --------
    >>> ewma([1.0, 1.0, 1.0], beta=0.5)
    array([0.5  , 0.75 , 0.875])
    >>> ewma([1.0, 1.0, 1.0], beta=0.5, bias_correction=True)
    array([1., 1., 1.])
    >>> import torch
    >>> ewma(torch.tensor([2.0, 4.0]), beta=0.5)
    tensor([1.0000, 2.5000])
    """
    beta = _check_beta(beta)
    bias_correction = check_bool(bias_correction, "bias_correction")
    x, is_tensor = as_real_tensor(values, "values")
    if x.ndim == 0:
        raise ValueError("values must be at least one-dimensional (time along the first axis), got a scalar")
    if x.shape[0] == 0:
        raise ValueError("values is empty: there is nothing to average")

    # accumulate in at least float32: in float16 a running average of a constant 10 with
    # beta = 0.999 stalls at 8 (each step's increment rounds away), and is returned as 8
    acc = torch.promote_types(x.dtype, torch.float32)
    out = torch.empty_like(x)
    v = torch.zeros_like(x[0], dtype=acc)
    for t in range(x.shape[0]):
        v = beta * v + (1.0 - beta) * x[t].to(acc)
        out[t] = v / (1.0 - beta ** (t + 1)) if bias_correction else v
    return out if is_tensor else out.numpy()
