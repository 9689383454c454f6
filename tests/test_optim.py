"""companion.optim: EWMA against pandas, by-hand optimizers against torch.optim, trajectories."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import rosen, rosen_der

from companion.optim import (
    REFERENCES,
    ReferenceAdam,
    ReferenceAdamW,
    ReferenceSGD,
    adagrad_step,
    adam_step,
    ewma,
    rmsprop_step,
    rosenbrock,
    rprop_step,
    sgd_step,
    trajectory,
)

F64 = torch.float64


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


# ---------------------------------------------------------------------------
# ewma

series = hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-100, 100))
betas = st.floats(0.0, 0.99)


@given(series, betas)
@settings(max_examples=60)
def test_bias_corrected_ewma_is_pandas_adjust_true(x: np.ndarray, beta: float) -> None:
    expected = pd.Series(x).ewm(alpha=1 - beta, adjust=True).mean().to_numpy()
    np.testing.assert_allclose(ewma(x, beta, bias_correction=True), expected, rtol=1e-9, atol=1e-9)


@given(series, betas)
@settings(max_examples=60)
def test_plain_ewma_is_pandas_adjust_false_started_from_zero(x: np.ndarray, beta: float) -> None:
    expected = pd.Series(np.r_[0.0, x]).ewm(alpha=1 - beta, adjust=False).mean().to_numpy()[1:]
    np.testing.assert_allclose(ewma(x, beta), expected, rtol=1e-9, atol=1e-9)


def test_pandas_adjust_false_is_neither_form_but_is_dampened_sgd_momentum() -> None:
    """pandas' adjust=False starts from x_1 itself; so does torch's SGD momentum buffer."""
    x = np.array([4.0, -1.0, 2.5, 3.0, 0.5])
    beta = 0.8
    adjust_false = pd.Series(x).ewm(alpha=1 - beta, adjust=False).mean().to_numpy()
    assert np.abs(adjust_false - ewma(x, beta)).max() > 0.1
    assert np.abs(adjust_false - ewma(x, beta, bias_correction=True)).max() > 0.1
    w = torch.zeros(1, dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.0, momentum=beta, dampening=beta)
    buffers = []
    for g in x:
        w.grad = torch.tensor([g], dtype=F64)
        opt.step()
        buffers.append(opt.state[w]["momentum_buffer"].item())
    np.testing.assert_allclose(buffers, adjust_false, rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98])
def test_ewma_of_a_constant_has_weights_summing_to_one_minus_beta_power(beta: float) -> None:
    t = np.arange(1, 101)
    np.testing.assert_allclose(ewma(np.full(100, 3.0), beta), 3.0 * (1 - beta**t), rtol=1e-12)
    np.testing.assert_allclose(ewma(np.full(100, 3.0), beta, bias_correction=True), 3.0, rtol=1e-12)


def test_ewma_keeps_the_kind_dtype_and_averages_columns_independently() -> None:
    x = np.random.default_rng(0).normal(size=(30, 3))
    out = ewma(torch.from_numpy(x).float(), 0.9)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (30, 3)
    for j in range(3):
        np.testing.assert_allclose(out[:, j].numpy(), ewma(x[:, j], 0.9), rtol=1e-5, atol=1e-6)
    assert ewma(np.arange(4), 0.5).dtype == np.float64  # integers become floats
    assert ewma(np.ones(4, dtype=np.float32), 0.5).dtype == np.float32
    assert ewma(torch.arange(4), 0.5).dtype == torch.get_default_dtype()


def test_ewma_carries_gradients_of_a_tensor() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    ewma(x, 0.5)[-1].backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.125, 0.25, 0.5], dtype=F64))  # (1-b) b^(n-i)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ewma([1.0, 2.0], 1.0), ValueError, "beta"),
        (lambda: ewma([1.0, 2.0], -0.1), ValueError, "beta"),
        (lambda: ewma([1.0, 2.0], float("nan")), ValueError, "beta"),
        (lambda: ewma([1.0, 2.0], True), TypeError, "beta"),
        (lambda: ewma([1.0, 2.0], "0.9"), TypeError, "beta"),
        (lambda: ewma(3.0, 0.9), ValueError, "one-dimensional"),
        (lambda: ewma([], 0.9), ValueError, "empty"),
        (lambda: ewma(["a", "b"], 0.9), TypeError, "values"),
        (lambda: ewma(np.array([1 + 1j]), 0.9), TypeError, "values"),
        (lambda: ewma(torch.tensor([True]), 0.9), TypeError, "values"),
        (lambda: ewma([1.0], 0.9, bias_correction=1), TypeError, "bias_correction"),
    ],
)
def test_ewma_rejects_bad_input(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------
# by-hand optimizers against torch.optim


def _quadratic() -> tuple[list[torch.Tensor], Callable[[int], torch.Tensor]]:
    """A random, well-conditioned quadratic 1/2 x'Ax - b'x in 6 dimensions."""
    g = torch.Generator().manual_seed(1)
    m = torch.randn(6, 6, generator=g, dtype=F64)
    a = m @ m.T / 6 + 0.1 * torch.eye(6, dtype=F64)
    b = torch.randn(6, generator=g, dtype=F64)
    x = torch.randn(6, generator=g, dtype=F64).requires_grad_()
    return [x], lambda step: 0.5 * x @ a @ x - b @ x


def _mlp() -> tuple[list[torch.Tensor], Callable[[int], torch.Tensor]]:
    """A 4-8-1 tanh network on mini-batches of random regression data (a new batch each step)."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(128, 4, generator=g, dtype=F64)
    y = torch.sin(x.sum(1, keepdim=True)) + 0.1 * torch.randn(128, 1, generator=g, dtype=F64)
    w1 = (0.5 * torch.randn(4, 8, generator=g, dtype=F64)).requires_grad_()
    b1 = (0.1 * torch.randn(8, generator=g, dtype=F64)).requires_grad_()
    w2 = (0.5 * torch.randn(8, 1, generator=g, dtype=F64)).requires_grad_()
    params = [w1, b1, w2]

    def loss(step: int) -> torch.Tensor:
        batch = slice(16 * (step % 8), 16 * (step % 8 + 1))
        return ((torch.tanh(x[batch] @ w1 + b1) @ w2 - y[batch]) ** 2).mean()

    return params, loss


