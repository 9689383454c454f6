"""The benchmark runs, its versions agree, and its memory measurements are right. (Times are printed, not tested.)"""

from __future__ import annotations

import math
import sys

import torch
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_losses as bench  # noqa: E402 - benchmarks/bench_losses.py
import bench_schedules  # noqa: E402 - benchmarks/bench_schedules.py


def test_kept_for_backward_sees_autograd_and_nothing_else() -> None:
    x = torch.randn(1000)
    # exp keeps its output (4000 bytes); sin keeps only its input, which does not count
    assert bench.kept_for_backward(lambda a: a.exp().sum(), x) == 4000
    assert bench.kept_for_backward(lambda a: a.sin().sum(), x) == 0
    assert bench.kept_for_backward(lambda a: (a.exp() * a.sin()).sum(), x) == 8000


def test_quick_benchmark_reports_every_version_after_checking_they_agree() -> None:
    info, results = bench.run(quick=True, threads=1)
    assert info["threads"] == 1 and info["torch"] == torch.__version__
    families = {r.family for r in results}
    assert families == {"sigmoid focal", "softmax focal", "symmetric CE", "log-cosh"}
    assert {r.dtype for r in results} == {"float32", "bfloat16"}
    assert all(math.isfinite(r.eager_ms) and r.eager_ms > 0 for r in results)
    for r in results:
        if r.version == "companion":
            n = math.prod(r.shape)
            element = 4 if r.dtype == "float32" else 2
            if r.family in ("sigmoid focal", "log-cosh"):
                assert r.saved_bytes_per_element == element  # the gradient, nothing else
            else:  # one logits-sized buffer and a few N-vectors
                assert element <= r.saved_bytes_per_element <= element + 16 * r.shape[0] * 4 / n
    assert "companion" in bench.format_results(results)
    # the two class losses are timed in one rotation, so their shared floor is one measurement
    for dtype in ("float32", "bfloat16"):
        floors = {r.family: r.eager_ms for r in results if r.version == "F.cross_entropy" and r.dtype == dtype}
        assert floors.keys() == {"softmax focal", "symmetric CE"}
        assert floors["softmax focal"] == floors["symmetric CE"]


def test_cases_on_one_input_are_grouped_and_nothing_else() -> None:
    x, z = torch.zeros(3), torch.zeros(3)
    cases = [bench.Case(name, t, (), {}) for name, t in (("a", x), ("b", x), ("c", z), ("d", x))]
    assert [[c.family for c in g] for g in bench.groups(cases)] == [["a", "b"], ["c"], ["d"]]


def test_quick_schedule_benchmark_times_every_schedule_it_builds() -> None:
    results = bench_schedules.run(quick=True)
    assert [r.name for r in results] == list(bench_schedules.factories())
    assert all(r.steps == 10**4 and r.array_s > 0 and r.per_step_us > 0 for r in results)
    assert len(bench_schedules.MILESTONES_199) == 199
