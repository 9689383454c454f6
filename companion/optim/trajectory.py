"""Run a ``torch.optim`` optimizer on a function of one tensor and record where it goes.

Plotting an optimizer's path over the contours of a two-dimensional function
is the quickest way to see what momentum, adaptive step sizes or a too-large
learning rate do. :func:`trajectory` runs the optimizer and returns every
iterate and its loss; :func:`rosenbrock` is the classic curved-valley test
function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import torch

from .._checks import as_real_tensor, check_callable, check_floating, check_int, check_number

__all__ = ["Trajectory", "rosenbrock", "trajectory"]


class Trajectory(NamedTuple):
    """What :func:`trajectory` returns: the iterates and the loss at each of them."""

    #: Tensor of shape ``(steps + 1, *x0.shape)``: ``iterates[0]`` is the
    #: starting point, ``iterates[k]`` the point after ``k`` optimizer steps.
    iterates: torch.Tensor
    #: Tensor of shape ``(steps + 1,)``: ``fn`` at each iterate.
    losses: torch.Tensor


def _check_steps(steps: Any) -> int:
    return check_int(steps, "steps", low=1)


def _start(x0: Any) -> torch.Tensor:
    x, was_tensor = as_real_tensor(x0, "x0")
    x = x.detach().clone() if was_tensor else x  # the optimizer changes x in place; never the caller's x0
    if x.numel() == 0:
        raise ValueError("x0 is empty")
    if not torch.isfinite(x).all():
        raise ValueError("x0 must be finite")
    return x.requires_grad_(True)


def trajectory(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x0: Any,
    optimizer_cls: type[torch.optim.Optimizer],
    steps: int,
    *,
    lr_at: Callable[[int], float] | None = None,
    **hyperparameters: Any,
) -> Trajectory:
    r"""Minimize ``fn`` from ``x0`` with ``optimizer_cls`` and return every iterate and loss.

    Each of the ``steps`` steps calls ``optimizer.step(closure)``, where the
    closure zeroes the gradient, evaluates :math:`f(x)` and back-propagates.
    Passing a closure makes every optimizer work, including ``LBFGS``, which
    re-evaluates :math:`f` several times per step (up to its ``max_iter``).
    A run that diverges is recorded as it is (values grow to ``inf``/``nan``);
    nothing is clipped.

    Parameters
    ----------
    fn:
        A function of one tensor (shaped like ``x0``) returning a scalar
        tensor, built from differentiable torch operations.
    x0:
        The starting point: a tensor (its dtype and device are kept) or an
        array-like of numbers (float64). It is copied, never modified.
    optimizer_cls:
        A subclass of ``torch.optim.Optimizer``, such as ``torch.optim.Adam``
        or a :mod:`companion.optim.reference` class.
    steps:
        The number of optimizer steps, at least 1.
    lr_at:
        Optional learning rate for each step: ``lr_at(k)`` is set on every
        parameter group before step ``k`` (0-based).
    **hyperparameters:
        Passed to ``optimizer_cls`` (``lr``, ``momentum``, ``betas``, ...).

    Returns
    -------
    Trajectory
        ``iterates`` of shape ``(steps + 1, *x0.shape)`` and ``losses`` of shape
        ``(steps + 1,)``, detached, on ``x0``'s device.

    Examples
    --------
    Gradient descent on :math:`f(x) = 4x^2` multiplies :math:`x` by
    :math:`1 - 8\gamma` per step:

    >>> import torch
    >>> path = trajectory(lambda x: 4 * x**2, [2.0], torch.optim.SGD, steps=3, lr=0.1)
    >>> path.iterates.squeeze(1)
    tensor([2.0000, 0.4000, 0.0800, 0.0160], dtype=torch.float64)
    >>> path.losses
    tensor([1.6000e+01, 6.4000e-01, 2.5600e-02, 1.0240e-03], dtype=torch.float64)
    """
    check_callable(fn, "fn")
    if not (inspect.isclass(optimizer_cls) and issubclass(optimizer_cls, torch.optim.Optimizer)):
        raise TypeError(f"optimizer_cls must be a torch.optim.Optimizer subclass, got {optimizer_cls!r}")
    steps = _check_steps(steps)
    if lr_at is not None:
        check_callable(lr_at, "lr_at")
    x = _start(x0)

    def value(point: torch.Tensor) -> torch.Tensor:
        out = fn(point)
        if not isinstance(out, torch.Tensor) or out.numel() != 1:
            raise ValueError(
                f"fn must return a scalar tensor, got {type(out).__name__}"
                + (f" of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else "")
            )
        return out.reshape(())

    optimizer = optimizer_cls([x], **hyperparameters)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = value(x)
        loss.backward()
        return loss

    iterates = [x.detach().clone()]
    with torch.no_grad():
        losses = [value(x).detach()]
    for k in range(steps):
        if lr_at is not None:
            lr = check_number(lr_at(k), f"lr_at({k})", low=0.0)
            for group in optimizer.param_groups:
                group["lr"] = lr
        # torch annotates the closure as returning a float; every optimizer accepts the loss tensor
        optimizer.step(cast(Callable[[], float], closure))
        iterates.append(x.detach().clone())
        with torch.no_grad():
            losses.append(value(x).detach())
    return Trajectory(torch.stack(iterates), torch.stack(losses))


def rosenbrock(x: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    r"""The Rosenbrock function of a point :math:`(x_1, x_2)` (the last axis of ``x``).

    .. math::

        f(x_1, x_2) = (a - x_1)^2 + b\,(x_2 - x_1^2)^2

    Its minimum, :math:`0`, lies at :math:`(a, a^2)` at the bottom of a long,
    curved, flat-bottomed valley: easy to reach, slow to follow.

    Parameters
    ----------
    x:
        A tensor whose last axis has length 2 (one point, or a grid of points).

    Examples
    --------
    >>> import torch
    >>> rosenbrock(torch.tensor([1.0, 1.0])), rosenbrock(torch.tensor([0.0, 0.0]))
    (tensor(0.), tensor(1.))
    """
    check_floating(x, "x")
    a, b = check_number(a, "a"), check_number(b, "b")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"x must have a last axis of length 2, got shape {tuple(x.shape)}")
    x1, x2 = x[..., 0], x[..., 1]
    return (a - x1) ** 2 + b * (x2 - x1**2) ** 2