PROBLEMS = {"quadratic": _quadratic, "mlp": _mlp}


def _run(opt_cls: type, problem: str, steps: int = 50, **hyper: Any) -> tuple[torch.Tensor, dict]:
    """Every iterate (flattened, one row per step) and the final optimizer state."""
    params, loss = PROBLEMS[problem]()
    sign = -1.0 if hyper.get("maximize") else 1.0  # maximize -f, which has the same optimum
    with default_dtype(F64):  # see test_torch_nadam_keeps_its_momentum_product_in_the_default_dtype
        opt = opt_cls(params, **hyper)
        rows = []
        for k in range(steps):
            opt.zero_grad()
            (sign * loss(k)).backward()
            opt.step()
            rows.append(torch.cat([p.detach().flatten() for p in params]))
    return torch.stack(rows), {i: opt.state[p] for i, p in enumerate(params)}


def _grid(**options: list[Any]) -> list[dict[str, Any]]:
    keys = list(options)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*options.values())]


CASES: list[tuple[type[torch.optim.Optimizer], dict[str, Any]]] = (
    [
        (torch.optim.SGD, h)
        for h in _grid(
            lr=[0.05],
            momentum=[0.0, 0.9],
            dampening=[0.0, 0.3],
            nesterov=[False, True],
            weight_decay=[0.0, 0.1],
            maximize=[False, True],
        )
        if not (h["nesterov"] and (h["momentum"] == 0 or h["dampening"] != 0))
    ]
    + [
        (torch.optim.Adam, h)
        for h in _grid(
            lr=[0.01],
            betas=[(0.9, 0.999), (0.5, 0.9)],
            eps=[1e-8, 1e-3],
            weight_decay=[0.0, 0.1],
            amsgrad=[False, True],
            maximize=[False, True],
        )
    ]
    + [
        (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=a))
        for a in (False, True)
    ]
    + [
        (torch.optim.AdamW, h)
        for h in _grid(lr=[0.01], weight_decay=[0.0, 0.01, 0.5], amsgrad=[False, True], maximize=[False, True])
    ]
    + [(torch.optim.AdamW, dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3))]
    + [(torch.optim.Adamax, h) for h in _grid(lr=[0.01], weight_decay=[0.0, 0.1], maximize=[False, True])]
    + [
        (torch.optim.NAdam, h)
        for h in _grid(
            lr=[0.01],
            weight_decay=[0.0, 0.1],
            decoupled_weight_decay=[False, True],
            momentum_decay=[4e-3, 0.1],
            maximize=[False, True],
        )
    ]
    + [
        (torch.optim.RAdam, h)
        for h in _grid(
            lr=[0.01],
            betas=[(0.9, 0.999), (0.9, 0.8)],  # 0.8: rho_t passes 5 early, both branches run
            weight_decay=[0.0, 0.1],
            decoupled_weight_decay=[False, True],
            maximize=[False, True],
        )
    ]
    + [
        (torch.optim.RMSprop, h)
        for h in _grid(
            lr=[0.005],
            alpha=[0.99, 0.9],
            momentum=[0.0, 0.9],
            centered=[False, True],
            weight_decay=[0.0, 0.1],
            maximize=[False, True],
        )
    ]
    + [
        (torch.optim.Adagrad, h)
        for h in _grid(
            lr=[0.1],
            lr_decay=[0.0, 0.01],
            weight_decay=[0.0, 0.1],
            initial_accumulator_value=[0.0, 0.5],
            eps=[1e-10, 1e-3],
            maximize=[False, True],
        )
    ]
    + [
        (torch.optim.Adadelta, h)
        for h in _grid(lr=[1.0, 0.5], rho=[0.9, 0.5], eps=[1e-6, 1e-3], weight_decay=[0.0, 0.1], maximize=[False, True])
    ]
    + [
        (torch.optim.Rprop, h)
        for h in _grid(
            lr=[0.01], etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50.0), (1e-3, 0.05)], maximize=[False, True]
        )
    ]
)


