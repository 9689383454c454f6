r"""By-hand references of the divergence and likelihood losses of ``torch.nn``.

* :func:`kl_div` (``nn.KLDivLoss``): the Kullback-Leibler divergence between a target
  distribution and a predicted one, given as log-probabilities;
* :func:`poisson_nll_loss` (``nn.PoissonNLLLoss``): the negative log-likelihood of counts
  under a Poisson distribution with a predicted rate;
* :func:`gaussian_nll_loss` (``nn.GaussianNLLLoss``): the negative log-likelihood of values
  under a normal distribution with a predicted mean and variance.

Each function has the name, parameters and defaults of its ``torch.nn.functional``
counterpart, without the deprecated ``size_average`` and ``reduce``; the arguments that torch
places after a deprecated one are keyword-only. The input and the target must have the same
shape (torch would broadcast them, usually by mistake). No torch loss function is called.
"""

from __future__ import annotations

import math

import torch

from .._checks import (
    check_bool,
    check_floating,
    check_number,
    check_reduction,
    check_same_shape,
    reduce,
    require_nonnegative,
)

__all__ = ["gaussian_nll_loss", "kl_div", "poisson_nll_loss"]

KL_REDUCTIONS: tuple[str, ...] = ("none", "batchmean", "sum", "mean")


def kl_div(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
    log_target: bool = False,
) -> torch.Tensor:
    r"""Pointwise Kullback-Leibler divergence :math:`\mathrm{KL}(t \,\|\, q)`, with ``input`` = :math:`\log q`.

    .. math::

        \ell_i = t_i\,(\log t_i - x_i)
        \quad(\text{with } 0 \log 0 = 0), \qquad
        \ell_i = e^{\tilde t_i}\,(\tilde t_i - x_i) \quad\text{for a target } \tilde t = \log t.

    ``input`` holds **log**-probabilities :math:`x = \log q` (for example a
    log-softmax); ``target`` holds probabilities, or log-probabilities with
    ``log_target=True``. Reductions:

    * ``'batchmean'``: :math:`\sum_i \ell_i / N`, with :math:`N` = ``input.shape[0]``
      (the sum itself for a 0-dimensional input). For rows that are
      distributions this is the mean KL divergence per sample, the
      mathematical definition.
    * ``'mean'``: :math:`\sum_i \ell_i / M`, with :math:`M` the number of
      elements: the batchmean divided once more by the number of classes.
      Torch 2.13 warns about it and plans to make it behave like
      ``'batchmean'``; this reference computes it silently.
    * ``'sum'`` adds the :math:`\ell_i`; ``'none'`` returns them.

    With ``log_target=True`` a target log-probability of :math:`-\infty`
    gives :math:`0 \cdot (-\infty)` = NaN, in torch and here; pass
    probabilities when the target has zeros.

    Parameters
    ----------
    input:
        Log-probabilities, any shape; usually ``(N, C)``.
    target:
        Probabilities (or log-probabilities), the shape of ``input``.
    reduction:
        ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``.
    log_target:
        Whether ``target`` holds log-probabilities.

    Examples
    --------
    >>> q = torch.tensor([[0.5, 0.3, 0.2]])
    >>> t = torch.tensor([[0.9, 0.05, 0.05]])
    >>> kl_div(q.log(), t, reduction="batchmean")  # sum_c t_c log(t_c / q_c)
    tensor(0.3701)
    """
    reduction = check_reduction(reduction, KL_REDUCTIONS)
    log_target = check_bool(log_target, "log_target")
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    if log_target:
        loss = torch.exp(target) * (target - input)
    else:
        loss = torch.xlogy(target, target) - target * input  # xlogy: 0 * log 0 = 0
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() > 0 else loss.sum()
    return reduce(loss, reduction)


