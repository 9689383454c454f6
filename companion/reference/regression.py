r"""By-hand references of the regression losses of ``torch.nn``, and three regression metrics.

Losses, each with the name, parameters and defaults of its ``torch.nn.functional``
counterpart (without the deprecated ``size_average`` and ``reduce``; arguments that torch
places after a deprecated one are keyword-only):

* :func:`l1_loss` (``nn.L1Loss``): absolute error;
* :func:`mse_loss` (``nn.MSELoss``): squared error;
* :func:`smooth_l1_loss` (``nn.SmoothL1Loss``): squared error scaled by :math:`1/\beta`
  below :math:`\beta`, absolute error above;
* :func:`huber_loss` (``nn.HuberLoss``): squared error below :math:`\delta`, :math:`\delta`
  times the absolute error above.

Metrics that torch does not ship as losses (a number over all elements, no ``reduction``):

* :func:`rmse`: root mean squared error, in the units of the target;
* :func:`mape`: mean absolute percentage error, in percent;
* :func:`msle`: mean squared logarithmic error, for non-negative quantities.

The residual is :math:`d_i = x_i - y_i` (input minus target). Input and target must have
the same shape: torch only warns and broadcasts, which turns an ``(N, 1)`` prediction
against an ``(N,)`` target into an ``(N, N)`` matrix of differences.
"""

from __future__ import annotations

import torch

from .._checks import (
    check_floating,
    check_number,
    check_reduction,
    check_same_shape,
    check_shape,
    reduce,
    require,
    require_not_nan,
)

__all__ = ["huber_loss", "l1_loss", "mape", "mse_loss", "msle", "rmse", "smooth_l1_loss"]


def _pair(input: torch.Tensor, target: torch.Tensor) -> None:
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)


def _nonempty(input: torch.Tensor, metric: str) -> None:
    if input.numel() == 0:
        raise ValueError(f"{metric} of empty tensors is undefined (a mean over no elements)")


def _element_weight(weight: torch.Tensor | None, input: torch.Tensor) -> torch.Tensor | None:
    if weight is not None:
        check_floating(weight, "weight")
        check_shape(weight, "weight", tuple(input.shape), ", the shape of input (one weight per element)")
    return weight


def _weighted(loss: torch.Tensor, weight: torch.Tensor | None, reduction: str) -> torch.Tensor:
    """Weighted reduction of ``l1_loss`` and ``mse_loss``: 'mean' divides by the sum of the weights."""
    if weight is None:
        return reduce(loss, reduction)
    loss = weight * loss
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return reduce(loss, reduction)


def l1_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Absolute error :math:`\ell_i = w_i\,|x_i - y_i|` (mean absolute error, MAE, with ``'mean'``).

    ``'mean'`` divides the sum by the number of elements, or, when ``weight`` is
    given, by the sum of the weights :math:`\sum_i w_i` (a weighted mean);
    ``'sum'`` adds; ``'none'`` returns the :math:`\ell_i`.

    Parameters
    ----------
    input, target:
        Floating tensors of the same shape.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    weight:
        One weight per element, the shape of ``input``.

    Examples
    --------
    >>> l1_loss(torch.ones(2, 2), 3 * torch.ones(2, 2), reduction="none")
    tensor([[2., 2.],
            [2., 2.]])
    """
    reduction = check_reduction(reduction)
    _pair(input, target)
    return _weighted((input - target).abs(), _element_weight(weight, input), reduction)


def mse_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Squared error :math:`\ell_i = w_i\,(x_i - y_i)^2` (mean squared error, MSE, with ``'mean'``).

    ``'mean'`` divides the sum by the number of elements, or, when ``weight`` is
    given, by the sum of the weights; ``'sum'`` adds; ``'none'`` returns the
    :math:`\ell_i`.

    Parameters
    ----------
    input, target:
        Floating tensors of the same shape.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    weight:
        One weight per element, the shape of ``input``.

    Examples
    --------
    >>> mse_loss(torch.ones(2, 2), 3 * torch.ones(2, 2), reduction="none")
    tensor([[4., 4.],
            [4., 4.]])
    """
    reduction = check_reduction(reduction)
    _pair(input, target)
    return _weighted((input - target) ** 2, _element_weight(weight, input), reduction)


def smooth_l1_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
    beta: float = 1.0,
) -> torch.Tensor:
    r"""Smooth L1: quadratic below :math:`\beta`, absolute error above, slope 1 in the tails.

    .. math::

        \ell_i =
        \begin{cases}
            \dfrac{(x_i - y_i)^2}{2\beta} & |x_i - y_i| < \beta \\[4pt]
            |x_i - y_i| - \dfrac{\beta}{2} & \text{otherwise}
        \end{cases}

    ``beta = 0`` is the L1 loss (torch switches to it; the formula above would
    divide by 0). As :math:`\beta \to 0` the loss tends to :math:`|d|`, as
    :math:`\beta` grows it tends to :math:`d^2 / (2\beta)`. ``'mean'`` divides
    the sum by the number of elements; ``'sum'`` adds; ``'none'`` returns the
    :math:`\ell_i`.

    Parameters
    ----------
    input, target:
        Floating tensors of the same shape.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    beta:
        Where the quadratic part ends, >= 0.

    Examples
    --------
    >>> d = torch.tensor([0.5, 2.0])
    >>> smooth_l1_loss(d, torch.zeros(2), reduction="none")
    tensor([0.1250, 1.5000])
    """
    reduction = check_reduction(reduction)
    beta = check_number(beta, "beta", low=0.0)
    _pair(input, target)
    a = (input - target).abs()
    if beta == 0:
        return reduce(a, reduction)
    loss = torch.where(a < beta, 0.5 * a**2 / beta, a - 0.5 * beta)
    return reduce(loss, reduction)


