"""companion.schedules: closed forms against torch's schedulers, lr_curve, and the scheduler pitfalls.

The reference for every closed form is the curve that torch's own scheduler produces when it is
stepped (``lr_curve``), which for most schedulers is computed recursively from the previous rate.
Both are compared with ``rtol=1e-12`` and an absolute tolerance of ``1e-12`` times the schedule's
peak rate: the recursion drifts by a few ulps per step and leaves ~1e-18 where the formula gives 0.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import schedules as S
from companion.schedules import lr_curve

LRS = torch.optim.lr_scheduler
EXAMPLES = settings(max_examples=50, deadline=None)

lrs = st.floats(1e-4, 1.0)
gammas = st.floats(0.05, 1.0)
factors = st.floats(0.01, 1.0)


def assert_same_curve(closed: np.ndarray, recorded: np.ndarray, peak: float) -> None:
    np.testing.assert_allclose(closed, recorded, rtol=1e-12, atol=1e-12 * peak)


# ---------------------------------------------------------------------------
# closed forms = torch's recorded curves


@EXAMPLES
@given(base=lrs, step_size=st.integers(1, 20), gamma=gammas, n=st.integers(1, 120))
def test_step_lr(base: float, step_size: int, gamma: float, n: int) -> None:
    rec = lr_curve(lambda o: LRS.StepLR(o, step_size=step_size, gamma=gamma), n, base)
    assert_same_curve(S.step_lr(np.arange(n), base, step_size, gamma), rec, base)


@EXAMPLES
@given(
    base=lrs,
    milestones=st.lists(st.integers(1, 100), min_size=1, max_size=5, unique=True).map(sorted),
    gamma=gammas,
    n=st.integers(1, 120),
)
def test_multistep_lr(base: float, milestones: list[int], gamma: float, n: int) -> None:
    rec = lr_curve(lambda o: LRS.MultiStepLR(o, milestones=milestones, gamma=gamma), n, base)
    assert_same_curve(S.multistep_lr(np.arange(n), base, milestones, gamma), rec, base)


@EXAMPLES
@given(base=lrs, gamma=st.floats(0.8, 1.0), n=st.integers(1, 200))
def test_exponential_lr(base: float, gamma: float, n: int) -> None:
    rec = lr_curve(lambda o: LRS.ExponentialLR(o, gamma=gamma), n, base)
    assert_same_curve(S.exponential_lr(np.arange(n), base, gamma), rec, base)


@EXAMPLES
@given(base=lrs, T_max=st.integers(1, 150), eta=st.floats(0.0, 1.0), periods=st.floats(0.1, 2.5))
def test_cosine_annealing_lr_including_past_t_max(base: float, T_max: int, eta: float, periods: float) -> None:
    eta_min = eta * base
    n = max(1, int(periods * T_max))
    rec = lr_curve(lambda o: LRS.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), n, base)
    assert_same_curve(S.cosine_annealing_lr(np.arange(n), base, T_max, eta_min), rec, base)


@EXAMPLES
@given(base=lrs, T_0=st.integers(1, 30), T_mult=st.integers(1, 3), eta=st.floats(0.0, 1.0), n=st.integers(1, 200))
def test_cosine_warm_restarts_lr(base: float, T_0: int, T_mult: int, eta: float, n: int) -> None:
    eta_min = eta * base
    rec = lr_curve(lambda o: LRS.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min), n, base)
    assert_same_curve(S.cosine_warm_restarts_lr(np.arange(n), base, T_0, T_mult, eta_min), rec, base)


@EXAMPLES
@given(base=lrs, start=st.floats(0.01, 1.0), end=st.floats(0.0, 1.0), total=st.integers(1, 100), n=st.integers(1, 150))
def test_linear_lr_ramps_up_and_down(base: float, start: float, end: float, total: int, n: int) -> None:
    rec = lr_curve(lambda o: LRS.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), n, base)
    assert_same_curve(S.linear_lr(np.arange(n), base, start, end, total), rec, base)


@EXAMPLES
@given(base=lrs, total=st.integers(1, 100), power=st.floats(0.1, 4.0), n=st.integers(1, 150))
def test_polynomial_lr(base: float, total: int, power: float, n: int) -> None:
    rec = lr_curve(lambda o: LRS.PolynomialLR(o, total_iters=total, power=power), n, base)
    assert_same_curve(S.polynomial_lr(np.arange(n), base, total, power), rec, base)


@EXAMPLES
@given(
    base=lrs,
    ratio=st.floats(1.0, 20.0),
    up=st.integers(1, 30),
    down=st.none() | st.integers(1, 30),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.9, 1.0),
    n=st.integers(1, 200),
)
def test_cyclic_lr(base: float, ratio: float, up: int, down: int | None, mode: str, gamma: float, n: int) -> None:
    top = base * ratio
    rec = lr_curve(
        lambda o: LRS.CyclicLR(
            o, base_lr=base, max_lr=top, step_size_up=up, step_size_down=down, mode=mode, gamma=gamma
        ),
        n,
    )
    assert_same_curve(S.cyclic_lr(np.arange(n), base, top, up, down, mode, gamma), rec, top)


@st.composite
def one_cycle_args(draw: st.DrawFn) -> tuple[int, float, bool]:
    three = draw(st.booleans())
    total = draw(st.integers(8, 300))
    # every phase needs at least one step, as the closed form requires
    low, high = 1.5 / total, (0.45 if three else 0.95)
    pct = draw(st.floats(low, high))
    return total, pct, three


@EXAMPLES
@given(
    top=lrs,
    args=one_cycle_args(),
    strategy=st.sampled_from(["cos", "linear"]),
    div=st.floats(2.0, 100.0),
    final_div=st.floats(1.0, 1e5),
)
def test_one_cycle_lr(top: float, args: tuple[int, float, bool], strategy: str, div: float, final_div: float) -> None:
    total, pct, three = args
    rec = lr_curve(
        lambda o: LRS.OneCycleLR(
            o,
            max_lr=top,
            total_steps=total,
            pct_start=pct,
            anneal_strategy=strategy,
            div_factor=div,
            final_div_factor=final_div,
            three_phase=three,
        ),
        total + 1,
    )
    closed = S.one_cycle_lr(np.arange(total + 1), top, total, pct, strategy, div, final_div, three)
    assert_same_curve(closed, rec, top)


def test_one_cycle_landmarks() -> None:
    """The rate starts at max/div, peaks at max at step pct*T - 1 and ends at max/div/final_div."""
    t = np.arange(100)
    lr = S.one_cycle_lr(t, 0.5, total_steps=100, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)
    assert lr[0] == pytest.approx(0.5 / 25)
    assert int(np.argmax(lr)) == 29 and lr[29] == pytest.approx(0.5)
    assert lr[99] == pytest.approx(0.5 / 25 / 1e4)


@EXAMPLES
@given(base=lrs, total=st.integers(2, 300), frac=st.floats(0.0, 0.9), low=st.floats(0.0, 1.0))
def test_warmup_cosine_equals_its_torch_composition(base: float, total: int, frac: float, low: float) -> None:
    warmup = min(int(frac * total), total - 1)
    min_lr = low * base
    rec = lr_curve(lambda o: S.warmup_cosine_scheduler(o, total, warmup, min_lr), total + 1, base)
    assert_same_curve(S.warmup_cosine(np.arange(total + 1), base, total, warmup, min_lr), rec, base)


def test_warmup_cosine_shape() -> None:
    lr = S.warmup_cosine(np.arange(130), 0.4, total_steps=100, warmup_steps=10, eta_min=0.01)
    assert lr[0] == 0.0 and lr[5] == pytest.approx(0.2) and lr[10] == 0.4
    assert np.all(np.diff(lr[:11]) > 0) and np.all(np.diff(lr[10:101]) < 0)
    assert lr[55] == pytest.approx(0.01 + 0.39 / 2)  # half way through the decay
    np.testing.assert_array_equal(lr[100:], 0.01)  # stays at min_lr after total


def test_cosine_is_exact_at_its_end_points() -> None:
    """The cos² form gives eta_min exactly at T_max, where 1 + cos(pi) cancels."""
    assert S.cosine_annealing_lr(1000, 0.1, T_max=1000) == 0.0
    assert S.cosine_annealing_lr(2000, 0.1, T_max=1000) == pytest.approx(0.1, rel=1e-15)
    near_end = S.cosine_annealing_lr(999, 1.0, T_max=1000)
    assert near_end == pytest.approx(math.sin(math.pi / 2000) ** 2, rel=1e-14)


def test_scalar_and_array_steps_agree() -> None:
    steps = np.array([[0, 3], [7, 11]])
    out = S.cosine_warm_restarts_lr(steps, 0.1, T_0=3, T_mult=2)
    assert out.shape == (2, 2) and out.dtype == np.float64
    for (i, j), s in np.ndenumerate(steps):
        assert out[i, j] == S.cosine_warm_restarts_lr(int(s), 0.1, T_0=3, T_mult=2)
    assert isinstance(S.step_lr(4, 1.0, 2), float)
    assert S.step_lr([0, 2], 1.0, 2).tolist() == [1.0, 0.1]


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.step_lr(-1, 0.1, 2), "step must be >= 0"),
        (lambda: S.step_lr(np.array([0, -3]), 0.1, 2), "step must be >= 0"),
        (lambda: S.step_lr(3, 0.1, 0), "step_size must be >= 1"),
        (lambda: S.step_lr(3, -0.1, 2), "base_lr must be > 0"),
        (lambda: S.step_lr(3, float("nan"), 2), "base_lr must be finite"),
        (lambda: S.exponential_lr(3, 0.1, 0.0), "gamma must be > 0"),
        (lambda: S.multistep_lr(3, 0.1, [5, 2]), "strictly increasing"),
        (lambda: S.multistep_lr(3, 0.1, [0, 2]), "milestones"),
        (lambda: S.cosine_annealing_lr(3, 0.1, 0), "T_max must be >= 1"),
        (lambda: S.cosine_annealing_lr(3, 0.1, 10, eta_min=-1.0), "eta_min must be >= 0"),
        (lambda: S.cosine_warm_restarts_lr(3, 0.1, 5, T_mult=0), "T_mult must be >= 1"),
        (lambda: S.linear_lr(3, 0.1, start_factor=0.0), r"start_factor must be in \(0, 1\]"),
        (lambda: S.linear_lr(3, 0.1, end_factor=1.5), r"end_factor must be in \[0, 1\]"),
        (lambda: S.polynomial_lr(3, 0.1, power=0.0), "power must be > 0"),
        (lambda: S.cyclic_lr(3, 0.5, 0.1), "max_lr must be >= base_lr"),
        (lambda: S.cyclic_lr(3, 0.1, 0.5, mode="sine"), "mode must be one of"),
        (lambda: S.one_cycle_lr(3, 0.1, 100, anneal_strategy="cosine"), "anneal_strategy"),
        (lambda: S.one_cycle_lr(101, 0.1, 100), "step must be <= total_steps"),
        (lambda: S.one_cycle_lr(3, 0.1, 10, pct_start=0.05), "leaves a phase of the cycle without steps"),
        (lambda: S.one_cycle_lr(3, 0.1, 10, pct_start=0.6, three_phase=True), "leaves a phase"),
        (lambda: S.warmup_cosine(3, 0.1, total_steps=10, warmup_steps=10), "warmup_steps must be < total_steps"),
        (lambda: S.warmup_cosine(3, 0.1, total_steps=10, warmup_steps=2, eta_min=0.2), "eta_min must be <= base_lr"),
        (lambda: lr_curve(lambda o: LRS.StepLR(o, 2), 0), "steps must be >= 1"),
        (lambda: lr_curve(lambda o: LRS.ReduceLROnPlateau(o), 3), "needs metrics"),
        (lambda: lr_curve(lambda o: LRS.ReduceLROnPlateau(o), 3, metrics=[1.0]), "steps - 1 = 2 values"),
        (
            lambda: lr_curve(lambda o: LRS.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), 2), 3),
            "built on the optimizer it is given",
        ),
    ],
)
def test_bad_input_raises_value_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.step_lr(1.5, 0.1, 2),
        lambda: S.step_lr(np.array([0.0, 1.0]), 0.1, 2),
        lambda: S.step_lr(True, 0.1, 2),
        lambda: S.step_lr(1, "0.1", 2),
        lambda: S.step_lr(1, 0.1, 2.0),
        lambda: lr_curve("StepLR", 3),
        lambda: S.warmup_cosine_scheduler("optimizer", 10, 2),
    ],
)
def test_wrong_types_raise_type_error(call) -> None:
    with pytest.raises(TypeError):
        call()


# ---------------------------------------------------------------------------
# the scheduler API and its pitfalls


def _optimizer(lr: float = 1.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)


def test_lr_scheduler_is_the_public_name_of_the_old_base_class() -> None:
    assert issubclass(LRS._LRScheduler, LRS.LRScheduler)
    assert issubclass(LRS.StepLR, LRS.LRScheduler) and issubclass(LRS.ReduceLROnPlateau, LRS.LRScheduler)


def test_building_a_scheduler_records_initial_lr_and_steps_once() -> None:
    opt = _optimizer(0.3)
    sched = LRS.StepLR(opt, step_size=2, gamma=0.1)
    assert sched.last_epoch == 0 and sched.base_lrs == [0.3]
    assert opt.param_groups[0]["initial_lr"] == 0.3
    assert sched.get_last_lr() == [0.3]


def test_scheduler_step_before_optimizer_step_warns_and_skips_the_first_rate() -> None:
    def used_rates(scheduler_first: bool) -> list[float]:
        opt = _optimizer(1.0)
        sched = LRS.StepLR(opt, step_size=1, gamma=0.5)
        used = []
        for _ in range(3):
            if scheduler_first:
                sched.step()
            used.append(opt.param_groups[0]["lr"])
            opt.step()
            if not scheduler_first:
                sched.step()
        return used

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right order warns about nothing
        assert used_rates(scheduler_first=False) == [1.0, 0.5, 0.25]
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        wrong = used_rates(scheduler_first=True)
    assert wrong == [0.5, 0.25, 0.125]  # the first rate of the schedule, 1.0, is never used


def test_get_lr_outside_step_warns_and_is_not_the_current_rate() -> None:
    opt = _optimizer(1.0)
    sched = LRS.StepLR(opt, step_size=2, gamma=0.1)
    opt.step()
    sched.step()
    opt.step()
    sched.step()  # last_epoch = 2: the rate is now 0.1
    assert sched.get_last_lr() == pytest.approx([0.1])
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        value = sched.get_lr()
    assert value == pytest.approx([0.01])  # the chainable formula applied once more


def test_chained_schedulers_multiply() -> None:
    n = 12
    both = lr_curve(
        lambda o: LRS.ChainedScheduler(
            [LRS.ExponentialLR(o, gamma=0.9), LRS.MultiStepLR(o, milestones=[4, 8], gamma=0.5)]
        ),
        n,
        base_lr=2.0,
    )
    t = np.arange(n)
    expected = S.exponential_lr(t, 2.0, 0.9) * S.multistep_lr(t, 1.0, [4, 8], 0.5)
    np.testing.assert_allclose(both, expected, rtol=1e-12)


def test_sequential_lr_switches_at_the_milestone() -> None:
    curve = lr_curve(
        lambda o: LRS.SequentialLR(
            o, [LRS.ConstantLR(o, factor=0.1, total_iters=3), LRS.ExponentialLR(o, gamma=0.5)], milestones=[3]
        ),
        6,
        base_lr=1.0,
    )
    np.testing.assert_allclose(curve, [0.1, 0.1, 0.1, 1.0, 0.5, 0.25], rtol=1e-12)


def test_plateau_cannot_be_chained() -> None:
    opt = _optimizer()
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        LRS.ChainedScheduler([LRS.ReduceLROnPlateau(opt), LRS.StepLR(opt, 2)])


def test_reduce_lr_on_plateau_scripted_metrics() -> None:
    """Expected rates follow the documented rule: reduce once more than `patience` bad epochs in a row."""
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6]
    curve = lr_curve(lambda o: LRS.ReduceLROnPlateau(o, factor=0.5, patience=2), 10, base_lr=0.1, metrics=metrics[:9])
    # bad epochs: t=2,3,4 -> third bad one at t=4 reduces; t=6,7,8 -> reduce at t=8
    np.testing.assert_allclose(curve, [0.1] * 5 + [0.05] * 4 + [0.025], rtol=1e-15)


def test_reduce_lr_on_plateau_cooldown_and_min_lr() -> None:
    flat = [1.0] * 9
    curve = lr_curve(lambda o: LRS.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=2), 10, 0.1, metrics=flat)
    # reduce at t=2; cooldown ignores t=3,4; bad again at t=5,6 -> reduce at t=6
    np.testing.assert_allclose(curve, [0.1] * 3 + [0.05] * 4 + [0.025] * 3, rtol=1e-15)
    floor = lr_curve(lambda o: LRS.ReduceLROnPlateau(o, factor=0.1, patience=0, min_lr=0.003), 5, 0.1, metrics=flat[:4])
    np.testing.assert_allclose(floor, [0.1, 0.1, 0.01, 0.003, 0.003], rtol=1e-12)


def test_max_mode_uses_a_relative_threshold() -> None:
    # an increase smaller than threshold * best is not an improvement
    metrics = [0.5, 0.50004, 0.50002]
    curve = lr_curve(lambda o: LRS.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=1), 4, 1.0, metrics=metrics)
    np.testing.assert_allclose(curve, [1.0, 1.0, 1.0, 0.5])


SCHEDULERS = {
    "StepLR": lambda o: LRS.StepLR(o, step_size=3, gamma=0.5),
    "CosineAnnealingLR": lambda o: LRS.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda o: LRS.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2),
    "OneCycleLR": lambda o: LRS.OneCycleLR(o, max_lr=1.0, total_steps=20),
    "CyclicLR": lambda o: LRS.CyclicLR(o, base_lr=0.1, max_lr=1.0, step_size_up=3),
    "warmup_cosine": lambda o: S.warmup_cosine_scheduler(o, total_steps=20, warmup_steps=5),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_round_trip_resumes_the_same_curve(name: str) -> None:
    make = SCHEDULERS[name]
    full = lr_curve(make, 18, base_lr=0.5)

    opt = _optimizer(0.5)
    sched = make(opt)
    first = []
    for _ in range(7):
        first.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()

    opt2 = _optimizer(0.5)
    sched2 = make(opt2)  # build the scheduler first, then load both states
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    rest = []
    for _ in range(11):
        rest.append(opt2.param_groups[0]["lr"])
        opt2.step()
        sched2.step()
    np.testing.assert_allclose(first + rest, full, rtol=1e-12)


def _resume(make, opt_first: bool, before: int = 6, after: int = 8) -> list[float]:
    """Rates used by `before` steps, a save and reload, and `after` more steps."""
    opt = _optimizer(0.5)
    sched = make(opt)
    used = []
    for _ in range(before):
        used.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    opt2 = _optimizer(0.5)
    if opt_first:  # the wrong order: building the scheduler rewrites the loaded rates
        opt2.load_state_dict(opt_state)
        sched2 = make(opt2)
    else:
        sched2 = make(opt2)
        opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    for _ in range(after):
        used.append(opt2.param_groups[0]["lr"])
        opt2.step()
        sched2.step()
    return used


def test_building_the_scheduler_after_loading_the_optimizer_corrupts_the_schedule() -> None:
    linear = SCHEDULERS_WRONG_ORDER["LinearLR"]
    full = lr_curve(linear, 14, base_lr=0.5)
    np.testing.assert_allclose(_resume(linear, opt_first=False), full, rtol=1e-12)
    wrong = np.array(_resume(linear, opt_first=True))
    np.testing.assert_allclose(wrong[:6], full[:6], rtol=1e-12)
    # LinearLR's first step multiplies the loaded rate by start_factor again, and the chainable
    # updates carry that factor to the end
    np.testing.assert_allclose(wrong[6:], 0.1 * full[6:], rtol=1e-12)

    warm = SCHEDULERS_WRONG_ORDER["warmup_cosine"]
    assert max(_resume(warm, opt_first=True)[6:]) == 0.0  # stuck at the warm-up's rate 0 for good


SCHEDULERS_WRONG_ORDER = {
    "LinearLR": lambda o: LRS.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=10),
    "warmup_cosine": lambda o: S.warmup_cosine_scheduler(o, total_steps=20, warmup_steps=5),
}
