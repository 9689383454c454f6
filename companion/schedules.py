"""Learning-rate schedules: the curve any torch scheduler follows, and closed forms of the common ones.

A learning-rate scheduler in PyTorch changes ``param_group["lr"]`` each time its
``step()`` is called. Whether ``step()`` is called once per epoch or once per
batch is up to the training loop, so every function here counts *calls*: the
value at ``step`` :math:`t` is the learning rate that the optimizer uses after
the scheduler has been stepped :math:`t` times (:math:`t = 0` is the rate right
after the scheduler was built).

* :func:`lr_curve` records that sequence for any ``torch.optim.lr_scheduler``
  object, on a dummy optimizer, so any scheduler can be plotted.
* :func:`step_lr`, :func:`multistep_lr`, :func:`exponential_lr`,
  :func:`cosine_annealing_lr`, :func:`cosine_warm_restarts_lr`,
  :func:`linear_lr`, :func:`polynomial_lr`, :func:`cyclic_lr` and
  :func:`one_cycle_lr` give the same sequence as the torch scheduler of the
  same name, computed from a formula instead of by stepping.
* :func:`warmup_cosine` is the linear warm-up followed by cosine decay that
  much of current practice uses; :func:`warmup_cosine_scheduler` builds the
  equivalent torch scheduler from ``LambdaLR``, ``CosineAnnealingLR`` and
  ``SequentialLR``.

Every closed form accepts an ``int`` step (and returns a ``float``) or an
integer array of steps (and returns a ``float64`` array).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np
import torch

from ._checks import check_number

__all__ = [
    "cosine_annealing_lr",
    "cosine_warm_restarts_lr",
    "cyclic_lr",
    "exponential_lr",
    "linear_lr",
    "lr_curve",
    "multistep_lr",
    "one_cycle_lr",
    "polynomial_lr",
    "step_lr",
    "warmup_cosine",
    "warmup_cosine_scheduler",
]

Steps = Union[int, np.ndarray, Sequence[int]]
Scheduler = Any  # torch.optim.lr_scheduler.LRScheduler, including ReduceLROnPlateau


# ---------------------------------------------------------------------------
# argument checks


def _positive(value: object, name: str) -> float:
    value = check_number(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _non_negative(value: object, name: str) -> float:
    return check_number(value, name, low=0.0)


def _integer(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def _elementwise(fn: Callable[..., float]) -> Callable[..., Any]:
    """Let a closed form that takes one ``int`` step also take an integer array of steps."""

    @functools.wraps(fn)
    def wrapper(step: Steps, *args: Any, **kwargs: Any) -> Any:
        if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
            return fn(_integer(step, "step", 0), *args, **kwargs)
        if isinstance(step, bool) or isinstance(step, (float, np.floating)):
            raise TypeError(f"step must be an int or an integer array, got {type(step).__name__}")
        steps = np.asarray(step)
        if steps.dtype.kind not in "iu":
            raise TypeError(f"step must be an int or an integer array, got an array of dtype {steps.dtype}")
        if steps.size and steps.min() < 0:
            raise ValueError(f"step must be >= 0, got {steps.min()}")
        flat = [fn(int(s), *args, **kwargs) for s in steps.ravel()]
        return np.array(flat, dtype=np.float64).reshape(steps.shape)

    return wrapper


# ---------------------------------------------------------------------------
# recording any scheduler


def lr_curve(
    make_scheduler: Callable[[torch.optim.Optimizer], Scheduler],
    steps: int,
    base_lr: float = 0.1,
    *,
    metrics: Sequence[float] | None = None,
) -> np.ndarray:
    """Record the learning rate a torch scheduler sets, step by step.

    Builds a dummy optimizer (``torch.optim.SGD`` with ``momentum=0.9``, so
    that schedulers that cycle momentum work too) on one parameter, passes it
    to ``make_scheduler``, and records the learning rate of the first
    parameter group that each of ``steps`` optimizer steps uses. Between two
    of them it calls ``optimizer.step()`` and then ``scheduler.step()``, in the
    order PyTorch expects: ``steps - 1`` scheduler steps in all, so a
    ``OneCycleLR`` with ``total_steps=T`` can be recorded up to ``steps=T + 1``.

    Parameters
    ----------
    make_scheduler:
        A function of the optimizer that returns the scheduler, for example
        ``lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3)``.
    steps:
        Number of values to record, ``>= 1``.
    base_lr:
        The optimizer's learning rate before the scheduler is built.
    metrics:
        For ``ReduceLROnPlateau``: the monitored values, ``steps - 1`` of
        them; ``metrics[t]`` is passed to the ``scheduler.step(metric)`` call
        that follows step ``t`` (for example the validation loss of epoch
        ``t``).

    Returns
    -------
    numpy.ndarray
        ``float64`` array of length ``steps``: element ``t`` is the learning
        rate after ``t`` calls to ``scheduler.step()``.

    Examples
    --------
    >>> import torch
    >>> lr_curve(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), 5, base_lr=1.0)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """
    if not callable(make_scheduler):
        raise TypeError(f"make_scheduler must be callable, got {type(make_scheduler).__name__}")
    steps = _integer(steps, "steps", 1)
    base_lr = _positive(base_lr, "base_lr")
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau
    if metrics is not None:
        metrics = [check_number(m, "metrics[i]") for m in metrics]
        if len(metrics) != steps - 1:
            raise ValueError(
                f"metrics must hold steps - 1 = {steps - 1} values (one per scheduler step), got {len(metrics)}"
            )
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    if getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError("make_scheduler must return a scheduler built on the optimizer it is given")
    if isinstance(scheduler, plateau) and metrics is None:
        raise ValueError("ReduceLROnPlateau needs metrics: one monitored value per step")
    curve = np.empty(steps, dtype=np.float64)
    for t in range(steps):
        curve[t] = float(optimizer.param_groups[0]["lr"])
        if t == steps - 1:
            break
        optimizer.step()  # no gradient: the parameter does not move, but torch sees the call order
        if metrics is not None:
            scheduler.step(metrics[t])
        else:
            scheduler.step()
    return curve


# ---------------------------------------------------------------------------
# closed forms


@_elementwise
def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    r"""``StepLR``: multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    Examples
    --------
    >>> step_lr(np.arange(6), 1.0, step_size=2, gamma=0.5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25, 0.25])
    """
    base_lr = _positive(base_lr, "base_lr")
    step_size = _integer(step_size, "step_size", 1)
    gamma = _positive(gamma, "gamma")
    return base_lr * gamma ** (step // step_size)


@_elementwise
def multistep_lr(step: int, base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> float:
    r"""``MultiStepLR``: multiply by ``gamma`` at each milestone.

    .. math:: \eta_t = \eta_0\, \gamma^{\#\{m_i \le t\}}

    ``milestones`` must be strictly increasing positive ints.

    Examples
    --------
    >>> multistep_lr(np.arange(6), 1.0, milestones=[2, 4], gamma=0.1)
    array([1.  , 1.  , 0.1 , 0.1 , 0.01, 0.01])
    """
    base_lr = _positive(base_lr, "base_lr")
    gamma = _positive(gamma, "gamma")
    ms = [_integer(m, "milestones[i]", 1) for m in milestones]
    if any(b <= a for a, b in zip(ms, ms[1:])):
        raise ValueError(f"milestones must be strictly increasing, got {list(milestones)}")
    return base_lr * gamma ** sum(m <= step for m in ms)


@_elementwise
def exponential_lr(step: int, base_lr: float, gamma: float) -> float:
    r"""``ExponentialLR``: multiply by ``gamma`` every step.

    .. math:: \eta_t = \eta_0\, \gamma^{t}

    Examples
    --------
    >>> exponential_lr(np.arange(4), 1.0, gamma=0.5)
    array([1.   , 0.5  , 0.25 , 0.125])
    """
    base_lr = _positive(base_lr, "base_lr")
    gamma = _positive(gamma, "gamma")
    return base_lr * gamma**step


def _cos_half(num: int, den: int) -> float:
    r""":math:`\tfrac12 (1 + \cos \pi f)` for :math:`f = \text{num}/\text{den}`, accurate to the last bits.

    Written as :math:`\cos^2(\pi f/2)`, or :math:`\sin^2(\pi (1 - f)/2)` on the
    second half, with :math:`1 - f` formed from integers: no cancellation near
    :math:`f = 1`, and exactly 0 there. The function has period 2 in :math:`f`.
    """
    m = num % (2 * den)
    if m > den:
        m = 2 * den - m
    if 2 * m <= den:
        return math.cos(math.pi * m / (2 * den)) ** 2
    return math.sin(math.pi * (den - m) / (2 * den)) ** 2


@_elementwise
def cosine_annealing_lr(step: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    r"""``CosineAnnealingLR``: half a cosine from ``base_lr`` down to ``eta_min`` in ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\big(1 + \cos(\pi t / T_{\max})\big)

    Past ``T_max`` the formula, like torch's scheduler, follows the cosine back
    up (it has period :math:`2T_{\max}`); it does not stay at ``eta_min``.

    Examples
    --------
    >>> cosine_annealing_lr(np.arange(5), 1.0, T_max=4)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        ])
    """
    base_lr = _positive(base_lr, "base_lr")
    T_max = _integer(T_max, "T_max", 1)
    eta_min = _non_negative(eta_min, "eta_min")
    return eta_min + (base_lr - eta_min) * _cos_half(step, T_max)


@_elementwise
def cosine_warm_restarts_lr(step: int, base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> float:
    r"""``CosineAnnealingWarmRestarts`` (SGDR): cosine annealing restarted every :math:`T_i` steps.

    .. math::
        \eta_t = \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\big(1 + \cos(\pi T_{\mathrm{cur}} / T_i)\big)

    where :math:`T_{\mathrm{cur}}` counts the steps since the last restart and
    the cycle length starts at :math:`T_0` and is multiplied by ``T_mult``
    after each restart.

    Examples
    --------
    >>> cosine_warm_restarts_lr(np.arange(7), 1.0, T_0=2, T_mult=2)
    array([1.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 1.        ])
    """
    base_lr = _positive(base_lr, "base_lr")
    T_0 = _integer(T_0, "T_0", 1)
    T_mult = _integer(T_mult, "T_mult", 1)
    eta_min = _non_negative(eta_min, "eta_min")
    t_cur, t_i = step, T_0
    if T_mult == 1:
        t_cur = step % T_0
    else:
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
    return eta_min + (base_lr - eta_min) * _cos_half(t_cur, t_i)


@_elementwise
def linear_lr(
    step: int, base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> float:
    r"""``LinearLR``: the factor moves linearly from ``start_factor`` to ``end_factor`` in ``total_iters`` steps.

    .. math:: \eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)

    Examples
    --------
    >>> linear_lr(np.arange(6), 1.0, start_factor=0.25, end_factor=1.0, total_iters=3)
    array([0.25, 0.5 , 0.75, 1.  , 1.  , 1.  ])
    """
    base_lr = _positive(base_lr, "base_lr")
    start_factor = check_number(start_factor, "start_factor")
    end_factor = check_number(end_factor, "end_factor")
    if not 0 < start_factor <= 1:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
    if not 0 <= end_factor <= 1:
        raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
    total_iters = _integer(total_iters, "total_iters", 1)
    return base_lr * (start_factor + (end_factor - start_factor) * min(step, total_iters) / total_iters)


@_elementwise
def polynomial_lr(step: int, base_lr: float, total_iters: int = 5, power: float = 1.0) -> float:
    r"""``PolynomialLR``: decay to zero in ``total_iters`` steps along a power of the remaining fraction.

    .. math:: \eta_t = \eta_0 \Big(1 - \frac{\min(t, T)}{T}\Big)^{p}

    Examples
    --------
    >>> polynomial_lr(np.arange(5), 1.0, total_iters=4, power=2.0)
    array([1.    , 0.5625, 0.25  , 0.0625, 0.    ])
    """
    base_lr = _positive(base_lr, "base_lr")
    total_iters = _integer(total_iters, "total_iters", 1)
    power = _positive(power, "power")
    return base_lr * (1.0 - min(step, total_iters) / total_iters) ** power


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


@_elementwise
def cyclic_lr(
    step: int,
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> float:
    r"""``CyclicLR``: a triangle wave between ``base_lr`` and ``max_lr`` (Smith's cyclical learning rates).

    With cycle length :math:`L = u + d` (steps up plus steps down), the position
    in the cycle :math:`x = t/L - \lfloor t/L \rfloor` gives the height

    .. math::
        h = \begin{cases} x L / u & x \le u/L \\ (1 - x) L / d & \text{otherwise} \end{cases},
        \qquad \eta_t = \eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\, h\, s,

    with :math:`s = 1` for ``'triangular'``, :math:`s = 2^{-(c - 1)}` in cycle
    :math:`c = 1, 2, \dots` for ``'triangular2'`` and :math:`s = \gamma^t` for
    ``'exp_range'``.

    Examples
    --------
    >>> cyclic_lr(np.arange(7), 0.1, 0.5, step_size_up=2)
    array([0.1, 0.3, 0.5, 0.3, 0.1, 0.3, 0.5])
    """
    base_lr = _positive(base_lr, "base_lr")
    max_lr = _positive(max_lr, "max_lr")
    if max_lr < base_lr:
        raise ValueError(f"max_lr must be >= base_lr, got max_lr={max_lr} < base_lr={base_lr}")
    up = float(_integer(step_size_up, "step_size_up", 1))
    down = up if step_size_down is None else float(_integer(step_size_down, "step_size_down", 1))
    if mode not in _CYCLIC_MODES:
        raise ValueError(f"mode must be one of {_CYCLIC_MODES}, got {mode!r}")
    gamma = _positive(gamma, "gamma")
    # the same arithmetic as torch.optim.lr_scheduler.CyclicLR.get_lr
    total = up + down
    ratio = up / total
    cycle = math.floor(1 + step / total)
    x = 1.0 + step / total - cycle
    height = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / (2.0 ** (cycle - 1))
    else:
        scale = gamma**step
    return base_lr + (max_lr - base_lr) * height * scale


@_elementwise
def one_cycle_lr(
    step: int,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float:
    r"""``OneCycleLR``: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal far below the start.

    The rate starts at :math:`\eta_{\text{init}} = \eta_{\max}/\text{div\_factor}`,
    rises to :math:`\eta_{\max}` at step :math:`pT - 1` (:math:`p` =
    ``pct_start``, :math:`T` = ``total_steps``) and falls to
    :math:`\eta_{\text{init}}/\text{final\_div\_factor}` at step :math:`T - 1`.
    Within each phase, from :math:`a` at step :math:`s_0` to :math:`b` at step
    :math:`s_1`, with :math:`f = (t - s_0)/(s_1 - s_0)`,

    .. math::
        \eta_t = b + (a - b)\,\tfrac12\big(1 + \cos \pi f\big) \quad\text{('cos')},
        \qquad \eta_t = a + (b - a) f \quad\text{('linear')}.

    With ``three_phase=True`` the rate comes back down to
    :math:`\eta_{\text{init}}` symmetrically by step :math:`2pT - 2`, and a
    third phase anneals it to the minimum. Steps ``0`` to ``total_steps`` are
    defined (torch raises beyond).

    Examples
    --------
    >>> one_cycle_lr(np.arange(5), 1.0, total_steps=5, pct_start=0.6, anneal_strategy="linear", div_factor=10.0)
    array([1.00000e-01, 5.50000e-01, 1.00000e+00, 5.00005e-01, 1.00000e-05])
    """
    max_lr = _positive(max_lr, "max_lr")
    total_steps = _integer(total_steps, "total_steps", 2)
    pct_start = check_number(pct_start, "pct_start")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
    div_factor = _positive(div_factor, "div_factor")
    final_div_factor = _positive(final_div_factor, "final_div_factor")
    if step > total_steps:
        raise ValueError(f"step must be <= total_steps ({total_steps}), got {step}")
    initial = max_lr / div_factor
    minimum = initial / final_div_factor
    # phase boundaries and end points, exactly as torch.optim.lr_scheduler.OneCycleLR defines them
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial),
            (total_steps - 1, initial, minimum),
        ]
    else:
        phases = [(float(pct_start * total_steps) - 1, initial, max_lr), (total_steps - 1, max_lr, minimum)]
    ends = [0.0] + [end for end, _, _ in phases]
    if any(b <= a for a, b in zip(ends, ends[1:])):
        raise ValueError(
            f"pct_start={pct_start} leaves a phase of the cycle without steps for total_steps={total_steps}: "
            "need 1 < pct_start * total_steps and a later phase end for each phase"
        )
    start = 0.0
    for i, (end, a, b) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            frac = (step - start) / (end - start)
            if anneal_strategy == "cos":
                return b + (a - b) / 2.0 * (math.cos(math.pi * frac) + 1)
            return (b - a) * frac + a
        start = end
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------
# warm-up followed by cosine decay


def _check_warmup(total: int, warmup: int, base_lr: float, min_lr: float) -> tuple[int, int, float, float]:
    total = _integer(total, "total", 1)
    warmup = _integer(warmup, "warmup", 0)
    if warmup >= total:
        raise ValueError(f"warmup must be < total, got warmup={warmup}, total={total}")
    base_lr = _positive(base_lr, "base_lr")
    min_lr = _non_negative(min_lr, "min_lr")
    if min_lr > base_lr:
        raise ValueError(f"min_lr must be <= base_lr, got min_lr={min_lr} > base_lr={base_lr}")
    return total, warmup, base_lr, min_lr


@_elementwise
def warmup_cosine(step: int, total: int, warmup: int, base_lr: float, min_lr: float = 0.0) -> float:
    r"""Linear warm-up for ``warmup`` steps, then cosine decay to ``min_lr`` at step ``total``.

    .. math::
        \eta_t = \begin{cases}
            \eta_0\, t / W & t < W \\
            \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\Big(1 + \cos\dfrac{\pi (t - W)}{N - W}\Big) & W \le t \le N \\
            \eta_{\min} & t > N
        \end{cases}

    with :math:`W` = ``warmup`` and :math:`N` = ``total``. The first step
    (:math:`t = 0`) has rate 0 when ``warmup > 0``: it is spent on the
    optimizer's statistics (Adam's moment estimates) without moving the
    weights. :func:`warmup_cosine_scheduler` builds the same schedule from torch
    schedulers.

    Examples
    --------
    >>> warmup_cosine(np.arange(7), total=6, warmup=2, base_lr=1.0)
    array([0.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """
    total, warmup, base_lr, min_lr = _check_warmup(total, warmup, base_lr, min_lr)
    if step < warmup:
        return base_lr * step / warmup
    if step >= total:
        return min_lr
    return min_lr + (base_lr - min_lr) * _cos_half(step - warmup, total - warmup)


def warmup_cosine_scheduler(
    optimizer: torch.optim.Optimizer, total: int, warmup: int, min_lr: float = 0.0
) -> torch.optim.lr_scheduler.LRScheduler:
    """The torch scheduler that follows :func:`warmup_cosine` for steps ``0`` to ``total``.

    ``SequentialLR`` runs ``LambdaLR`` (factor ``t / warmup``) for the first
    ``warmup`` steps and then ``CosineAnnealingLR`` with ``T_max = total -
    warmup``. The optimizer's current learning rate is the peak ``base_lr``.
    Past ``total`` the torch scheduler follows the cosine back up, while
    :func:`warmup_cosine` stays at ``min_lr``: stop stepping at ``total``.

    Examples
    --------
    >>> import torch
    >>> lr_curve(lambda opt: warmup_cosine_scheduler(opt, total=6, warmup=2), 7, base_lr=1.0).round(8)
    array([0.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    base_lr = float(optimizer.param_groups[0]["lr"])
    total, warmup, _, min_lr = _check_warmup(total, warmup, base_lr, min_lr)
    sched = torch.optim.lr_scheduler
    cosine = sched.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=min_lr)
    if warmup == 0:
        return cosine
    ramp = sched.LambdaLR(optimizer, lambda t: t / warmup)
    return sched.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])
