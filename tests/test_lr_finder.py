"""companion.lr_finder: the range test sweeps, stops on divergence, restores everything, and suggests a rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from companion.lr_finder import lr_range_test, suggest_lr


def _problem(seed: int = 0) -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 6, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    return net, [(x[i : i + 32], y[i : i + 32]) for i in range(0, 512, 32)]


def _snapshot(net: nn.Module, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    model = {k: v.clone() for k, v in net.state_dict().items()}
    state = {}
    for p, s in opt.state.items():
        state[id(p)] = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}
    return model, state


@pytest.mark.parametrize(
    "opt_cls, hyper", [(torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}), (torch.optim.AdamW, {"lr": 1e-3})]
)
def test_range_test_restores_model_optimizer_mode_and_rng_exactly(opt_cls: type, hyper: dict) -> None:
    net, data = _problem()
    opt = opt_cls(net.parameters(), **hyper)
    for inputs, targets in data[:5]:  # a model part-way through training, with optimizer state
        opt.zero_grad()
        nn.functional.cross_entropy(net(inputs), targets).backward()
        opt.step()
    net.eval()
    model_before, state_before = _snapshot(net, opt)
    groups_before = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    rng_before = torch.get_rng_state()

    result = lr_range_test(net, nn.functional.cross_entropy, opt, data, start_lr=1e-5, end_lr=100.0, num_steps=80)

    assert result.lrs.size == result.losses.size == result.smoothed.size >= 3
    for k, v in net.state_dict().items():  # weights, BatchNorm statistics and its batch counter
        assert torch.equal(v, model_before[k]), k
    for p, s in opt.state.items():
        for k, v in s.items():
            before = state_before[id(p)][k]
            assert torch.equal(v, before) if isinstance(v, torch.Tensor) else v == before
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups_before
    assert not net.training and torch.equal(torch.get_rng_state(), rng_before)
    assert all(p.grad is None for p in net.parameters())


def test_rates_are_geometric_and_the_sweep_stops_when_the_loss_blows_up() -> None:
    net, data = _problem(1)
    result = lr_range_test(
        net,
        nn.functional.cross_entropy,
        torch.optim.SGD(net.parameters(), lr=0.1),
        data,
        start_lr=1e-4,
        end_lr=1e4,
        num_steps=100,
        smoothing=0.9,
    )
    n = result.lrs.size
    np.testing.assert_allclose(result.lrs, 1e-4 * 1e8 ** (np.arange(n) / 99), rtol=1e-12)
    assert result.diverged and n < 100
    assert result.smoothed[-1] > 4 * result.smoothed[:-1].min()  # the point that stopped it
    # bias-corrected EWMA of the recorded losses
    a, expected = 0.0, []
    for k, value in enumerate(result.losses):
        a = 0.9 * a + 0.1 * value
        expected.append(a / (1 - 0.9 ** (k + 1)))
    np.testing.assert_allclose(result.smoothed, expected, rtol=1e-12)
    assert result.lrs[0] <= result.suggestion < result.lrs[-1] and result.rule == "valley"


def test_without_divergence_every_step_runs_and_the_loader_is_reused() -> None:
    net, data = _problem(2)
    result = lr_range_test(
        net,
        nn.functional.cross_entropy,
        torch.optim.SGD(net.parameters(), lr=0.1),
        data[:3],
        start_lr=1e-6,
        end_lr=1e-3,
        num_steps=10,
    )
    assert not result.diverged and result.lrs.size == 10


def test_suggestion_rules_on_a_known_curve() -> None:
    lrs = np.geomspace(1e-5, 1.0, 11)
    smoothed = np.array([2.3, 2.3, 2.29, 2.2, 1.9, 1.2, 0.6, 0.4, 0.45, 1.5, 8.0])
    assert suggest_lr(lrs, smoothed, "minimum") == pytest.approx(lrs[7] / 10)
    assert suggest_lr(lrs, smoothed, "steepest") == pytest.approx(lrs[5])  # biggest drop per log-lr
    # longest descent: 7 points (0, 2, 3, ..., 7; the second 2.3 is not below the first), counted as the
    # stretch 1..7 that ends at index 7; half way: index 4
    assert suggest_lr(lrs, smoothed, "valley") == pytest.approx(lrs[4])
    noisy = smoothed.copy()
    noisy[1] = 1.5  # one noisy dip early on: steepest jumps to it, valley does not move much
    assert suggest_lr(lrs, noisy, "steepest") == pytest.approx(lrs[0])
    assert lrs[3] <= suggest_lr(lrs, noisy, "valley") <= lrs[5]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"start_lr": 1.0, "end_lr": 0.1}, ValueError, "start_lr < end_lr"),
        ({"num_steps": 2}, ValueError, "num_steps"),
        ({"smoothing": 1.0}, ValueError, "smoothing"),
        ({"diverge_factor": 1.0}, ValueError, "diverge_factor"),
        ({"rule": "knee"}, ValueError, "rule"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type[Exception], match: str) -> None:
    net, data = _problem()
    with pytest.raises(error, match=match):
        lr_range_test(net, nn.functional.cross_entropy, torch.optim.SGD(net.parameters(), lr=0.1), data, **kwargs)
    with pytest.raises(ValueError, match="same length"):
        suggest_lr([1e-3, 1e-2], [1.0, 0.5])
