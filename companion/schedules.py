"""Learning-rate schedules: the curve any torch scheduler follows, and a closed form for every one of them.

A learning-rate scheduler in PyTorch changes ``param_group["lr"]`` each time its
``step()`` is called. Whether ``step()`` is called once per epoch or once per
batch is up to the training loop, so every function here counts *calls*: the
value at ``step`` :math:`t` is the learning rate that the optimizer uses after
the scheduler has been stepped :math:`t` times (:math:`t = 0` is the rate right
after the scheduler was built).

* :func:`lr_curve` records that sequence for any ``torch.optim.lr_scheduler``
  object, on a dummy optimizer, so any scheduler can be plotted.
* A *factory* per scheduler (``step_lr_schedule``, ``cosine_annealing_lr_schedule``,
  ...) checks its arguments once and returns a :class:`Schedule`: a function of
  the step that takes an ``int`` (and returns a ``float``) or an integer array of
  any shape (and returns a ``float64`` array), evaluated with array arithmetic,
  no Python loop over the steps. Every factory takes ``base_lr`` first (the
  optimizer's rate when the scheduler is built; ``max_lr`` for ``OneCycleLR``)
  and then the torch scheduler's own argument names, defaults and order.
* The closed forms of the same names without ``_schedule`` (``step_lr(step,
  base_lr, ...)``) are the one-line form ``step_lr_schedule(base_lr, ...)(step)``.
* Composition as torch composes schedulers: :func:`sequential_schedule`
  (``SequentialLR``) and :func:`chained_schedule` (``ChainedScheduler``).
* The history-dependent ones: :func:`lambda_lr` and :func:`multiplicative_lr`
  from a user function, :class:`ReduceLROnPlateau` and
  :func:`reduce_lr_on_plateau` driven by a sequence of metric values, and
  :func:`swa_lr` for ``torch.optim.swa_utils.SWALR``.
* :func:`warmup_cosine` is the linear warm-up followed by cosine decay that
  much of current practice uses; :func:`warmup_cosine_scheduler` builds the
  equivalent torch scheduler from ``LambdaLR``, ``CosineAnnealingLR`` and
  ``SequentialLR``.
* :data:`COUNTERPARTS` maps every scheduler class of ``torch.optim.lr_scheduler``
  (and ``SWALR``) to its counterpart here.

Huge steps are exact: powers :math:`\\gamma^k` are computed by ``numpy.power``
(one rounding, never an ``OverflowError``: a rate that exceeds the largest
float is ``inf``, one that falls below the smallest is 0), and cycle positions
by integer arithmetic. Torch's recursive ``step()`` multiplies the previous
rate, reaching the same ``inf`` or 0; its closed form (``step(epoch)``, and
``_get_closed_form_lr``) evaluates ``gamma ** k`` with Python floats and raises
``OverflowError`` once it would exceed about 1.8e308. Steps must be below
:math:`2^{63}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, cast, overload

import numpy as np
import numpy.typing as npt
import torch

from ._checks import check_bool, check_int, check_number

__all__ = [
    "COUNTERPARTS",
    "ReduceLROnPlateau",
    "Schedule",
    "chained_schedule",
    "constant_lr",
    "constant_lr_schedule",
    "cosine_annealing_lr",
    "cosine_annealing_lr_schedule",
    "cosine_warm_restarts_lr",
    "cosine_warm_restarts_lr_schedule",
    "cyclic_lr",
    "cyclic_lr_schedule",
    "exponential_lr",
    "exponential_lr_schedule",
    "lambda_lr",
    "lambda_lr_schedule",
    "linear_lr",
    "linear_lr_schedule",
    "lr_curve",
    "multiplicative_lr",
    "multiplicative_lr_schedule",
    "multistep_lr",
    "multistep_lr_schedule",
    "one_cycle_lr",
    "one_cycle_lr_schedule",
    "polynomial_lr",
    "polynomial_lr_schedule",
    "reduce_lr_on_plateau",
    "sequential_schedule",
    "step_lr",
    "step_lr_schedule",
    "swa_lr",
    "swa_lr_schedule",
    "warmup_cosine",
    "warmup_cosine_schedule",
    "warmup_cosine_scheduler",
]

Steps = int | np.integer | npt.ArrayLike
Scheduler = torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau
Numbers = npt.NDArray[np.int64] | npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


# ---------------------------------------------------------------------------
# argument checks


def _positive(value: object, name: str) -> float:
    return check_number(value, name, above=0.0)


def _non_negative(value: object, name: str) -> float:
    return check_number(value, name, low=0.0)


def _integer(value: object, name: str, minimum: int) -> int:
    return check_int(value, name, low=minimum)


def _steps(step: object) -> IntArray | int:
    """``step`` as an ``int`` (a scalar call) or an ``int64`` array, checked: integers >= 0."""
    if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
        return _integer(step, "step", 0)
    if isinstance(step, (bool, np.bool_, float, np.floating)):
        raise TypeError(f"step must be an int or an integer array, got {type(step).__name__}")
    steps = np.asarray(step)
    if steps.dtype.kind not in "iu":
        raise TypeError(f"step must be an int or an integer array, got an array of dtype {steps.dtype}")
    if steps.size and steps.min() < 0:
        raise ValueError(f"step must be >= 0, got {steps.min()}")
    if steps.dtype == np.uint64 and steps.size and steps.max() >= 2**63:
        raise ValueError("step must be < 2**63")
    return steps.astype(np.int64, copy=False)


class Schedule:
    """A learning-rate schedule with its arguments checked: ``schedule(step)`` is the rate after ``step`` steps.

    Built by the ``..._schedule`` factories of this module. Call it with an
    ``int`` for a ``float``, or with an integer array of any shape for a
    ``float64`` array of that shape. ``base_lr`` is the rate the schedule
    scales (the optimizer's ``initial_lr``), used by :func:`chained_schedule`.

    Examples
    --------
    >>> sched = step_lr_schedule(1.0, step_size=2, gamma=0.5)
    >>> sched(3), sched(np.arange(5))
    (0.5, array([1.  , 1.  , 0.5 , 0.5 , 0.25]))
    """

    def __init__(
        self,
        formula: Callable[[np.ndarray], np.ndarray],
        base_lr: float,
        name: str,
        continuation: Callable[[float, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self._formula = formula
        self.base_lr = base_lr
        self.name = name
        # how the schedule goes on from a previous rate when SequentialLR hands over to it (MultiplicativeLR)
        self.continuation = continuation

    @overload
    def __call__(self, step: int | np.integer) -> float: ...

    @overload
    def __call__(self, step: npt.ArrayLike) -> FloatArray: ...

    def __call__(self, step: Steps) -> float | FloatArray:
        steps = _steps(step)
        if isinstance(steps, int):
            return float(self._formula(np.array([steps], dtype=np.int64))[0])
        return np.asarray(self._formula(steps.ravel()), dtype=np.float64).reshape(steps.shape)

    def __repr__(self) -> str:
        return f"<Schedule {self.name}>"


def _power(gamma: float, k: IntArray) -> FloatArray:
    """:math:`\\gamma^k`, correctly overflowing to ``inf`` or underflowing to 0 without a warning."""
    with np.errstate(over="ignore", under="ignore"):
        return np.power(gamma, k.astype(np.float64))


def _scale(base_lr: float, factor: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return base_lr * factor


def _cos_half(num: Numbers, den: Numbers | int) -> FloatArray:
    r""":math:`\tfrac12 (1 + \cos \pi f)` for :math:`f = \text{num}/\text{den}`, accurate to the last bits.

    Written as :math:`\cos^2(\pi f/2)`, or :math:`\sin^2(\pi (1 - f)/2)` on the
    second half, with :math:`1 - f` formed from integers: no cancellation near
    :math:`f = 1`, and exactly 0 there. The function has period 2 in :math:`f`,
    and the period is taken in integers, so a huge step is as exact as a small one.
    """
    m = np.mod(num, 2 * np.asarray(den))
    m = np.where(m > den, 2 * np.asarray(den) - m, m)
    first = np.cos(np.pi * m / (2 * np.asarray(den, dtype=np.float64))) ** 2
    second = np.sin(np.pi * (den - m) / (2 * np.asarray(den, dtype=np.float64))) ** 2
    out: FloatArray = np.where(2 * m <= den, first, second)
    return out


# ---------------------------------------------------------------------------
# factories and closed forms of the stateless schedulers


def step_lr_schedule(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""``StepLR``: multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    Examples
    --------
    >>> step_lr_schedule(1.0, step_size=2, gamma=0.5)(np.arange(6))
    array([1.  , 1.  , 0.5 , 0.5 , 0.25, 0.25])
    >>> step_lr_schedule(1.0, step_size=1, gamma=2.0)(10**6)  # torch's closed form raises OverflowError
    inf
    """
    base_lr = _positive(base_lr, "base_lr")
    step_size = _integer(step_size, "step_size", 1)
    gamma = _positive(gamma, "gamma")
    return Schedule(lambda t: _scale(base_lr, _power(gamma, t // step_size)), base_lr, "StepLR")


def multistep_lr_schedule(base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""``MultiStepLR``: multiply by ``gamma`` at each milestone.

    .. math:: \eta_t = \eta_0\, \gamma^{\#\{m_i \le t\}}

    ``milestones`` must be strictly increasing positive ints; the count is a
    binary search, so a thousand milestones cost no more than two.

    Examples
    --------
    >>> multistep_lr_schedule(1.0, milestones=[2, 4], gamma=0.1)(np.arange(6))
    array([1.  , 1.  , 0.1 , 0.1 , 0.01, 0.01])
    """
    base_lr = _positive(base_lr, "base_lr")
    gamma = _positive(gamma, "gamma")
    ms = [_integer(m, "milestones[i]", 1) for m in milestones]
    if any(b <= a for a, b in zip(ms, ms[1:], strict=False)):
        raise ValueError(f"milestones must be strictly increasing, got {list(milestones)}")
    points = np.array(ms, dtype=np.int64)
    return Schedule(
        lambda t: _scale(base_lr, _power(gamma, np.searchsorted(points, t, side="right"))),
        base_lr,
        "MultiStepLR",
    )


def exponential_lr_schedule(base_lr: float, gamma: float) -> Schedule:
    r"""``ExponentialLR``: multiply by ``gamma`` every step.

    .. math:: \eta_t = \eta_0\, \gamma^{t}

    Examples
    --------
    >>> exponential_lr_schedule(1.0, gamma=0.5)(np.arange(4))
    array([1.   , 0.5  , 0.25 , 0.125])
    """
    base_lr = _positive(base_lr, "base_lr")
    gamma = _positive(gamma, "gamma")
    return Schedule(lambda t: _scale(base_lr, _power(gamma, t)), base_lr, "ExponentialLR")


def constant_lr_schedule(base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    r"""``ConstantLR``: ``factor`` times the rate for the first ``total_iters`` steps, then the rate itself.

    .. math:: \eta_t = \begin{cases} \eta_0 f & t < T \\ \eta_0 & t \ge T \end{cases}

    With ``total_iters=0`` torch applies the factor at step 0 and never
    restores the rate (its check for the end is ``last_epoch == total_iters``,
    which passed before the factor went on); so does this closed form.

    Examples
    --------
    >>> constant_lr_schedule(1.0, factor=0.5, total_iters=2)(np.arange(4))
    array([0.5, 0.5, 1. , 1. ])
    """
    base_lr = _positive(base_lr, "base_lr")
    factor = check_number(factor, "factor")
    if not 0 <= factor <= 1:
        raise ValueError(f"factor must be in [0, 1], got {factor}")
    total_iters = _integer(total_iters, "total_iters", 0)
    # torch restores the rate when the step count *equals* total_iters, after the factor was applied at step 0:
    # with total_iters=0 both happen at step 0, the factor wins, and the rate is never restored
    end = total_iters if total_iters > 0 else np.iinfo(np.int64).max
    return Schedule(lambda t: np.where(t < end, base_lr * factor, base_lr), base_lr, "ConstantLR")


def cosine_annealing_lr_schedule(base_lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""``CosineAnnealingLR``: half a cosine from ``base_lr`` down to ``eta_min`` in ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\big(1 + \cos(\pi t / T_{\max})\big)

    Past ``T_max`` the formula, like torch's scheduler, follows the cosine back
    up (it has period :math:`2T_{\max}`); it does not stay at ``eta_min``.

    Examples
    --------
    >>> cosine_annealing_lr_schedule(1.0, T_max=4)(np.arange(5))
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        ])
    """
    base_lr = _positive(base_lr, "base_lr")
    T_max = _integer(T_max, "T_max", 1)
    eta_min = _non_negative(eta_min, "eta_min")
    return Schedule(lambda t: eta_min + (base_lr - eta_min) * _cos_half(t, T_max), base_lr, "CosineAnnealingLR")


def cosine_warm_restarts_lr_schedule(base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Schedule:
    r"""``CosineAnnealingWarmRestarts`` (SGDR): cosine annealing restarted every :math:`T_i` steps.

    .. math::
        \eta_t = \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\big(1 + \cos(\pi T_{\mathrm{cur}} / T_i)\big)

    where :math:`T_{\mathrm{cur}}` counts the steps since the last restart and
    the cycle length starts at :math:`T_0` and is multiplied by ``T_mult``
    after each restart. The restarts are found by a binary search over the
    cycle starts (a few dozen of them up to :math:`2^{63}`).

    Examples
    --------
    >>> cosine_warm_restarts_lr_schedule(1.0, T_0=2, T_mult=2)(np.arange(7))
    array([1.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 1.        ])
    """
    base_lr = _positive(base_lr, "base_lr")
    T_0 = _integer(T_0, "T_0", 1)
    T_mult = _integer(T_mult, "T_mult", 1)
    eta_min = _non_negative(eta_min, "eta_min")

    def formula(t: IntArray) -> FloatArray:
        if T_mult == 1:
            return eta_min + (base_lr - eta_min) * _cos_half(t % T_0, T_0)
        last = int(t.max()) if t.size else 0
        starts, lengths = [0], [T_0]
        while starts[-1] + lengths[-1] <= last:  # O(log t) cycles, in Python ints
            starts.append(starts[-1] + lengths[-1])
            lengths.append(lengths[-1] * T_mult)
        cycle = np.searchsorted(np.array(starts, dtype=np.int64), t, side="right") - 1
        big = lengths[-1] >= 2**62  # beyond int64's reach: lengths as floats
        length = cast(Numbers, np.array(lengths, dtype=np.float64 if big else np.int64)[cycle])
        return eta_min + (base_lr - eta_min) * _cos_half(t - np.array(starts, dtype=np.int64)[cycle], length)

    return Schedule(formula, base_lr, "CosineAnnealingWarmRestarts")


def linear_lr_schedule(
    base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    r"""``LinearLR``: the factor moves linearly from ``start_factor`` to ``end_factor`` in ``total_iters`` steps.

    .. math:: \eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)

    Examples
    --------
    >>> linear_lr_schedule(1.0, start_factor=0.25, end_factor=1.0, total_iters=3)(np.arange(6))
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
    return Schedule(
        lambda t: base_lr * (start_factor + (end_factor - start_factor) * np.minimum(t, total_iters) / total_iters),
        base_lr,
        "LinearLR",
    )


def polynomial_lr_schedule(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""``PolynomialLR``: decay to zero in ``total_iters`` steps along a power of the remaining fraction.

    .. math:: \eta_t = \eta_0 \Big(1 - \frac{\min(t, T)}{T}\Big)^{p}

    Examples
    --------
    >>> polynomial_lr_schedule(1.0, total_iters=4, power=2.0)(np.arange(5))
    array([1.    , 0.5625, 0.25  , 0.0625, 0.    ])
    """
    base_lr = _positive(base_lr, "base_lr")
    total_iters = _integer(total_iters, "total_iters", 1)
    power = _positive(power, "power")
    return Schedule(
        lambda t: base_lr * (1.0 - np.minimum(t, total_iters) / total_iters) ** power, base_lr, "PolynomialLR"
    )


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def cyclic_lr_schedule(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> Schedule:
    r"""``CyclicLR``: a triangle wave between ``base_lr`` and ``max_lr`` (Smith's cyclical learning rates).

    With cycle length :math:`L = u + d` (steps up plus steps down), the position
    in the cycle :math:`x = (t \bmod L)/L` gives the height

    .. math::
        h = \begin{cases} x L / u & x \le u/L \\ (1 - x) L / d & \text{otherwise} \end{cases},
        \qquad \eta_t = \eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\, h\, s,

    with :math:`s = 1` for ``'triangular'``, :math:`s = 2^{-(c - 1)}` in cycle
    :math:`c = 1, 2, \dots` for ``'triangular2'`` and :math:`s = \gamma^t` for
    ``'exp_range'``. Here ``base_lr`` is the bottom of the wave, as in torch
    (the optimizer's own rate is overwritten). The position is taken modulo
    :math:`L` in integers; torch forms :math:`1 + t/L - \lfloor 1 + t/L\rfloor`
    in floating point, which loses the position once :math:`t/L` nears
    :math:`2^{53}`.

    Examples
    --------
    >>> cyclic_lr_schedule(0.1, 0.5, step_size_up=2)(np.arange(7))
    array([0.1, 0.3, 0.5, 0.3, 0.1, 0.3, 0.5])
    """
    base_lr = _positive(base_lr, "base_lr")
    max_lr = _positive(max_lr, "max_lr")
    if max_lr < base_lr:
        raise ValueError(f"max_lr must be >= base_lr, got max_lr={max_lr} < base_lr={base_lr}")
    up = _integer(step_size_up, "step_size_up", 1)
    down = up if step_size_down is None else _integer(step_size_down, "step_size_down", 1)
    if mode not in _CYCLIC_MODES:
        raise ValueError(f"mode must be one of {_CYCLIC_MODES}, got {mode!r}")
    gamma = _positive(gamma, "gamma")
    total = up + down
    ratio = up / total

    def formula(t: IntArray) -> FloatArray:
        x = (t % total) / total
        height = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
        if mode == "triangular":
            scale: FloatArray | float = 1.0
        elif mode == "triangular2":
            scale = 1 / _power(2.0, t // total)
        else:
            scale = _power(gamma, t)
        return base_lr + (max_lr - base_lr) * height * scale

    return Schedule(formula, base_lr, "CyclicLR")


def one_cycle_lr_schedule(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
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
    defined (torch raises beyond). The first argument is ``max_lr``: the
    scheduler overwrites the optimizer's rate.

    Examples
    --------
    >>> sched = one_cycle_lr_schedule(1.0, total_steps=5, pct_start=0.6, anneal_strategy="linear", div_factor=10.0)
    >>> sched(np.arange(5))
    array([1.00000e-01, 5.50000e-01, 1.00000e+00, 5.00005e-01, 1.00000e-05])
    """
    max_lr = _positive(max_lr, "max_lr")
    total_steps = _integer(total_steps, "total_steps", 2)
    pct_start = check_number(pct_start, "pct_start")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
    div_factor = _positive(div_factor, "div_factor")
    final_div_factor = _positive(final_div_factor, "final_div_factor")
    three_phase = check_bool(three_phase, "three_phase")
    initial = max_lr / div_factor
    minimum = initial / final_div_factor
    # phase boundaries and end points, exactly as torch.optim.lr_scheduler.OneCycleLR defines them
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial),
            (float(total_steps - 1), initial, minimum),
        ]
    else:
        phases = [(float(pct_start * total_steps) - 1, initial, max_lr), (float(total_steps - 1), max_lr, minimum)]
    bounds = [0.0] + [end for end, _, _ in phases]
    if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(
            f"pct_start={pct_start} leaves a phase of the cycle without steps for total_steps={total_steps}: "
            "need 1 < pct_start * total_steps and a later phase end for each phase"
        )
    ends = np.array(bounds[1:])
    starts_ = np.array(bounds[:-1])
    lows, highs = np.array([a for _, a, _ in phases]), np.array([b for _, _, b in phases])

    def formula(t: IntArray) -> FloatArray:
        if t.size and t.max() > total_steps:
            raise ValueError(f"step must be <= total_steps ({total_steps}), got {t.max()}")
        # the first phase whose end is at or after the step; the last phase takes the rest
        i = np.minimum(np.searchsorted(ends, t, side="left"), len(phases) - 1)
        frac = (t - starts_[i]) / (ends[i] - starts_[i])
        a, b = lows[i], highs[i]
        out: FloatArray
        if anneal_strategy == "cos":
            out = b + (a - b) / 2.0 * (np.cos(np.pi * frac) + 1)
        else:
            out = (b - a) * frac + a
        return out

    return Schedule(formula, max_lr, "OneCycleLR")


def swa_lr_schedule(
    base_lr: float, swa_lr: float, anneal_epochs: int = 10, anneal_strategy: Literal["cos", "linear"] = "cos"
) -> Schedule:
    r"""``torch.optim.swa_utils.SWALR``: anneal from the optimizer's rate to ``swa_lr``, then hold it.

    .. math::
        \eta_t = (1 - a_t)\,\eta_0 + a_t\,\eta_{\text{swa}}, \qquad
        a_t = \begin{cases} \tfrac12\big(1 - \cos(\pi \tau)\big) & \text{'cos'} \\ \tau & \text{'linear'}\end{cases},
        \qquad \tau = \min(1, t / E)

    with :math:`E` = ``anneal_epochs``; with :math:`E = 0` the rate is
    :math:`\eta_{\text{swa}}` from the start. torch computes the same thing
    recursively: each step recovers :math:`\eta_0` from the previous rate and
    interpolates again.

    Examples
    --------
    >>> swa_lr_schedule(1.0, swa_lr=0.2, anneal_epochs=4, anneal_strategy="linear")(np.arange(6))
    array([1. , 0.8, 0.6, 0.4, 0.2, 0.2])
    """
    base_lr = _positive(base_lr, "base_lr")
    swa = _positive(swa_lr, "swa_lr")
    epochs = _integer(anneal_epochs, "anneal_epochs", 0)
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")

    def formula(t: IntArray) -> FloatArray:
        tau = np.ones(t.shape) if epochs == 0 else np.minimum(t / epochs, 1.0)
        a = (1 - np.cos(np.pi * tau)) / 2 if anneal_strategy == "cos" else tau
        return swa * a + base_lr * (1 - a)

    return Schedule(formula, base_lr, "SWALR")


# ---------------------------------------------------------------------------
# schedules from a user function


def lambda_lr_schedule(base_lr: float, lr_lambda: Callable[[int], float], *, vectorized: bool = False) -> Schedule:
    r"""``LambdaLR``: the rate times a function of the step, :math:`\eta_t = \eta_0\,\lambda(t)`.

    ``lr_lambda`` is called once per distinct step with a Python ``int``, as
    torch calls it; with ``vectorized=True`` it is called once with the whole
    ``int64`` array instead (for a function written with numpy, such as
    ``lambda t: 0.95 ** t``).

    Examples
    --------
    >>> lambda_lr_schedule(0.5, lambda t: 1 / (t + 1))(np.arange(4))
    array([0.5       , 0.25      , 0.16666667, 0.125     ])
    """
    base_lr = _positive(base_lr, "base_lr")
    if not callable(lr_lambda):
        raise TypeError(f"lr_lambda must be callable, got {type(lr_lambda).__name__}")
    vectorized = check_bool(vectorized, "vectorized")

    def formula(t: IntArray) -> FloatArray:
        if vectorized:
            return base_lr * np.asarray(lr_lambda(t), dtype=np.float64)  # type: ignore[arg-type]
        unique, inverse = np.unique(t, return_inverse=True)
        return base_lr * np.array([float(lr_lambda(int(k))) for k in unique])[inverse]

    return Schedule(formula, base_lr, "LambdaLR")


def multiplicative_lr_schedule(base_lr: float, lr_lambda: Callable[[int], float]) -> Schedule:
    r"""``MultiplicativeLR``: multiply the previous rate by :math:`\lambda(t)` at each step.

    .. math:: \eta_t = \eta_0 \prod_{k=1}^t \lambda(k)


    The product is a cumulative product up to the largest step asked for
    (``lr_lambda`` is called for each :math:`k \le` that step, so this one
    costs time in proportion to the step), taken in torch's order,
    :math:`((\eta_0\lambda(1))\lambda(2))\cdots`, so the two agree to the bit.

    Examples
    --------
    >>> multiplicative_lr_schedule(1.0, lambda t: 0.5 if t % 2 else 1.0)(np.arange(5))
    array([1.  , 0.5 , 0.5 , 0.25, 0.25])
    """
    base_lr = _positive(base_lr, "base_lr")
    if not callable(lr_lambda):
        raise TypeError(f"lr_lambda must be callable, got {type(lr_lambda).__name__}")

    def product(first: float, ks: range, t: IntArray) -> FloatArray:
        factors = [first] + [float(lr_lambda(k)) for k in ks]
        with np.errstate(over="ignore", under="ignore"):
            return np.asarray(np.cumprod(factors)[t], dtype=np.float64)

    def formula(t: IntArray) -> FloatArray:
        return product(base_lr, range(1, (int(t.max()) if t.size else 0) + 1), t)

    def continuation(previous: float, t: IntArray) -> FloatArray:
        # SequentialLR's hand-over multiplies the previous rate by lambda(0), then lambda(1), ...
        return product(previous, range((int(t.max()) if t.size else 0) + 1), t + 1)

    return Schedule(formula, base_lr, "MultiplicativeLR", continuation)


def lambda_lr(step: Steps, base_lr: float, lr_lambda: Callable[[int], float]) -> float | FloatArray:
    """``LambdaLR`` at ``step``: ``lambda_lr_schedule(base_lr, lr_lambda)(step)``."""
    return lambda_lr_schedule(base_lr, lr_lambda)(step)


def multiplicative_lr(step: Steps, base_lr: float, lr_lambda: Callable[[int], float]) -> float | FloatArray:
    """``MultiplicativeLR`` at ``step``: ``multiplicative_lr_schedule(base_lr, lr_lambda)(step)``."""
    return multiplicative_lr_schedule(base_lr, lr_lambda)(step)


# ---------------------------------------------------------------------------
# composition


def sequential_schedule(schedules: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    r"""``SequentialLR``: schedule :math:`i` from milestone :math:`m_{i-1}` on, counting its steps from 0 there.

    .. math:: \eta_t = S_i(t - m_{i-1}) \quad\text{for } m_{i-1} \le t < m_i, \qquad m_0 = 0

    Each schedule restarts at its own step 0 when its turn comes, from its own
    ``base_lr`` (torch's ``SequentialLR`` evaluates it at epoch 0 at the
    milestone, by its closed form where it has one); it does not continue from
    where the previous one stopped. The exception is ``MultiplicativeLR``,
    which has no closed form: it multiplies the previous schedule's last rate
    by :math:`\lambda(0), \lambda(1), \dots`. ``ReduceLROnPlateau`` cannot take part: it has no step-indexed form, and
    torch's ``SequentialLR`` rejects it too.

    Examples
    --------
    >>> warm = linear_lr_schedule(1.0, start_factor=0.25, total_iters=2)
    >>> sequential_schedule([warm, exponential_lr_schedule(1.0, 0.5)], milestones=[2])(np.arange(5))
    array([0.25 , 0.625, 1.   , 0.5  , 0.25 ])
    """
    schedules = list(schedules)
    if not schedules or not all(isinstance(s, Schedule) for s in schedules):
        raise TypeError("schedules must be a non-empty sequence of Schedule objects (from the ..._schedule factories)")
    ms = [_integer(m, "milestones[i]", 1) for m in milestones]
    if len(ms) != len(schedules) - 1:
        raise ValueError(f"milestones must hold len(schedules) - 1 = {len(schedules) - 1} steps, got {len(ms)}")
    if any(b <= a for a, b in zip(ms, ms[1:], strict=False)):
        raise ValueError(f"milestones must be strictly increasing, got {list(milestones)}")
    starts = np.array([0, *ms], dtype=np.int64)

    def formula(t: IntArray) -> FloatArray:
        which = np.searchsorted(starts, t, side="right") - 1
        out = np.empty(t.shape, dtype=np.float64)
        for i, sched in enumerate(schedules):  # one array call per schedule, not per step
            mask = which == i
            if not mask.any():
                continue
            local = t[mask] - starts[i]
            if i > 0 and sched.continuation is not None:
                out[mask] = sched.continuation(float(formula(np.array([starts[i] - 1]))[0]), local)
            else:
                out[mask] = sched(local)
        return out

    return Schedule(formula, schedules[0].base_lr, "SequentialLR")


def chained_schedule(schedules: Sequence[Schedule]) -> Schedule:
    r"""``ChainedScheduler``: every schedule steps at once and their factors multiply.

    .. math:: \eta_t = \eta_0 \prod_i \frac{S_i(t)}{\eta_0}

    This is what torch computes for the multiplicative ("chainable")
    schedulers, which scale the current rate by a factor each step: ``StepLR``,
    ``MultiStepLR``, ``ExponentialLR``, ``ConstantLR``, ``LinearLR``,
    ``MultiplicativeLR``. Schedulers that set the rate from a formula of
    ``base_lr`` (cosine annealing, ``CyclicLR``, ``OneCycleLR``) do not
    compose by multiplication, in torch either. All schedules must share
    ``base_lr``.

    Examples
    --------
    >>> both = chained_schedule([exponential_lr_schedule(2.0, 0.5), constant_lr_schedule(2.0, 0.1, total_iters=2)])
    >>> both(np.arange(4))
    array([0.2 , 0.1 , 0.5 , 0.25])
    """
    schedules = list(schedules)
    if not schedules or not all(isinstance(s, Schedule) for s in schedules):
        raise TypeError("schedules must be a non-empty sequence of Schedule objects (from the ..._schedule factories)")
    base = schedules[0].base_lr
    if any(s.base_lr != base for s in schedules):
        raise ValueError(f"chained schedules must share base_lr, got {[s.base_lr for s in schedules]}")

    def formula(t: IntArray) -> FloatArray:
        out = np.full(t.shape, base, dtype=np.float64)
        for sched in schedules:
            out = out * (sched(t) / base)
        return out

    return Schedule(formula, base, "ChainedScheduler")


# ---------------------------------------------------------------------------
# ReduceLROnPlateau: a small state machine


class ReduceLROnPlateau:
    r"""``ReduceLROnPlateau`` by hand: multiply the rate by ``factor`` after ``patience`` epochs without improvement.

    ``step(metric)`` takes the monitored value of one epoch and returns the
    rate for the next. A value is an improvement over the best so far
    :math:`b` when

    .. math::
        \begin{array}{ll}
        a < b\,(1 - \theta) \ \text{('min', 'rel')}, & a < b - \theta \ \text{('min', 'abs')}, \\
        a > b\,(1 + \theta) \ \text{('max', 'rel')}, & a > b + \theta \ \text{('max', 'abs')},
        \end{array}

    with :math:`\theta` = ``threshold``. After more than ``patience`` epochs in
    a row without one, the rate becomes :math:`\max(\eta\cdot\text{factor},
    \text{min\_lr})` (unless that changes it by no more than ``eps``), and the
    next ``cooldown`` epochs are not counted. The rate depends on the whole
    history of metrics, which is why this scheduler has no closed form in the
    step and cannot be composed in ``SequentialLR``.

    Examples
    --------
    >>> plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=1)
    >>> [plateau.step(m) for m in [3.0, 2.0, 2.0, 2.0, 2.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5]
    """

    def __init__(
        self,
        base_lr: float,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.lr = _positive(base_lr, "base_lr")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.factor = check_number(factor, "factor")
        if not 0 <= self.factor < 1:
            raise ValueError(f"factor must be in [0, 1), got {self.factor}")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.patience = _integer(patience, "patience", 0)
        self.threshold = _non_negative(threshold, "threshold")
        self.cooldown = _integer(cooldown, "cooldown", 0)
        self.min_lr = _non_negative(min_lr, "min_lr")
        self.eps = _non_negative(eps, "eps")
        self.best = math.inf if mode == "min" else -math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bar

    def step(self, metric: float) -> float:
        """Record one epoch's metric; return the learning rate to use next."""
        value = check_number(metric, "metric")
        if self._improves(value):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            reduced = max(self.lr * self.factor, self.min_lr)
            if self.lr - reduced > self.eps:
                self.lr = reduced
            self.cooldown_left, self.bad_epochs = self.cooldown, 0
        return self.lr


def reduce_lr_on_plateau(
    metrics: Sequence[float],
    base_lr: float,
    mode: Literal["min", "max"] = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: Literal["rel", "abs"] = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> FloatArray:
    """The rates ``ReduceLROnPlateau`` sets for a sequence of metric values: ``len(metrics) + 1`` of them.

    Element 0 is ``base_lr``; element ``t + 1`` is the rate after
    ``step(metrics[t])``, the layout of :func:`lr_curve` with ``metrics``.

    Examples
    --------
    >>> reduce_lr_on_plateau([1.0, 1.0, 1.0, 0.5, 0.5, 0.5], 0.1, factor=0.5, patience=1)
    array([0.1  , 0.1  , 0.1  , 0.05 , 0.05 , 0.05 , 0.025])
    """
    plateau = ReduceLROnPlateau(base_lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)
    return np.array([plateau.lr] + [plateau.step(m) for m in metrics], dtype=np.float64)


# ---------------------------------------------------------------------------
# warm-up followed by cosine decay


def _check_warmup(base_lr: float, total_steps: int, warmup_steps: int, eta_min: float) -> tuple[float, int, int, float]:
    base_lr = _positive(base_lr, "base_lr")
    total_steps = _integer(total_steps, "total_steps", 1)
    warmup_steps = _integer(warmup_steps, "warmup_steps", 0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps must be < total_steps, got warmup_steps={warmup_steps}, total_steps={total_steps}"
        )
    eta_min = _non_negative(eta_min, "eta_min")
    if eta_min > base_lr:
        raise ValueError(f"eta_min must be <= base_lr, got eta_min={eta_min} > base_lr={base_lr}")
    return base_lr, total_steps, warmup_steps, eta_min


def warmup_cosine_schedule(base_lr: float, total_steps: int, warmup_steps: int, eta_min: float = 0.0) -> Schedule:
    r"""Linear warm-up for ``warmup_steps`` steps, then cosine decay to ``eta_min`` at step ``total_steps``.

    .. math::
        \eta_t = \begin{cases}
            \eta_0\, t / W & t < W \\
            \eta_{\min} + (\eta_0 - \eta_{\min})\,\tfrac12\Big(1 + \cos\dfrac{\pi (t - W)}{N - W}\Big)
                & W \le t \le N \\
            \eta_{\min} & t > N
        \end{cases}

    with :math:`W` = ``warmup_steps`` and :math:`N` = ``total_steps``. The first
    step (:math:`t = 0`) has rate 0 when ``warmup_steps > 0``: it is spent on the
    optimizer's statistics (Adam's moment estimates) without moving the
    weights. :func:`warmup_cosine_scheduler` builds the same schedule from torch
    schedulers.

    Examples
    --------
    >>> warmup_cosine_schedule(1.0, total_steps=6, warmup_steps=2)(np.arange(7))
    array([0.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """
    base_lr, total, warmup, eta_min = _check_warmup(base_lr, total_steps, warmup_steps, eta_min)

    def formula(t: IntArray) -> FloatArray:
        decay = eta_min + (base_lr - eta_min) * _cos_half(np.clip(t - warmup, 0, None), total - warmup)
        ramp = base_lr * t / max(warmup, 1)
        return np.where(t < warmup, ramp, np.where(t >= total, eta_min, decay))

    return Schedule(formula, base_lr, "warmup_cosine")


def warmup_cosine(
    step: Steps, base_lr: float, total_steps: int, warmup_steps: int, eta_min: float = 0.0
) -> float | FloatArray:
    """Warm-up and cosine decay at ``step``: ``warmup_cosine_schedule(base_lr, ...)(step)``.

    Examples
    --------
    >>> warmup_cosine(1, 0.4, total_steps=10, warmup_steps=2)
    0.2
    """
    return warmup_cosine_schedule(base_lr, total_steps, warmup_steps, eta_min)(step)


def warmup_cosine_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, eta_min: float = 0.0
) -> torch.optim.lr_scheduler.LRScheduler:
    """The torch scheduler that follows :func:`warmup_cosine` for steps ``0`` to ``total_steps``.

    ``SequentialLR`` runs ``LambdaLR`` (factor ``t / warmup_steps``) for the
    first ``warmup_steps`` steps and then ``CosineAnnealingLR`` with ``T_max =
    total_steps - warmup_steps``. The optimizer's current learning rate is the
    peak ``base_lr``. Past ``total_steps`` the torch scheduler follows the cosine
    back up, while :func:`warmup_cosine` stays at ``eta_min``: stop stepping at
    ``total_steps``.

    Examples
    --------
    >>> import torch
    >>> lr_curve(lambda opt: warmup_cosine_scheduler(opt, total_steps=6, warmup_steps=2), 7, base_lr=1.0).round(8)
    array([0.        , 0.5       , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    base_lr = float(optimizer.param_groups[0]["lr"])
    _, total, warmup, eta_min = _check_warmup(base_lr, total_steps, warmup_steps, eta_min)
    sched = torch.optim.lr_scheduler
    cosine = sched.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=eta_min)
    if warmup == 0:
        return cosine
    ramp = sched.LambdaLR(optimizer, lambda t: t / warmup)
    return sched.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])


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
    if metrics is not None and not isinstance(scheduler, plateau):
        raise ValueError(f"metrics are for ReduceLROnPlateau; {type(scheduler).__name__} takes none")
    curve = np.empty(steps, dtype=np.float64)
    for t in range(steps):
        curve[t] = float(optimizer.param_groups[0]["lr"])
        if t == steps - 1:
            break
        optimizer.step()  # no gradient: the parameter does not move, but torch sees the call order
        if isinstance(scheduler, plateau):
            assert metrics is not None
            scheduler.step(metrics[t])
        else:
            scheduler.step()
    return curve


# ---------------------------------------------------------------------------
# the closed forms as functions of the step (the factories, called once)


def step_lr(step: Steps, base_lr: float, step_size: int, gamma: float = 0.1) -> float | FloatArray:
    """``StepLR`` at ``step``: ``step_lr_schedule(base_lr, step_size, gamma)(step)``.

    Examples
    --------
    >>> step_lr(np.arange(6), 1.0, step_size=2, gamma=0.5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25, 0.25])
    """
    return step_lr_schedule(base_lr, step_size, gamma)(step)


def multistep_lr(step: Steps, base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> float | FloatArray:
    """``MultiStepLR`` at ``step``: ``multistep_lr_schedule(base_lr, milestones, gamma)(step)``."""
    return multistep_lr_schedule(base_lr, milestones, gamma)(step)


def exponential_lr(step: Steps, base_lr: float, gamma: float) -> float | FloatArray:
    """``ExponentialLR`` at ``step``: ``exponential_lr_schedule(base_lr, gamma)(step)``."""
    return exponential_lr_schedule(base_lr, gamma)(step)


def constant_lr(step: Steps, base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> float | FloatArray:
    """``ConstantLR`` at ``step``: ``constant_lr_schedule(base_lr, factor, total_iters)(step)``."""
    return constant_lr_schedule(base_lr, factor, total_iters)(step)


def cosine_annealing_lr(step: Steps, base_lr: float, T_max: int, eta_min: float = 0.0) -> float | FloatArray:
    """``CosineAnnealingLR`` at ``step``: ``cosine_annealing_lr_schedule(base_lr, T_max, eta_min)(step)``."""
    return cosine_annealing_lr_schedule(base_lr, T_max, eta_min)(step)


def cosine_warm_restarts_lr(
    step: Steps, base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
) -> float | FloatArray:
    """``CosineAnnealingWarmRestarts`` at ``step``: ``cosine_warm_restarts_lr_schedule(base_lr, ...)(step)``."""
    return cosine_warm_restarts_lr_schedule(base_lr, T_0, T_mult, eta_min)(step)


def linear_lr(
    step: Steps, base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> float | FloatArray:
    """``LinearLR`` at ``step``: ``linear_lr_schedule(base_lr, start_factor, end_factor, total_iters)(step)``."""
    return linear_lr_schedule(base_lr, start_factor, end_factor, total_iters)(step)


def polynomial_lr(step: Steps, base_lr: float, total_iters: int = 5, power: float = 1.0) -> float | FloatArray:
    """``PolynomialLR`` at ``step``: ``polynomial_lr_schedule(base_lr, total_iters, power)(step)``."""
    return polynomial_lr_schedule(base_lr, total_iters, power)(step)


def cyclic_lr(
    step: Steps,
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> float | FloatArray:
    """``CyclicLR`` at ``step``: ``cyclic_lr_schedule(base_lr, max_lr, ...)(step)``."""
    return cyclic_lr_schedule(base_lr, max_lr, step_size_up, step_size_down, mode, gamma)(step)


def one_cycle_lr(
    step: Steps,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float | FloatArray:
    """``OneCycleLR`` at ``step``: ``one_cycle_lr_schedule(max_lr, total_steps, ...)(step)``."""
    sched = one_cycle_lr_schedule(
        max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase
    )
    return sched(step)


def swa_lr(
    step: Steps,
    base_lr: float,
    swa_lr: float,
    anneal_epochs: int = 10,
    anneal_strategy: Literal["cos", "linear"] = "cos",
) -> float | FloatArray:
    """``SWALR`` at ``step``: ``swa_lr_schedule(base_lr, swa_lr, anneal_epochs, anneal_strategy)(step)``."""
    return swa_lr_schedule(base_lr, swa_lr, anneal_epochs, anneal_strategy)(step)


#: Every scheduler class of ``torch.optim.lr_scheduler``, and ``SWALR``, with its counterpart here:
#: a factory of a :class:`Schedule`, a composition, or (``ReduceLROnPlateau``) the small state machine.
COUNTERPARTS: dict[type, Callable[..., object]] = {
    torch.optim.lr_scheduler.LambdaLR: lambda_lr_schedule,
    torch.optim.lr_scheduler.MultiplicativeLR: multiplicative_lr_schedule,
    torch.optim.lr_scheduler.StepLR: step_lr_schedule,
    torch.optim.lr_scheduler.MultiStepLR: multistep_lr_schedule,
    torch.optim.lr_scheduler.ConstantLR: constant_lr_schedule,
    torch.optim.lr_scheduler.LinearLR: linear_lr_schedule,
    torch.optim.lr_scheduler.ExponentialLR: exponential_lr_schedule,
    torch.optim.lr_scheduler.SequentialLR: sequential_schedule,
    torch.optim.lr_scheduler.PolynomialLR: polynomial_lr_schedule,
    torch.optim.lr_scheduler.CosineAnnealingLR: cosine_annealing_lr_schedule,
    torch.optim.lr_scheduler.ChainedScheduler: chained_schedule,
    torch.optim.lr_scheduler.ReduceLROnPlateau: ReduceLROnPlateau,
    torch.optim.lr_scheduler.CyclicLR: cyclic_lr_schedule,
    torch.optim.lr_scheduler.CosineAnnealingWarmRestarts: cosine_warm_restarts_lr_schedule,
    torch.optim.lr_scheduler.OneCycleLR: one_cycle_lr_schedule,
    torch.optim.swa_utils.SWALR: swa_lr_schedule,
}
