"""companion.regularization: penalties, parameter selection, optimizer equivalences, the L1 prox."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.linear_model import Lasso
from torch import nn

from companion.regularization import decay_parameters, l1_penalty, l2_penalty, param_groups, prox_l1_


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(2, 4, 3),
        nn.BatchNorm1d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6, 5),
        nn.LayerNorm(5),
        nn.Linear(5, 1),
    )


def test_penalties_match_their_formulas() -> None:
    ws = [torch.randn(3, 4, dtype=torch.float64), torch.randn(5, dtype=torch.float64)]
    flat = torch.cat([w.flatten() for w in ws])
    torch.testing.assert_close(l1_penalty(ws, 0.3), 0.3 * flat.abs().sum())
    torch.testing.assert_close(l2_penalty(ws, 0.3), 0.15 * (flat**2).sum())
    torch.testing.assert_close(l2_penalty(ws, 0.3, half=False), 0.3 * (flat**2).sum())


def test_decay_parameters_picks_weights_by_module_type_not_by_name() -> None:
    net = _net()
    decay, no_decay = decay_parameters(net)
    names = {id(p): n for n, p in net.named_parameters()}
    assert [names[id(p)] for p in decay] == ["0.weight", "4.weight", "6.weight"]
    assert sorted(names[id(p)] for p in no_decay) == sorted(
        ["0.bias", "1.weight", "1.bias", "4.bias", "5.weight", "5.bias", "6.bias"]
    )


def test_every_trainable_parameter_lands_in_exactly_one_group() -> None:
    net = _net()
    shared = nn.Linear(3, 3)
    net.add_module("tied_a", shared)
    net.add_module("tied_b", shared)
    net.add_module("emb", nn.Embedding(10, 3))
    net[1].weight.requires_grad_(False)
    decay, no_decay = decay_parameters(net)
    ids = [id(p) for p in decay + no_decay]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in net.parameters() if p.requires_grad}
    assert id(net.emb.weight) in {id(p) for p in no_decay}


def test_penalty_of_a_module_skips_biases_and_norm_layers() -> None:
    net = _net()
    expected = sum(p.abs().sum() for n, p in net.named_parameters() if n in {"0.weight", "4.weight", "6.weight"})
    torch.testing.assert_close(l1_penalty(net, 1.0), expected)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_weight_decay_is_the_half_l2_penalty_for_sgd_and_adam(opt_name: str) -> None:
    torch.manual_seed(1)
    x, y = torch.randn(32, 5, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64)
    a = nn.Linear(5, 1).double()
    b = copy.deepcopy(a)
    lam = 0.05
    opt_cls = getattr(torch.optim, opt_name)
    opt_a = opt_cls(a.parameters(), lr=0.05, weight_decay=lam)
    opt_b = opt_cls(b.parameters(), lr=0.05)
    for _ in range(25):
        opt_a.zero_grad()
        nn.functional.mse_loss(a(x), y).backward()
        opt_a.step()
        opt_b.zero_grad()
        (nn.functional.mse_loss(b(x), y) + l2_penalty(list(b.parameters()), lam)).backward()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-10, atol=1e-12)


def test_adamw_decay_is_not_an_l2_penalty() -> None:
    torch.manual_seed(2)
    x, y = torch.randn(32, 5, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64)
    a = nn.Linear(5, 1).double()
    b = copy.deepcopy(a)
    opt_a = torch.optim.AdamW(a.parameters(), lr=0.05, weight_decay=0.5)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.05)
    for _ in range(25):
        for model, opt, lam in ((a, opt_a, 0.0), (b, opt_b, 0.5)):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            if lam:
                loss = loss + l2_penalty(list(model.parameters()), lam)
            loss.backward()
            opt.step()
    assert (a.weight - b.weight).abs().max() > 1e-3


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-10, 10)), st.floats(0, 5))
def test_prox_l1_is_soft_thresholding(values: np.ndarray, t: float) -> None:
    w = torch.from_numpy(values.copy())
    prox_l1_(w, t)
    expected = np.sign(values) * np.maximum(np.abs(values) - t, 0)
    np.testing.assert_allclose(w.numpy(), expected, atol=1e-12)
    assert not torch.signbit(w[w == 0]).any()  # no negative zeros


def test_ista_with_prox_l1_reaches_sklearns_lasso() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 10))
    true_w = np.array([3.0, -2.0, 0, 0, 1.5, 0, 0, 0, 0, 0.5])
    y = X @ true_w + 0.1 * rng.normal(size=80)
    alpha = 0.1  # sklearn's objective: ||y - Xw||^2 / (2n) + alpha * ||w||_1
    reference = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    lr = 1.0 / np.linalg.eigvalsh(X.T @ X / len(X)).max()
    for _ in range(3000):
        loss = ((yt - Xt @ w) ** 2).sum() / (2 * len(X))
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
        prox_l1_(w, lr * alpha)
    np.testing.assert_allclose(w.detach().numpy(), reference, atol=1e-8)
    assert ((w == 0) == torch.from_numpy(reference == 0)).all()


def test_param_groups_feed_an_optimizer() -> None:
    net = _net()
    opt = torch.optim.AdamW(param_groups(net, weight_decay=0.01), lr=1e-3)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(net.parameters()))
    only_biases = nn.Sequential(nn.LayerNorm(3))
    assert [g["weight_decay"] for g in param_groups(only_biases, 0.1)] == [0.0]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: l1_penalty([torch.ones(2)], -0.1), ValueError, "weight"),
        (lambda: l2_penalty([torch.ones(2)], float("nan")), ValueError, "weight"),
        (lambda: l2_penalty([torch.ones(2)], "0.1"), TypeError, "weight"),
        (lambda: l1_penalty([], 0.1), ValueError, "empty"),
        (lambda: l1_penalty([torch.ones(2, dtype=torch.long)], 0.1), TypeError, "floating"),
        (lambda: l1_penalty([[1.0, 2.0]], 0.1), TypeError, "params"),
        (lambda: l1_penalty(3.0, 0.1), TypeError, "params"),
        (lambda: param_groups(nn.Linear(2, 2), -1.0), ValueError, "weight_decay"),
        (lambda: decay_parameters([torch.ones(2)]), TypeError, "module"),
        (lambda: prox_l1_(torch.ones(2), -0.5), ValueError, "threshold"),
    ],
)
def test_bad_input_is_rejected(call, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