def _case_id(case: tuple[type, dict[str, Any]]) -> str:
    cls, hyper = case
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in hyper.items() if k != "lr") + ")"


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_reference_trajectory_is_torchs(case: tuple[type, dict[str, Any]], problem: str) -> None:
    torch_cls, hyper = case
    expected, _ = _run(torch_cls, problem, foreach=False, **hyper)
    got, _ = _run(REFERENCES[torch_cls], problem, **hyper)
    assert (expected[-1] - expected[0]).abs().max() > 1e-3  # the parameters did move
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


# ASGD, SparseAdam, LBFGS, Adafactor and Muon have their own tests in test_optim_references.py
DENSE = [
    c
    for c in REFERENCES
    if c not in (torch.optim.ASGD, torch.optim.SparseAdam, torch.optim.LBFGS, torch.optim.Adafactor, torch.optim.Muon)
]


@pytest.mark.parametrize("torch_cls", DENSE, ids=lambda c: c.__name__)
def test_reference_matches_torchs_foreach_implementation_and_state(torch_cls: type) -> None:
    hyper: dict[str, Any] = {"lr": 0.01}
    if torch_cls is torch.optim.SGD:
        hyper = {"lr": 0.05, "momentum": 0.9, "nesterov": True}
    elif torch_cls is torch.optim.RMSprop:
        hyper = {"lr": 0.005, "momentum": 0.5, "centered": True}
    elif torch_cls in (torch.optim.Adam, torch.optim.AdamW):
        hyper = {"lr": 0.01, "amsgrad": True}
    expected, torch_state = _run(torch_cls, "mlp", foreach=True, **hyper)
    got, ref_state = _run(REFERENCES[torch_cls], "mlp", **hyper)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)
    for i, state in torch_state.items():
        buffers = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.ndim > 0]
        assert buffers, "torch keeps per-coordinate buffers for every optimizer here"
        for key in buffers:  # the same names, the same values
            torch.testing.assert_close(ref_state[i][key], state[key], rtol=1e-12, atol=1e-14)
        if "step" in state:
            assert int(state["step"]) == ref_state[i]["step"] == 50