def poisson_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of counts :math:`y` under a Poisson distribution of rate :math:`\lambda`.

    :math:`-\log P(y \mid \lambda) = \lambda - y \log\lambda + \log y!`. Torch
    drops :math:`\log y!`, which does not depend on the prediction, unless
    ``full=True``; then it adds Stirling's approximation of it for
    :math:`y > 1` (and 0 for :math:`y \le 1`, where :math:`\log y! = 0`):

    .. math::

        \ell_i =
        \begin{cases}
            e^{x_i} - y_i x_i & \text{input } x = \log\lambda \text{ (the default)} \\
            x_i - y_i \log(x_i + \varepsilon) & \text{input } x = \lambda
        \end{cases}
        \;+\; [\text{full}]\,[y_i > 1]\,
        \Bigl(y_i \log y_i - y_i + \tfrac12 \log(2\pi y_i)\Bigr).

    ``'mean'`` divides the sum of the :math:`\ell_i` by the number of elements;
    ``'sum'`` adds them; ``'none'`` returns them. ``eps`` keeps
    :math:`\log\lambda` finite at :math:`\lambda = 0` when the input is the
    rate itself.

    Parameters
    ----------
    input:
        The log-rate (``log_input=True``, any real number) or the rate (>= 0).
    target:
        Counts, >= 0, the shape of ``input``. (Neither torch nor this reference
        checks the sign; a negative target makes the loss unbounded below.)
    log_input:
        Whether ``input`` is :math:`\log\lambda`.
    full:
        Add the Stirling term.
    eps:
        Added to the rate inside the log when ``log_input=False``.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0])
    >>> y = torch.tensor([1.0, 3.0])
    >>> poisson_nll_loss(x, y, reduction="none")  # exp(x) - y x
    tensor([ 1.0000, -0.2817])
    >>> poisson_nll_loss(x, y, full=True, reduction="none")  # + 3 log 3 - 3 + log(6 pi) / 2
    tensor([1.0000, 1.4824])
    """
    reduction = check_reduction(reduction)
    log_input = check_bool(log_input, "log_input")
    full = check_bool(full, "full")
    eps = check_number(eps, "eps", low=0.0)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    if log_input:
        loss = torch.exp(input) - target * input
    else:
        loss = input - target * torch.log(input + eps)
    if full:
        stirling = target * torch.log(target) - target + 0.5 * torch.log(2 * math.pi * target)
        loss = loss + torch.where(target > 1, stirling, torch.zeros_like(stirling))
    return reduce(loss, reduction)


def _variance(var: torch.Tensor | float, input: torch.Tensor) -> torch.Tensor:
    """``var`` in a shape that broadcasts to ``input``, by torch's rules; ValueError otherwise."""
    if not isinstance(var, torch.Tensor):
        return torch.full_like(input, check_number(var, "var", low=0.0))
    check_floating(var, "var")
    require_nonnegative(var, "var")
    if var.shape == input.shape:
        return var  # one variance per element
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)  # one variance per sample, shared by the last dimension
    differ = [d for d in range(input.dim()) if var.dim() == input.dim() and var.shape[d] != input.shape[d]]
    if var.dim() == input.dim() and len(differ) == 1 and var.shape[differ[0]] == 1:
        return var  # size 1 in exactly one dimension: shared along that dimension
    raise ValueError(
        f"var of shape {tuple(var.shape)} does not fit input of shape {tuple(input.shape)}: give the input's "
        f"shape, the input's shape without its last dimension, or the input's shape with one dimension set to 1"
    )


def gaussian_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    var: torch.Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of ``target`` under :math:`\mathcal N(\mu = \text{input}, \sigma^2 = \text{var})`.

    .. math::

        \ell_i = \frac12 \Bigl(\log \max(\sigma_i^2, \varepsilon)
                 + \frac{(x_i - y_i)^2}{\max(\sigma_i^2, \varepsilon)}\Bigr)
                 + [\text{full}]\,\tfrac12 \log 2\pi .

    ``'mean'`` divides the sum by the number of elements of ``input``; ``'sum'``
    adds; ``'none'`` returns one loss per element of ``input``.

    Torch's shape rules for ``var`` (and this reference's):

    * the shape of ``input``: one variance per element (heteroscedastic);
    * the shape of ``input`` without its last dimension, e.g. ``(N,)`` for an
      ``(N, D)`` input: one variance per sample, shared by its ``D`` features;
    * the shape of ``input`` with exactly one dimension of size 1, e.g.
      ``(N, 1)`` (per sample again) or ``(1, D)`` (one variance per feature,
      shared by the batch);
    * a Python float: one variance for everything.

    Anything else is refused, including a ``(D,)`` tensor for an ``(N, D)``
    input (write ``(1, D)``) and a 0-dimensional tensor for an input of two
    or more dimensions (pass a float).

    The clamp at ``eps`` changes only the value: torch applies it without
    recording it for autograd, so the gradient with respect to ``var`` is
    computed at the clamped value as if no clamp were there. The reference
    does the same with a straight-through ``detach``.

    Parameters
    ----------
    input:
        Predicted means, any shape (usually ``(N, D)``).
    target:
        Observed values, the shape of ``input``.
    var:
        Predicted variances, >= 0 (see the shape rules above).
    full:
        Add the constant :math:`\frac12\log 2\pi`.
    eps:
        Smallest variance used.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Examples
    --------
    >>> mu = torch.tensor([[0.0, 1.0], [2.0, 2.0]])
    >>> y = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    >>> gaussian_nll_loss(mu, y, torch.tensor([1.0, 4.0]), reduction="none")  # one variance per row
    tensor([[0.5000, 0.0000],
            [1.1931, 0.6931]])
    """
    reduction = check_reduction(reduction)
    full = check_bool(full, "full")
    eps = check_number(eps, "eps", above=0.0)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    v = _variance(var, input)
    v = v + (v.clamp(min=eps) - v).detach()  # the clamped value, with the gradient of the unclamped one
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)
