r"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``): sweep the rate, watch the loss, restore.

:func:`lr_range_test` trains for up to ``num_steps`` batches while the learning rate grows
geometrically from ``start_lr`` to ``end_lr``,

.. math:: \eta_k = \eta_{\text{start}} \Big(\frac{\eta_{\text{end}}}{\eta_{\text{start}}}\Big)^{k/(n-1)},

records each batch's loss and its bias-corrected exponential moving average

.. math:: a_k = \beta a_{k-1} + (1-\beta)\,\ell_k, \qquad \bar\ell_k = \frac{a_k}{1 - \beta^{k+1}},

stops early once :math:`\bar\ell_k` exceeds ``diverge_factor`` times its minimum (or is not finite), and
then puts everything back: the model's parameters and buffers, the optimizer's state and learning rates,
the model's train/eval mode and the random number generators are exactly what they were before, so the
real training starts from the same point whatever the test did.

The suggestion (:func:`suggest_lr`) reads the smoothed curve against :math:`\log\eta`:

* ``'valley'`` (the default): the longest descending stretch of the curve, the longest sequence of
  points each lower than the one before (not necessarily adjacent), counted as a stretch of as many
  consecutive points ending at its last one, and the rate half way through it.
  This is the rule fastai adopted as its default in 2021: it looks at the whole descent, so one noisy
  dip does not move it, and it lands where the loss is still falling fast but well before the blow-up.
* ``'steepest'``: the rate where the smoothed loss falls fastest per unit of :math:`\log\eta`, Smith's
  original reading. It is sensitive to noise in the smoothed curve, often pointing at the early, flat
  part where a small bump happens to be steep.
* ``'minimum'``: a tenth of the rate with the lowest smoothed loss: the minimum itself is already
  near the edge of divergence.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from ._checks import check_choice, check_int, check_number

__all__ = ["RangeTest", "lr_range_test", "suggest_lr"]

Rule = Literal["valley", "steepest", "minimum"]
_RULES = ("valley", "steepest", "minimum")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RangeTest:
    """What :func:`lr_range_test` measured: one entry per batch trained."""

    lrs: FloatArray  #: the learning rate of each batch
    losses: FloatArray  #: the loss of each batch, before its step
    smoothed: FloatArray  #: the bias-corrected moving average of ``losses``
    diverged: bool  #: whether the sweep stopped early because the loss blew up
    suggestion: float  #: the suggested learning rate, by ``rule``
    rule: str  #: the rule of :func:`suggest_lr` that made the suggestion