def test_torch_nadam_keeps_its_momentum_product_in_the_default_dtype() -> None:
    """Why the comparisons run with float64 as the default dtype.

    torch stores NAdam's scalar state (``step``, ``mu_product``) in the default
    dtype, float32 unless changed, even for float64 parameters: the product of
    the momentum schedule is then rounded to 7 digits at every step.
    """
    params, loss = _mlp()
    opt = torch.optim.NAdam(params, lr=0.01)
    for k in range(3):
        opt.zero_grad()
        loss(k).backward()
        opt.step()
    assert opt.state[params[0]]["mu_product"].dtype == torch.float32 == torch.get_default_dtype()
    _, ref_state = _run(REFERENCES[torch.optim.NAdam], "mlp", steps=3, lr=0.01)
    exact = ref_state[0]["mu_product"]
    assert 1e-12 < abs(opt.state[params[0]]["mu_product"].item() - exact) / exact < 1e-6


@pytest.mark.parametrize("torch_cls", list(REFERENCES), ids=lambda c: c.__name__)
def test_reference_defaults_are_torchs(torch_cls: type) -> None:
    signature = inspect.signature(torch_cls.__init__).parameters
    ours = REFERENCES[torch_cls].hyperparameters
    defaults = {k: signature[k].default for k in ours if k in signature}
    if torch_cls is torch.optim.AdamW:  # AdamW has no such switch: it is always decoupled
        assert "decoupled_weight_decay" not in signature and ours["decoupled_weight_decay"] is True
        ours = {k: v for k, v in ours.items() if k != "decoupled_weight_decay"}
    assert defaults == ours


@given(
    lr=st.floats(1e-4, 0.05),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    eps=st.sampled_from([0.0, 1e-8, 1e-4]),
    weight_decay=st.floats(0.0, 0.5),
    amsgrad=st.booleans(),
    decoupled=st.booleans(),
)
@settings(max_examples=20)
def test_adam_matches_torch_for_random_hyperparameters(
    lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool, decoupled: bool
) -> None:
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    torch_cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    expected, _ = _run(torch_cls, "quadratic", steps=20, **hyper)
    got, _ = _run(REFERENCES[torch_cls], "quadratic", steps=20, **hyper)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@given(
    lr=st.floats(1e-3, 0.2),
    momentum=st.floats(0.0, 0.99),
    dampening=st.floats(0.0, 1.0),
    weight_decay=st.floats(0.0, 0.5),
    nesterov=st.booleans(),
)
@settings(max_examples=20)
def test_sgd_matches_torch_for_random_hyperparameters(
    lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool
) -> None:
    if nesterov:
        momentum, dampening = max(momentum, 0.1), 0.0
    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    expected, _ = _run(torch.optim.SGD, "quadratic", steps=20, **hyper)
    got, _ = _run(ReferenceSGD, "quadratic", steps=20, **hyper)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