def huber_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Huber loss: quadratic below :math:`\delta`, linear with slope :math:`\delta` above.

    .. math::

        \ell_i = w_i
        \begin{cases}
            \tfrac12 (x_i - y_i)^2 & |x_i - y_i| < \delta \\[2pt]
            \delta \bigl(|x_i - y_i| - \tfrac12 \delta\bigr) & \text{otherwise}
        \end{cases}
        \;=\; w_i\,\delta\,\mathrm{SmoothL1}_{\beta = \delta}(x_i, y_i).

    ``'mean'`` divides the sum by the number of elements, **also when** ``weight``
    is given (unlike :func:`l1_loss` and :func:`mse_loss`, whose weighted mean
    divides by the sum of the weights: torch 2.13 does it this way); ``'sum'``
    adds; ``'none'`` returns the :math:`\ell_i`.

    Parameters
    ----------
    input, target:
        Floating tensors of the same shape.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    delta:
        Where the quadratic part ends, > 0.
    weight:
        One weight per element, the shape of ``input``.

    Examples
    --------
    >>> d = torch.tensor([0.5, 2.0])
    >>> huber_loss(d, torch.zeros(2), reduction="none", delta=1.0)
    tensor([0.1250, 1.5000])
    >>> huber_loss(d, torch.zeros(2), reduction="none", delta=0.5)  # 0.5 * smooth L1 with beta 0.5
    tensor([0.1250, 0.8750])
    """
    reduction = check_reduction(reduction)
    delta = check_number(delta, "delta", above=0.0)
    _pair(input, target)
    weight = _element_weight(weight, input)
    a = (input - target).abs()
    loss = torch.where(a < delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    if weight is not None:
        loss = weight * loss
    return reduce(loss, reduction)


# --- metrics ---------------------------------------------------------------------


def rmse(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Root mean squared error :math:`\sqrt{\frac1M \sum_i (x_i - y_i)^2}`, in the units of the target.

    The square root of :func:`mse_loss`: the same minimizer, a number on the
    scale of the data. (As a training loss its gradient is the MSE gradient
    divided by :math:`2\,\mathrm{RMSE}`, infinite at a perfect fit.)

    Examples
    --------
    >>> rmse(torch.tensor([0.0, 0.0]), torch.tensor([3.0, 4.0]))  # sqrt((9 + 16) / 2)
    tensor(3.5355)
    """
    _pair(input, target)
    _nonempty(input, "rmse")
    require_not_nan(input, "input")
    require_not_nan(target, "target")
    return torch.sqrt(((input - target) ** 2).mean())


def mape(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Mean absolute percentage error :math:`\frac{100}{M} \sum_i \frac{|x_i - y_i|}{|y_i|}`, in percent.

    Keras' ``mean_absolute_percentage_error`` returns the same percent;
    scikit-learn's returns the fraction (this value divided by 100). Both
    replace a target of 0 by a tiny number and return a huge value; this
    function raises ``ValueError`` instead, since a relative error to 0 has no
    meaning.

    Examples
    --------
    >>> mape(torch.tensor([110.0, 45.0]), torch.tensor([100.0, 50.0]))  # (10 % + 10 %) / 2
    tensor(10.)
    """
    _pair(input, target)
    _nonempty(input, "mape")
    require_not_nan(input, "input")
    require_not_nan(target, "target")
    require(
        lambda t: t != 0,
        target,
        "mape is undefined for a target of 0 (a relative error to 0); use an absolute error",
    )
    return 100 * ((input - target).abs() / target.abs()).mean()


def msle(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Mean squared logarithmic error :math:`\frac1M \sum_i \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)^2`.

    The squared error of :math:`\log(1 + \cdot)`: relative errors count, so a
    prediction of 110 for 100 costs about as much as 1.1 for 1, and
    under-prediction a little more than over-prediction. Meant for non-negative
    quantities (counts, prices, durations): a negative input or target raises
    ``ValueError``. (scikit-learn 1.9 accepts values above -1, where
    :math:`\log(1 + v)` is still defined.)

    Examples
    --------
    >>> msle(torch.tensor([0.0, 3.0]), torch.tensor([0.0, 1.0]))  # (log 4 - log 2)^2 / 2
    tensor(0.2402)
    """
    _pair(input, target)
    _nonempty(input, "msle")
    for value, name in ((input, "input"), (target, "target")):
        require_not_nan(value, name)
        require(lambda t: t >= 0, value, f"msle needs non-negative values, but {name} has a negative entry")
    return ((torch.log1p(input) - torch.log1p(target)) ** 2).mean()