def suggest_lr(
    lrs: Sequence[float] | FloatArray, smoothed: Sequence[float] | FloatArray, rule: Rule = "valley"
) -> float:
    """A learning rate read off a range test's smoothed loss curve; see the module docstring for the rules.

    Examples
    --------
    >>> lrs = np.geomspace(1e-4, 1.0, 9)
    >>> loss = np.array([2.0, 1.98, 1.9, 1.6, 1.1, 0.8, 0.75, 1.5, 9.0])
    >>> suggest_lr(lrs, loss), suggest_lr(lrs, loss, "steepest"), suggest_lr(lrs, loss, "minimum")
    (0.0031622776601683794, 0.01, 0.01)
    """
    check_choice(rule, "rule", _RULES)
    x, y = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 3:
        raise ValueError(f"lrs and smoothed must be 1-D of the same length >= 3, got shapes {x.shape} and {y.shape}")
    if rule == "minimum":
        return float(x[np.nanargmin(y)] / 10)
    if rule == "steepest":
        slope = np.gradient(y, np.log(x))
        return float(x[np.nanargmin(slope)])
    # valley: the longest decreasing subsequence ending at each point; its stretch counts as long as its
    # number of points (as fastai counts it), so a descent through a noisy plateau, with gaps, starts late
    length = np.ones(y.size, dtype=np.int64)
    for i in range(1, y.size):
        higher = np.flatnonzero(y[:i] > y[i])
        if higher.size:
            length[i] = length[higher].max() + 1
    end = int(np.argmax(length))
    start = end - int(length[end]) + 1
    return float(x[(start + end) // 2])


def _rng_state() -> tuple[torch.Tensor, list[torch.Tensor]]:
    return torch.get_rng_state(), (torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [])


def lr_range_test(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
    rule: Rule = "valley",
    device: torch.device | str | None = None,
) -> RangeTest:
    """Run the learning-rate range test and put the model and optimizer back as they were.

    Parameters
    ----------
    model, loss_fn, optimizer:
        What the real training uses: ``loss_fn(model(inputs), targets)`` is a scalar and
        ``optimizer`` updates ``model``'s parameters. Every parameter group gets the same rate.
    loader:
        Batches ``(inputs, targets)``; it is iterated again from the start when it runs out before
        ``num_steps`` batches.
    start_lr, end_lr, num_steps:
        The sweep: ``num_steps`` rates spaced geometrically from ``start_lr`` to ``end_lr``.
    smoothing:
        :math:`\\beta` of the moving average, in [0, 1).
    diverge_factor:
        Stop once the smoothed loss exceeds this many times its minimum so far.
    rule:
        How :func:`suggest_lr` picks the suggestion.
    device:
        Where the batches go; by default the device of the model's first parameter.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> x = torch.randn(256, 3); y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(256)
    >>> data = [(x[i:i + 32], y[i:i + 32, None]) for i in range(0, 256, 32)]
    >>> net = torch.nn.Linear(3, 1); before = net.weight.detach().clone()
    >>> result = lr_range_test(net, torch.nn.functional.mse_loss, torch.optim.SGD(net.parameters(), lr=0.1), data,
    ...                        start_lr=1e-4, end_lr=10.0, num_steps=60)
    >>> result.diverged, 0.01 < result.suggestion < 1.0, torch.equal(net.weight, before)
    (True, True, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    start_lr = check_number(start_lr, "start_lr")
    end_lr = check_number(end_lr, "end_lr")
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    num_steps = check_int(num_steps, "num_steps", low=3)
    beta = check_number(smoothing, "smoothing")
    if not 0 <= beta < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {beta}")
    diverge_factor = check_number(diverge_factor, "diverge_factor")
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor}")
    check_choice(rule, "rule", _RULES)
    first = next(iter(model.parameters()), None)
    dev = torch.device(device) if device is not None else (first.device if first is not None else torch.device("cpu"))

    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())  # state_dict() holds references to live tensors
    saved_mode = {name: m.training for name, m in model.named_modules()}
    saved_rng = _rng_state()

    rates = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, diverged = 0.0, math.inf, False
    model.train()
    try:
        batches = iter(loader)
        for k, lr in enumerate(rates):
            try:
                inputs, targets = next(batches)
            except StopIteration:
                batches = iter(loader)
                inputs, targets = next(batches)
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            loss = loss_fn(model(inputs.to(dev)), targets.to(dev))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            losses.append(value)
            average = beta * average + (1 - beta) * value
            smooth = average / (1 - beta ** (k + 1))
            smoothed.append(smooth)
            best = min(best, smooth)
            if not math.isfinite(smooth) or (k > 0 and smooth > diverge_factor * best):
                diverged = True
                break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        optimizer.zero_grad(set_to_none=True)
        for name, m in model.named_modules():
            m.train(saved_mode[name])
        torch.set_rng_state(saved_rng[0])
        if saved_rng[1]:
            torch.cuda.set_rng_state_all(saved_rng[1])

    n = len(losses)
    if n < 3:
        raise ValueError(
            f"the loss diverged after {n} batches: start the sweep lower (start_lr={start_lr}) or use more steps"
        )
    # the point that tripped the divergence test is left out of the reading
    used = n - 1 if diverged else n
    lrs_used, smooth_used = rates[:n], np.array(smoothed)
    suggestion = suggest_lr(lrs_used[:used], smooth_used[:used], rule) if used >= 3 else float(lrs_used[0])
    return RangeTest(lrs_used.astype(np.float64), np.array(losses), smooth_used, diverged, suggestion, rule)