# Closed forms that need no torch optimizer at all


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.125, 0.2, 0.25, 0.3])
def test_sgd_on_4x2_multiplies_x_by_one_minus_8lr(lr: float) -> None:
    x, state = torch.tensor([2.0], dtype=F64), {}
    for k in range(1, 11):
        sgd_step(x, 8 * x, state, lr=lr)
        assert math.isclose(x.item(), 2.0 * (1 - 8 * lr) ** k, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_momentum_buffer_of_a_constant_gradient_is_a_geometric_sum(momentum: float) -> None:
    x, state = torch.zeros(3, dtype=F64), {}
    g = torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    for t in range(1, 21):
        sgd_step(x, g, state, lr=0.1, momentum=momentum)
        torch.testing.assert_close(state["momentum_buffer"], g * (1 - momentum**t) / (1 - momentum), rtol=1e-13, atol=0)


def test_first_adam_step_has_size_lr_in_every_coordinate() -> None:
    x, state = torch.tensor([1.0, 1.0, 1.0], dtype=F64), {}
    adam_step(x, torch.tensor([1e-6, -3.0, 1e3], dtype=F64), state, lr=0.1, eps=0.0)
    torch.testing.assert_close(x, torch.tensor([0.9, 1.1, 0.9], dtype=F64), rtol=1e-15, atol=0)


def test_adamw_with_zero_gradient_decays_geometrically() -> None:
    x, state = torch.tensor([2.0, -1.0], dtype=F64), {}
    for _ in range(10):
        adam_step(x, torch.zeros(2, dtype=F64), state, lr=0.01, weight_decay=0.5, decoupled_weight_decay=True)
    torch.testing.assert_close(x, torch.tensor([2.0, -1.0], dtype=F64) * (1 - 0.005) ** 10, rtol=1e-14, atol=0)


def test_adagrad_with_a_constant_gradient_steps_lr_over_sqrt_t() -> None:
    x, state = torch.zeros(1, dtype=F64), {}
    for t in range(1, 11):
        before = x.item()
        adagrad_step(x, torch.tensor([2.0], dtype=F64), state, lr=0.3, eps=0.0)
        assert math.isclose(before - x.item(), 0.3 / math.sqrt(t), rel_tol=1e-12)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha() -> None:
    x, state = torch.zeros(2, dtype=F64), {}
    rmsprop_step(x, torch.tensor([5.0, -0.01], dtype=F64), state, lr=0.01, alpha=0.99, eps=0.0)
    torch.testing.assert_close(x, torch.tensor([-0.1, 0.1], dtype=F64), rtol=1e-12, atol=0)


def test_rprop_step_sizes_grow_shrink_and_stay_in_bounds() -> None:
    x, state = torch.zeros(1, dtype=F64), {}
    for _ in range(30):  # same sign every time: the step size grows by 1.2 up to the cap
        rprop_step(x, torch.tensor([1.0], dtype=F64), state, lr=0.1, step_sizes=(1e-6, 1.0))
    assert state["step_size"].item() == 1.0
    rprop_step(x, torch.tensor([-1.0], dtype=F64), state, lr=0.1, step_sizes=(1e-6, 1.0))
    assert state["step_size"].item() == 0.5 and state["prev"].item() == 0.0


# Optimizer behaviour inherited from torch.optim.Optimizer


def test_reference_supports_param_groups_state_dict_and_skips_params_without_grad() -> None:
    torch.manual_seed(0)
    a, b, frozen = (torch.randn(3, dtype=F64, requires_grad=True) for _ in range(3))
    opt = ReferenceAdam([{"params": [a], "lr": 0.1}, {"params": [b, frozen]}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    for _ in range(5):
        opt.zero_grad()
        (a.square().sum() + b.square().sum()).backward()
        opt.step()
    assert frozen not in opt.state and opt.state[a]["step"] == 5
    saved = opt.state_dict()
    a2, b2 = a.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    opt2 = ReferenceAdam([{"params": [a2], "lr": 0.1}, {"params": [b2, frozen]}], lr=0.01)
    opt2.load_state_dict(saved)
    for o, (p, q) in ((opt, (a, b)), (opt2, (a2, b2))):
        o.zero_grad()
        (p.square().sum() + q.square().sum()).backward()
        o.step()
    torch.testing.assert_close(a2, a, rtol=0, atol=0)
    torch.testing.assert_close(b2, b, rtol=0, atol=0)


def test_reference_returns_the_closure_loss() -> None:
    w = torch.tensor([3.0], requires_grad=True)
    opt = ReferenceAdamW([w], lr=0.1)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() < 3.0


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sgd_step(torch.ones(2), torch.ones(2), {}, lr=-0.1), ValueError, "lr"),
        (lambda: sgd_step(torch.ones(2), torch.ones(2), {}, lr=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda: sgd_step(torch.ones(2), torch.ones(3), {}, lr=0.1), ValueError, "grad"),
        (lambda: sgd_step(torch.ones(2, dtype=torch.long), torch.ones(2), {}, lr=0.1), TypeError, "param"),
        (lambda: sgd_step(torch.ones(2), torch.ones(2), [], lr=0.1), TypeError, "state"),
        (lambda: sgd_step(torch.ones(2), torch.ones(2), {}, lr="0.1"), TypeError, "lr"),
        (lambda: sgd_step(torch.ones(2), torch.ones(2), {}, lr=0.1, maximize=1), TypeError, "maximize"),
        (lambda: adam_step(torch.ones(2), torch.ones(2), {}, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda: adam_step(torch.ones(2), torch.ones(2), {}, betas=0.9), TypeError, "betas"),
        (lambda: adam_step(torch.ones(2), torch.ones(2), {}, eps=float("inf")), ValueError, "eps"),
        (lambda: rmsprop_step(torch.ones(2), torch.ones(2), {}, weight_decay=-1.0), ValueError, "weight_decay"),
        (lambda: rprop_step(torch.ones(2), torch.ones(2), {}, etas=(1.2, 0.5)), ValueError, "etas"),
        (lambda: rprop_step(torch.ones(2), torch.ones(2), {}, step_sizes=(1.0, 0.1)), ValueError, "step_sizes"),
        (lambda: adagrad_step(torch.ones(2), torch.ones(2).to_sparse(), {}), ValueError, "sparse"),
        (lambda: ReferenceAdam([torch.ones(2, requires_grad=True)], beta=(0.9, 0.99)), TypeError, "beta"),
        (lambda: ReferenceAdam([torch.ones(2, requires_grad=True)], lr=-1.0), ValueError, "lr"),
        (lambda: ReferenceSGD([torch.ones(2, requires_grad=True)], nesterov=True), ValueError, "nesterov"),
    ],
)
def test_rules_reject_bad_input(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------
# trajectory and rosenbrock


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.125, 0.2, 0.3])
def test_trajectory_of_gradient_descent_on_4x2_is_geometric(lr: float) -> None:
    path = trajectory(lambda x: 4 * x.square().sum(), [2.0], torch.optim.SGD, 20, lr=lr)
    k = torch.arange(21, dtype=F64)
    expected = 2.0 * (1 - 8 * lr) ** k
    torch.testing.assert_close(path.iterates[:, 0], expected, rtol=1e-12, atol=1e-300)
    torch.testing.assert_close(path.losses, 4 * expected**2, rtol=1e-12, atol=1e-300)
    assert path.iterates.shape == (21, 1) and path.losses.shape == (21,)


def test_trajectory_keeps_x0_dtype_and_does_not_modify_it() -> None:
    x0 = torch.tensor([[1.0, -2.0]], dtype=torch.float32)
    path = trajectory(lambda x: (x**2).sum(), x0, torch.optim.Adam, 5, lr=0.1)
    assert path.iterates.dtype == torch.float32 and path.iterates.shape == (6, 1, 2)
    assert torch.equal(x0, torch.tensor([[1.0, -2.0]])) and not x0.requires_grad
    assert not path.iterates.requires_grad and not path.losses.requires_grad


@pytest.mark.parametrize("x0", [np.array([1.0, -2.0]), np.array([1, -2]), [1.0, -2.0]], ids=["float", "int", "list"])
def test_trajectory_does_not_modify_an_array_x0(x0: Any) -> None:
    before = np.array(x0, dtype=float)
    path = trajectory(lambda x: (x**2).sum(), x0, torch.optim.SGD, 3, lr=0.1)
    np.testing.assert_array_equal(np.asarray(x0, dtype=float), before)
    assert path.iterates.dtype == torch.float64
    torch.testing.assert_close(path.iterates[-1], torch.tensor([0.512, -1.024], dtype=torch.float64))


def test_trajectory_with_lr_at_is_a_hand_written_loop_with_a_learning_rate_change() -> None:
    schedule = lambda k: 0.05 if k < 10 else 0.005  # noqa: E731
    path = trajectory(
        lambda x: 4 * x.square().sum(), [2.0, -1.0], torch.optim.SGD, 20, lr_at=schedule, lr=1.0, momentum=0.9
    )
    x = torch.tensor([2.0, -1.0], dtype=F64)
    v = torch.zeros(2, dtype=F64)
    for k in range(20):  # PyTorch's convention, written out: v = mu v + g, x -= lr v
        g = 8 * x
        v = g if k == 0 else 0.9 * v + g
        x = x - schedule(k) * v
        torch.testing.assert_close(path.iterates[k + 1], x, rtol=1e-12, atol=1e-15)


def test_trajectory_runs_lbfgs_through_its_closure_to_rosenbrocks_minimum() -> None:
    path = trajectory(
        rosenbrock, [-1.5, 2.0], torch.optim.LBFGS, 10,
        line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=1e-15,
    )  # fmt: skip
    torch.testing.assert_close(path.iterates[-1], torch.tensor([1.0, 1.0], dtype=F64), rtol=0, atol=1e-8)
    assert path.losses[-1] < 1e-15 < path.losses[0]


@given(hnp.arrays(np.float64, 2, elements=st.floats(-3, 3)), st.floats(0.5, 2), st.floats(1, 200))
@settings(max_examples=40)
def test_rosenbrock_and_its_gradient_are_scipys(point: np.ndarray, a: float, b: float) -> None:
    x = torch.tensor(point, requires_grad=True)
    value = rosenbrock(x, a=a, b=b)
    value.backward()
    if a == 1.0 and b == 100.0:
        assert math.isclose(value.item(), rosen(point), rel_tol=1e-12, abs_tol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), rosen_der(point), rtol=1e-12, atol=1e-10)
    x1, x2 = point
    assert math.isclose(value.item(), (a - x1) ** 2 + b * (x2 - x1**2) ** 2, rel_tol=1e-12, abs_tol=1e-12)


