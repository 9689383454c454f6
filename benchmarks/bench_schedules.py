"""Benchmark: evaluating companion's learning-rate schedules over many steps at once.

Every factory of :mod:`companion.schedules` checks its arguments once and evaluates an integer
array of steps with array arithmetic. This script times each one over ``--steps`` steps (default
10^6; the median of ``--rounds`` calls) and, for comparison, the cost per step of building the
schedule and calling it with one ``int`` at a time (timed on a sample of steps and scaled up), which
is what a per-step Python loop pays. It prints a table; nothing here asserts a time (the tests only
run ``run(quick=True)`` to see that every schedule is timed).

    python benchmarks/bench_schedules.py [--steps N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion import schedules as S  # noqa: E402

MILESTONES_199 = list(range(5000, 1_000_000, 5000))


def factories() -> dict[str, Callable[[], S.Schedule]]:
    """How each schedule is built: the benchmark times the build once and the array call."""
    return {
        "multistep_lr (199 milestones)": lambda: S.multistep_lr_schedule(0.1, MILESTONES_199, 0.98),
        "cosine_annealing_lr": lambda: S.cosine_annealing_lr_schedule(0.1, 10**5, 1e-5),
        "step_lr": lambda: S.step_lr_schedule(0.1, 1000, 0.5),
        "exponential_lr": lambda: S.exponential_lr_schedule(0.1, 0.99999),
        "constant_lr": lambda: S.constant_lr_schedule(0.1, 0.2, 500),
        "linear_lr": lambda: S.linear_lr_schedule(0.1, 0.1, 1.0, 10**4),
        "polynomial_lr": lambda: S.polynomial_lr_schedule(0.1, 10**6, 2.0),
        "cosine_warm_restarts_lr (T_mult=2)": lambda: S.cosine_warm_restarts_lr_schedule(0.1, 100, 2),
        "cyclic_lr (exp_range)": lambda: S.cyclic_lr_schedule(0.01, 0.1, 2000, mode="exp_range", gamma=0.99999),
        "one_cycle_lr": lambda: S.one_cycle_lr_schedule(0.1, 10**6),
        "swa_lr": lambda: S.swa_lr_schedule(0.1, 0.01, 1000),
        "warmup_cosine": lambda: S.warmup_cosine_schedule(0.1, 10**6, 10**4),
        "sequential (linear, cosine)": lambda: S.sequential_schedule(
            [S.linear_lr_schedule(0.1, 0.1, 1.0, 1000), S.cosine_annealing_lr_schedule(0.1, 10**6)], [1000]
        ),
        "chained (exponential x multistep)": lambda: S.chained_schedule(
            [S.exponential_lr_schedule(0.1, 0.99999), S.multistep_lr_schedule(0.1, MILESTONES_199, 0.98)]
        ),
    }


@dataclass
class Result:
    name: str
    steps: int
    array_s: float  # median time of one array call over all the steps
    per_step_us: float  # a scalar call (build + evaluate one int), per step


def _median_time(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(steps: int = 10**6, rounds: int = 5, quick: bool = False) -> list[Result]:
    """Time every schedule; ``quick`` uses 10^4 steps and one round (for the tests)."""
    if quick:
        steps, rounds = 10**4, 1
    t = np.arange(steps, dtype=np.int64)
    sample = t[:: max(1, steps // 200)]
    results = []
    for name, build in factories().items():
        sched = build()
        array_s = _median_time(lambda sched=sched: sched(t), rounds)  # type: ignore[misc]
        start = time.perf_counter()
        for k in sample:  # the scalar form re-checks the arguments on every call, as the book's prose uses it
            build()(int(k))
        per_step = (time.perf_counter() - start) / len(sample)
        results.append(Result(name, steps, array_s, per_step * 1e6))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = run(args.steps, args.rounds)
    print(f"Schedules over {args.steps:,} steps (median of {args.rounds} array calls)")
    print(f"{'schedule':38} {'array call':>12} {'per step':>10} {'scalar loop (est.)':>20}")
    for r in results:
        loop_s = r.per_step_us * 1e-6 * r.steps
        print(f"{r.name:38} {r.array_s * 1e3:9.1f} ms {r.array_s / r.steps * 1e9:7.1f} ns {loop_s:17.1f} s")


if __name__ == "__main__":
    main()
