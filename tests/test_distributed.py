"""companion.distributed: real 2-process gloo groups on loopback, and the helper's single-process behaviour.

The multi-process checks run tests/distributed_checks.py under torchrun (through
``run_torchrun``: 127.0.0.1, a free port, a time limit, every process killed on failure) and
assert on the differences it reports. The rest runs in this process, without a group.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from conftest import ROOT

from companion.distributed import (
    free_port,
    global_cross_entropy,
    global_mean,
    global_sce_loss,
    global_sigmoid_focal_loss,
    is_distributed,
    rank,
    run_torchrun,
    world_size,
)
from companion.losses import sce_loss, sigmoid_focal_loss

CHECKS = ROOT / "tests" / "distributed_checks.py"
JOB_TIMEOUT = 120.0  # seconds; the job takes about 15 s on 2 busy cores


# --- two processes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    start = time.monotonic()
    result = run_torchrun(CHECKS, ["main"], nproc_per_node=2, timeout=JOB_TIMEOUT)
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    data["seconds"] = time.monotonic() - start
    return data


def test_the_job_ran_on_two_ranks(report: dict[str, Any]) -> None:
    assert report["world_size"] == 2
    assert report["ranks"] == [0, 1]
    assert report["is_distributed"] is True


GLOBAL_CASES = [
    "ce weight+ignore",
    "ce smoothing+weight",
    "ce soft targets+weight",
    "ce sequences+padding",
    "focal / positives",
    "focal, no positives anywhere",
    "sce ignore",
    "empty share on rank 1",
]


@pytest.mark.parametrize("case", GLOBAL_CASES)
def test_ddp_gradient_of_the_global_mean_is_the_single_process_gradient(report: dict[str, Any], case: str) -> None:
    got = report["gradients"][case]
    assert got["grad"] < 1e-12, got  # float64: equal up to rounding
    assert got["value"] < 1e-12, got
    assert got["same value on every rank"] == 1.0


def test_the_per_rank_mean_gives_another_gradient(report: dict[str, Any]) -> None:
    """The comparison above can fail: DDP with each rank's own mean is far from one process."""
    got = report["gradients"]["ce per-rank mean (wrong)"]
    assert got["grad"] > 1e-2
    assert got["same value on every rank"] == 0.0


def test_gradients_averaged_by_hand_match_too(report: dict[str, Any]) -> None:
    assert report["gradients"]["manual all_reduce / W"]["grad"] < 1e-12


def test_second_derivatives_follow_the_same_rule(report: dict[str, Any]) -> None:
    assert report["gradients"]["hessian (summed over ranks, = W x one process)"]["grad"] < 1e-12


def test_min_denominator_clamps_the_global_count(report: dict[str, Any]) -> None:
    # (3 + 1) / max(3, 2 + 0): not the mean of per-rank clamped means, (3/3 + 1/3) / 2
    assert report["gradients"]["min_denominator after the reduction"]["value"] == pytest.approx(4 / 3, abs=1e-15)


def test_no_sync_accumulation_equals_one_large_batch(report: dict[str, Any]) -> None:
    assert report["training"]["no_sync accumulation vs one big batch"] < 1e-12


def test_zero_redundancy_optimizer_shards_the_state_not_the_update(report: dict[str, Any]) -> None:
    training = report["training"]
    assert training["zero vs adamw"] < 1e-12
    full = training["adamw state per rank"]
    shards = training["zero state per rank"]
    assert full[0] == full[1] == 2 * training["parameters"] + 4  # exp_avg, exp_avg_sq, 4 step counters
    assert sum(shards) == full[0]
    assert max(shards) < full[0]


def test_the_job_is_fast(report: dict[str, Any]) -> None:
    assert report["seconds"] < JOB_TIMEOUT


def test_a_failing_rank_fails_the_job_with_its_error() -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="rank 1 fails on purpose"):
        run_torchrun(CHECKS, ["fail"], nproc_per_node=2, timeout=JOB_TIMEOUT)
    # torchrun stops rank 0, which waits in a barrier, instead of leaving it to its 60 s timeout
    assert time.monotonic() - start < 55


