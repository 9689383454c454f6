"""The benchmark script runs, and its memory measurement is right. (Its timings are printed, not tested.)"""

from __future__ import annotations

import math
import sys

import torch

from booktools import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_losses as bench  # noqa: E402 - benchmarks/bench_losses.py


def test_largest_tensor_is_measured_exactly() -> None:
    def step() -> torch.Tensor:
        a = torch.ones(100, 50)           # 20 000 bytes
        return (a * 2).sum()              # another 20 000, then 4

    assert bench.largest_tensor_bytes(step) == 100 * 50 * 4
    assert bench.largest_tensor_bytes(lambda: torch.zeros(3, dtype=torch.float64)) == 24


def test_benchmark_compares_equal_values_and_reports_every_version() -> None:
    rows = bench.run(small=True, min_run_time=0.01)
    by_loss: dict[str, list[bench.Row]] = {}
    for row in rows:
        by_loss.setdefault(row.loss.split(",")[0], []).append(row)
    assert set(by_loss) == {"sigmoid focal", "softmax focal", "symmetric CE", "log-cosh",
                            "floor: torch's fused cross entropies"}
    assert all(math.isfinite(r.ms) and r.ms > 0 for r in rows)
    # no N x C one-hot or probability matrix beyond one logits-sized temporary (256 x 100 float32)
    logits_bytes_mb = 256 * 100 * 4 / 2**20
    for name in ("softmax focal", "symmetric CE"):
        ours, direct = by_loss[name]
        assert ours.version.startswith("companion") and ours.largest_mb <= logits_bytes_mb
        assert direct.largest_mb > ours.largest_mb  # the one-hot versions build an int64 N x C matrix
    assert "companion" in bench.format_rows(rows)
