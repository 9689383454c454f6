"""Every torch scheduler has a counterpart in companion.schedules that follows its stepped curve.

The coverage test enumerates ``torch.optim.lr_scheduler`` (and ``SWALR``): a scheduler that torch adds
fails it until it has a counterpart and a case here. Each case records torch's curve over a full run with
``lr_curve`` and compares the counterpart with ``rtol=1e-12`` (and ``atol=1e-12`` times the peak rate).
Also here: the factories at array speed and at huge steps.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
import torch

from companion import schedules as S
from companion.schedules import COUNTERPARTS, lr_curve

LRS = torch.optim.lr_scheduler
SWALR = torch.optim.swa_utils.SWALR
Make = Callable[[torch.optim.Optimizer], object]


class Case(NamedTuple):
    make: Make  # the torch scheduler on an optimizer
    ours: Callable[[int], np.ndarray]  # our curve, from the number of values
    steps: int
    base_lr: float = 0.1
    metrics: tuple[float, ...] | None = None


def _installed_schedulers() -> set[type]:
    found = {
        obj
        for name in dir(LRS)
        if inspect.isclass(obj := getattr(LRS, name))
        and issubclass(obj, LRS.LRScheduler)
        and obj not in (LRS.LRScheduler, LRS._LRScheduler)
    }
    return found | {SWALR}


def _t(n: int) -> np.ndarray:
    return np.arange(n)


PLATEAU_METRICS = (1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.4, 0.41, 0.4, 0.4, 0.4, 0.4, 0.4, 0.39)
RISING = (0.1, 0.2, 0.20001, 0.2, 0.25, 0.25, 0.25, 0.25, 0.3, 0.3, 0.3, 0.3)


def _plateau(metrics: tuple[float, ...], **kw: object) -> Case:
    return Case(
        lambda o: LRS.ReduceLROnPlateau(o, **kw),  # type: ignore[arg-type]
        lambda n: S.reduce_lr_on_plateau(metrics, 0.1, **kw),  # type: ignore[arg-type]
        len(metrics) + 1,
        metrics=metrics,
    )


CASES: dict[type, list[Case]] = {
    LRS.LambdaLR: [
        Case(lambda o: LRS.LambdaLR(o, lambda t: 0.95**t), lambda n: S.lambda_lr(_t(n), 0.1, lambda t: 0.95**t), 80),
        Case(
            lambda o: LRS.LambdaLR(o, lambda t: min(1.0, (t + 1) / 10)),
            lambda n: S.lambda_lr(_t(n), 0.1, lambda t: min(1.0, (t + 1) / 10)),
            40,
        ),
        Case(
            lambda o: LRS.LambdaLR(o, lambda t: 1 / math.sqrt(t + 1)),
            lambda n: S.lambda_lr_schedule(0.1, lambda t: 1 / np.sqrt(t + 1), vectorized=True)(_t(n)),
            60,
        ),
    ],
    LRS.MultiplicativeLR: [
        Case(
            lambda o: LRS.MultiplicativeLR(o, lambda t: 0.9 if t % 3 == 0 else 1.01),
            lambda n: S.multiplicative_lr(_t(n), 0.1, lambda t: 0.9 if t % 3 == 0 else 1.01),
            100,
        )
    ],
    LRS.StepLR: [Case(lambda o: LRS.StepLR(o, 7, 0.5), lambda n: S.step_lr(_t(n), 0.1, 7, 0.5), 60)],
    LRS.MultiStepLR: [
        Case(lambda o: LRS.MultiStepLR(o, [5, 9, 30], 0.3), lambda n: S.multistep_lr(_t(n), 0.1, [5, 9, 30], 0.3), 50)
    ],
    LRS.ConstantLR: [
        Case(lambda o: LRS.ConstantLR(o, 0.25, 7), lambda n: S.constant_lr(_t(n), 0.1, 0.25, 7), 20),
        Case(lambda o: LRS.ConstantLR(o), lambda n: S.constant_lr(_t(n), 0.1), 12),
        Case(lambda o: LRS.ConstantLR(o, 0.5, total_iters=0), lambda n: S.constant_lr(_t(n), 0.1, 0.5, 0), 6),
    ],
    LRS.LinearLR: [Case(lambda o: LRS.LinearLR(o, 0.2, 0.9, 15), lambda n: S.linear_lr(_t(n), 0.1, 0.2, 0.9, 15), 30)],
    LRS.ExponentialLR: [Case(lambda o: LRS.ExponentialLR(o, 0.97), lambda n: S.exponential_lr(_t(n), 0.1, 0.97), 200)],
    LRS.PolynomialLR: [
        Case(lambda o: LRS.PolynomialLR(o, 40, 1.5), lambda n: S.polynomial_lr(_t(n), 0.1, 40, 1.5), 60)
    ],
    LRS.CosineAnnealingLR: [
        Case(lambda o: LRS.CosineAnnealingLR(o, 25, 0.01), lambda n: S.cosine_annealing_lr(_t(n), 0.1, 25, 0.01), 80)
    ],
    LRS.CyclicLR: [
        Case(
            lambda o: LRS.CyclicLR(o, 0.01, 0.1, 7, 4, mode="exp_range", gamma=0.99),
            lambda n: S.cyclic_lr(_t(n), 0.01, 0.1, 7, 4, mode="exp_range", gamma=0.99),
            90,
        )
    ],
    LRS.CosineAnnealingWarmRestarts: [
        Case(
            lambda o: LRS.CosineAnnealingWarmRestarts(o, 3, 3, 0.001),
            lambda n: S.cosine_warm_restarts_lr(_t(n), 0.1, 3, 3, 0.001),
            150,
        )
    ],
    LRS.OneCycleLR: [
        Case(
            lambda o: LRS.OneCycleLR(o, 0.5, total_steps=70, three_phase=True),
            lambda n: S.one_cycle_lr(_t(n), 0.5, 70, three_phase=True),
            71,
        )
    ],
    LRS.SequentialLR: [
        Case(
            lambda o: LRS.SequentialLR(o, [LRS.ConstantLR(o, 0.1, 3), LRS.ExponentialLR(o, 0.9)], milestones=[3]),
            lambda n: S.sequential_schedule(
                [S.constant_lr_schedule(0.1, 0.1, 3), S.exponential_lr_schedule(0.1, 0.9)], [3]
            )(_t(n)),
            30,
        ),
        Case(  # warm-up, cosine, then steps: each restarts from the base rate at its milestone
            lambda o: LRS.SequentialLR(
                o, [LRS.LinearLR(o, 0.1, 1.0, 4), LRS.CosineAnnealingLR(o, 6), LRS.StepLR(o, 2, 0.5)], [4, 10]
            ),
            lambda n: S.sequential_schedule(
                [
                    S.linear_lr_schedule(0.1, 0.1, 1.0, 4),
                    S.cosine_annealing_lr_schedule(0.1, 6),
                    S.step_lr_schedule(0.1, 2, 0.5),
                ],
                [4, 10],
            )(_t(n)),
            30,
        ),
        Case(  # MultiplicativeLR goes on from the last rate of the schedule before it
            lambda o: LRS.SequentialLR(
                o, [LRS.ExponentialLR(o, 0.5), LRS.MultiplicativeLR(o, lambda t: 0.9 + t / 100)], [3]
            ),
            lambda n: S.sequential_schedule(
                [S.exponential_lr_schedule(0.1, 0.5), S.multiplicative_lr_schedule(0.1, lambda t: 0.9 + t / 100)], [3]
            )(_t(n)),
            15,
        ),
        Case(
            lambda o: LRS.SequentialLR(o, [LRS.LambdaLR(o, lambda t: t / 5), LRS.PolynomialLR(o, 20, 2.0)], [5]),
            lambda n: S.sequential_schedule(
                [S.lambda_lr_schedule(0.1, lambda t: t / 5), S.polynomial_lr_schedule(0.1, 20, 2.0)], [5]
            )(_t(n)),
            30,
        ),
    ],
    LRS.ChainedScheduler: [
        Case(
            lambda o: LRS.ChainedScheduler(
                [LRS.ExponentialLR(o, 0.95), LRS.MultiStepLR(o, [10, 20], 0.5), LRS.ConstantLR(o, 0.5, 4)]
            ),
            lambda n: S.chained_schedule(
                [
                    S.exponential_lr_schedule(0.1, 0.95),
                    S.multistep_lr_schedule(0.1, [10, 20], 0.5),
                    S.constant_lr_schedule(0.1, 0.5, 4),
                ]
            )(_t(n)),
            40,
        ),
        Case(
            lambda o: LRS.ChainedScheduler([LRS.LinearLR(o, 0.1, 1.0, 10), LRS.StepLR(o, 6, 0.7)]),
            lambda n: S.chained_schedule([S.linear_lr_schedule(0.1, 0.1, 1.0, 10), S.step_lr_schedule(0.1, 6, 0.7)])(
                _t(n)
            ),
            30,
        ),
    ],
    LRS.ReduceLROnPlateau: [
        _plateau(PLATEAU_METRICS, factor=0.5, patience=2),
        _plateau(PLATEAU_METRICS, factor=0.3, patience=1, cooldown=2, min_lr=0.002),
        _plateau(PLATEAU_METRICS, factor=0.5, patience=0, threshold=0.05, threshold_mode="abs"),
        _plateau(RISING, mode="max", factor=0.5, patience=1),
        _plateau(RISING, mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", cooldown=1),
        _plateau((1.0,) * 30, factor=0.1, patience=0, min_lr=1e-9, eps=1e-8),  # eps stops tiny reductions
    ],
    SWALR: [
        Case(lambda o: SWALR(o, swa_lr=0.02, anneal_epochs=8), lambda n: S.swa_lr(_t(n), 0.1, 0.02, 8), 20),
        Case(
            lambda o: SWALR(o, swa_lr=0.3, anneal_epochs=5, anneal_strategy="linear"),
            lambda n: S.swa_lr(_t(n), 0.1, 0.3, 5, "linear"),
            12,
        ),
        Case(lambda o: SWALR(o, swa_lr=0.05, anneal_epochs=0), lambda n: S.swa_lr(_t(n), 0.1, 0.05, 0), 5),
    ],
}


def test_every_torch_scheduler_has_a_counterpart_and_a_case() -> None:
    installed = _installed_schedulers()
    assert len(installed) >= 16
    missing = sorted(c.__name__ for c in installed - set(COUNTERPARTS))
    assert not missing, f"torch schedulers without a counterpart in companion.schedules: {missing}"
    untested = sorted(c.__name__ for c in installed - set(CASES))
    assert not untested, f"torch schedulers without a curve test here: {untested}"
    assert set(COUNTERPARTS) == installed  # and nothing that torch no longer has


ALL = [(cls, i, case) for cls, cases in CASES.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("cls, i, case", ALL, ids=[f"{c.__name__}-{i}" for c, i, _ in ALL])
def test_counterpart_follows_torchs_stepped_curve(cls: type, i: int, case: Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SequentialLR's epoch-0 hand-over warns about step(epoch)
        recorded = lr_curve(case.make, case.steps, case.base_lr, metrics=case.metrics)  # type: ignore[arg-type]
    ours = case.ours(case.steps)
    assert ours.shape == recorded.shape
    assert np.ptp(recorded) > 0 or recorded[0] != case.base_lr, "a case whose rate never changes tests nothing"
    np.testing.assert_allclose(ours, recorded, rtol=1e-12, atol=1e-12 * recorded.max())


def test_plateau_object_and_function_agree_and_count_as_documented() -> None:
    plateau = S.ReduceLROnPlateau(1.0, factor=0.5, patience=2, cooldown=1)
    rates = [plateau.step(m) for m in [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]]
    # bad epochs 1, 2, 3 -> reduce after the third; one cooldown epoch; bad 1, 2, 3 again -> reduce
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    assert S.reduce_lr_on_plateau([5.0] * 8, 1.0, factor=0.5, patience=2, cooldown=1)[-1] == 0.25


def test_sequential_and_chained_check_their_arguments() -> None:
    a = S.step_lr_schedule(0.1, 2)
    with pytest.raises(ValueError, match="len\\(schedules\\) - 1 = 1"):
        S.sequential_schedule([a, a], [])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.sequential_schedule([a, a, a], [5, 5])
    with pytest.raises(TypeError, match="Schedule objects"):
        S.sequential_schedule([a, lambda t: 0.1], [3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="share base_lr"):
        S.chained_schedule([a, S.step_lr_schedule(0.2, 2)])
    with pytest.raises(ValueError, match="factor must be in"):
        S.ReduceLROnPlateau(0.1, factor=1.0)
    with pytest.raises(ValueError, match="threshold_mode"):
        S.ReduceLROnPlateau(0.1, threshold_mode="relative")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.swa_lr_schedule(0.1, 0.01, anneal_strategy="cosine")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lr_lambda"):
        S.lambda_lr_schedule(0.1, 0.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# factories: arguments checked once, arrays of steps, huge steps


FACTORIES: dict[str, S.Schedule] = {
    "step": S.step_lr_schedule(0.1, 30, 0.5),
    "multistep": S.multistep_lr_schedule(0.1, list(range(5, 1000, 5)), 0.99),
    "exponential": S.exponential_lr_schedule(0.1, 0.999),
    "constant": S.constant_lr_schedule(0.1, 0.2, 17),
    "cosine": S.cosine_annealing_lr_schedule(0.1, 333, 1e-4),
    "restarts": S.cosine_warm_restarts_lr_schedule(0.1, 7, 2, 1e-4),
    "linear": S.linear_lr_schedule(0.1, 0.1, 1.0, 50),
    "polynomial": S.polynomial_lr_schedule(0.1, 700, 2.0),
    "cyclic": S.cyclic_lr_schedule(0.01, 0.1, 40, 60, "triangular2"),
    "one_cycle": S.one_cycle_lr_schedule(0.1, 1000),
    "swa": S.swa_lr_schedule(0.1, 0.01, 25),
    "warmup_cosine": S.warmup_cosine_schedule(0.1, 1000, 100, 1e-4),
    "sequential": S.sequential_schedule([S.linear_lr_schedule(0.1, 0.1, 1.0, 10), S.step_lr_schedule(0.1, 20)], [10]),
    "chained": S.chained_schedule([S.exponential_lr_schedule(0.1, 0.99), S.step_lr_schedule(0.1, 20)]),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_array_call_is_the_scalar_call_elementwise(name: str) -> None:
    sched = FACTORIES[name]
    steps = np.array([[0, 1, 2, 17], [99, 100, 523, 1000]])
    out = sched(steps)
    assert out.shape == (2, 4) and out.dtype == np.float64
    for (i, j), s in np.ndenumerate(steps):
        value = sched(int(s))
        assert isinstance(value, float) and value == out[i, j]
    assert sched(np.array([], dtype=np.int64)).shape == (0,)
    assert np.array_equal(sched(np.arange(5, dtype=np.uint8)), sched(np.arange(5)))


def test_multistep_with_199_milestones_over_a_million_steps_matches_the_definition() -> None:
    milestones = list(range(5000, 1_000_000, 5000))
    assert len(milestones) == 199
    lr = S.multistep_lr(np.arange(1_000_000), 1.0, milestones, 0.98)
    probe = np.array([0, 4999, 5000, 5001, 123_456, 995_000, 999_999])
    counts = np.array([sum(m <= p for m in milestones) for p in probe])
    np.testing.assert_allclose(lr[probe], 0.98**counts, rtol=1e-14)


def test_huge_steps_neither_raise_nor_lose_the_cycle() -> None:
    big = 2**62 + 12345
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warnings either
        assert S.step_lr(10**9, 0.1, 1, 1.5) == math.inf  # torch's closed form raises OverflowError here
        assert S.exponential_lr(big, 0.1, 1.001) == math.inf
        assert S.exponential_lr(big, 0.1, 0.999) == 0.0
        assert S.cyclic_lr(big, 0.01, 0.1, 1, mode="triangular2") == 0.01  # 2**-(cycle - 1) underflows to 0
    with pytest.raises(OverflowError):
        0.1 * 1.5 ** (10**9 // 1)  # what torch's StepLR._get_closed_form_lr computes
    # the cosine's period is taken in integers, so a huge step is exact
    assert S.cosine_annealing_lr(big, 0.1, 1000) == S.cosine_annealing_lr(big % 2000, 0.1, 1000)
    period = 10 * 4 + 10 * 6  # up 40, down 60
    assert S.cyclic_lr(big, 0.01, 0.1, 40, 60) == S.cyclic_lr(big % period, 0.01, 0.1, 40, 60)
    restarts = S.cosine_warm_restarts_lr_schedule(0.1, 3, 2)
    assert 0.0 <= restarts(big) <= 0.1
    start = 3 * (2**60 - 1)  # the cycle starts 3 (2^k - 1) are exact integers: step 0 of cycle 60
    assert restarts(start) == 0.1 and restarts(start - 1) < 1e-30
    with pytest.raises(TypeError):
        S.step_lr(np.array([1.0, 2.0]), 0.1, 2)
    with pytest.raises(ValueError, match="step must be >= 0"):
        FACTORIES["cosine"](np.array([3, -1]))