def test_a_job_past_its_time_limit_is_killed_with_every_worker(tmp_path: Path) -> None:
    script = tmp_path / "hang.py"
    script.write_text(
        "import os, pathlib, time\n"
        f"pathlib.Path({str(tmp_path)!r}, 'pid-' + os.environ['RANK']).write_text(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )
    start = time.monotonic()
    # long enough for torchrun to start both workers on a busy machine (about 4 s on an idle one)
    with pytest.raises(TimeoutError, match="ran longer than 25 s"):
        run_torchrun(script, nproc_per_node=2, timeout=25)
    assert time.monotonic() - start < 45
    pids = [int(p.read_text()) for p in tmp_path.glob("pid-*")]
    assert len(pids) == 2, "the workers did not start within the time limit; the machine is too busy"
    time.sleep(0.5)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"worker {pid} survived"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_a_port_taken_in_the_meantime_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import companion.distributed

    script = tmp_path / "hello.py"
    script.write_text("print('hello from rank 0')\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        ports = [busy.getsockname()[1]]  # the first "free" port is the one this socket holds
        real = companion.distributed.free_port
        calls = []

        def taken_first() -> int:
            calls.append(1)
            return ports.pop() if ports else real()

        monkeypatch.setattr(companion.distributed, "free_port", taken_first)
        result = run_torchrun(script.name, nproc_per_node=1, timeout=JOB_TIMEOUT, cwd=tmp_path)
    assert result.stdout == "hello from rank 0\n"
    assert len(calls) == 2  # the taken port failed with EADDRINUSE, the second one worked


def test_run_torchrun_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_torchrun(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="nproc_per_node"):
        run_torchrun(CHECKS, nproc_per_node=0)
    with pytest.raises(ValueError, match="timeout"):
        run_torchrun(CHECKS, timeout=-1)


def test_free_port_is_a_loopback_port_nobody_listens_on() -> None:
    import socket

    port = free_port()
    assert 1024 <= port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


# --- one process: the identity, and the errors ---------------------------------------


def _logits() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(7, 4, generator=gen, dtype=torch.float64), torch.tensor([0, 3, -100, 1, 2, 2, -100])


def _grad(fn: Any, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    fn(x).backward()
    assert x.grad is not None
    return x.grad


def test_without_a_group_the_global_losses_are_the_ordinary_ones() -> None:
    x, t = _logits()
    w = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)
    labels = (torch.arange(28).reshape(7, 4) % 3 == 0).double()
    pairs = [
        (lambda z: global_cross_entropy(z, t, weight=w), lambda z: F.cross_entropy(z, t, weight=w)),
        (
            lambda z: global_cross_entropy(z, t, label_smoothing=0.2),
            lambda z: F.cross_entropy(z, t, label_smoothing=0.2),
        ),
        (lambda z: global_sce_loss(z, t), lambda z: sce_loss(z, t)),
        (
            lambda z: global_sigmoid_focal_loss(z, labels),
            lambda z: sigmoid_focal_loss(z, labels, reduction="sum") / labels.sum(),
        ),
    ]
    for ours, theirs in pairs:
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-15)
        torch.testing.assert_close(_grad(ours, x), _grad(theirs, x), rtol=0, atol=1e-15)
    assert world_size() == 1 and rank() == 0 and not is_distributed()


def test_global_mean_keeps_the_dtype_and_has_a_float64_count() -> None:
    x = torch.ones(3, dtype=torch.bfloat16, requires_grad=True)
    loss = global_mean(x.sum(), 3)
    assert loss.dtype == torch.bfloat16 and loss.item() == 1.0
    loss.backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16
    # 2**24 + 1 is not a float32; the count is reduced in float64
    assert global_mean(torch.tensor(2.0**24 + 1, dtype=torch.float64), 2**24 + 1).item() == 1.0


def test_global_mean_gradcheck() -> None:
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: global_mean((v**2).sum(), 5.0), (x,))
    assert torch.autograd.gradgradcheck(lambda v: global_mean((v**3).sum(), 5.0), (x,))


def test_zero_positives_are_clamped_to_one() -> None:
    x = torch.tensor([-2.0, 1.0])
    zero = torch.zeros(2)
    torch.testing.assert_close(global_sigmoid_focal_loss(x, zero), sigmoid_focal_loss(x, zero, reduction="sum"))
    assert torch.isnan(global_mean(torch.tensor(0.0), 0))  # 0 / 0, as torch's mean of nothing


def test_a_launched_process_without_a_group_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    x, t = _logits()
    for call in (lambda: global_cross_entropy(x, t), lambda: world_size(), lambda: rank()):
        with pytest.raises(RuntimeError, match=r"WORLD_SIZE=2 .*init_process_group"):
            call()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert global_cross_entropy(x, t).isfinite()


def test_a_group_without_torch_distributed_is_an_error() -> None:
    assert not dist.is_initialized()
    fake = cast(dist.ProcessGroup, object())
    with pytest.raises(RuntimeError, match="group=.*not initialised"):
        global_mean(torch.tensor(1.0), 1, group=fake)


@pytest.mark.parametrize(
    "numerator, denominator, error, message",
    [
        (torch.ones(2), 2, ValueError, "0-dimensional"),
        (torch.tensor(1), 1, TypeError, "floating-point"),
        (torch.tensor(1.0), torch.tensor(1.0, requires_grad=True), ValueError, "must not require grad"),
        (torch.tensor(1.0), torch.ones(2), ValueError, "denominator must be a number or a 0-dimensional"),
        (torch.tensor(1.0), -1.0, ValueError, "denominator must be >= 0"),
        (torch.tensor(1.0), torch.tensor(-2.0), ValueError, "denominator must be >= 0"),
        (torch.tensor(1.0), torch.tensor(float("nan")), ValueError, "denominator must be >= 0"),
        (torch.tensor(1.0), "3", TypeError, "denominator must be a real number"),
        (torch.tensor(1.0), torch.tensor(True), TypeError, "real number"),
        (1.0, 1, TypeError, "numerator must be a torch.Tensor"),
    ],
)
def test_global_mean_rejects_bad_input(numerator: Any, denominator: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        global_mean(numerator, denominator)


def test_min_denominator_is_checked() -> None:
    with pytest.raises(ValueError, match="min_denominator must be >= 0"):
        global_mean(torch.tensor(1.0), 1, min_denominator=-1)
    with pytest.raises(ValueError, match="min_positives must be >= 0"):
        global_sigmoid_focal_loss(torch.zeros(2), torch.zeros(2), min_positives=-1)


def test_the_losses_check_their_input_first() -> None:
    x, t = _logits()
    with pytest.raises(ValueError, match="target must hold values in"):
        global_sigmoid_focal_loss(torch.zeros(2), torch.tensor([0.0, 2.0]))
    with pytest.raises(TypeError, match="input must be a floating-point"):
        global_cross_entropy(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="class indices"):
        global_sce_loss(x, torch.full((7,), 9))