def test_rosenbrock_matches_scipy_on_a_grid() -> None:
    g = np.linspace(-2, 2, 9)
    pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    np.testing.assert_allclose(rosenbrock(torch.from_numpy(pts)).numpy(), [rosen(p) for p in pts], rtol=1e-13)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: trajectory("x**2", [1.0], torch.optim.SGD, 5, lr=0.1), TypeError, "fn"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], "SGD", 5), TypeError, "optimizer_cls"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.nn.Linear, 5), TypeError, "optimizer_cls"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.optim.SGD, 0, lr=0.1), ValueError, "steps"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.optim.SGD, 2.5, lr=0.1), TypeError, "steps"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.optim.SGD, True, lr=0.1), TypeError, "steps"),
        (lambda: trajectory(lambda x: x.sum(), [], torch.optim.SGD, 5, lr=0.1), ValueError, "x0"),
        (lambda: trajectory(lambda x: x.sum(), [float("nan")], torch.optim.SGD, 5, lr=0.1), ValueError, "x0"),
        (lambda: trajectory(lambda x: x.sum(), ["a"], torch.optim.SGD, 5, lr=0.1), TypeError, "x0"),
        (lambda: trajectory(lambda x: x, [1.0, 2.0], torch.optim.SGD, 5, lr=0.1), ValueError, "scalar"),
        (lambda: trajectory(lambda x: 1.0, [1.0], torch.optim.SGD, 5, lr=0.1), ValueError, "scalar"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.optim.SGD, 5, lr_at=0.1), TypeError, "lr_at"),
        (lambda: trajectory(lambda x: x.sum(), [1.0], torch.optim.SGD, 5, lr_at=lambda k: -1.0), ValueError, "lr_at"),
        (lambda: rosenbrock(torch.ones(3)), ValueError, "last axis"),
        (lambda: rosenbrock([1.0, 1.0]), TypeError, "torch.Tensor"),
    ],
)
def test_trajectory_rejects_bad_input(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
