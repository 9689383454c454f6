"""The five references with their own shape of problem: ASGD, SparseAdam, LBFGS, Adafactor and Muon.

Each runs side by side with its torch twin for 50 or more steps in float64 (every iterate compared,
and the optimizer state at the end), and swaps ``state_dict``s with it both ways half way through.
The coverage test fails as soon as the installed torch has an optimizer with no reference.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest
import torch
from torch import nn

from companion.optim import REFERENCES, ReferenceMuon, ReferenceOptimizer, newton_schulz
from companion.optim.rules import adafactor_step, asgd_step, lbfgs_step, muon_step, sparse_adam_step

F64 = torch.float64
TOL = {"rtol": 1e-9, "atol": 1e-12}  # the bar; most runs agree to the last few bits

Hyper = dict[str, object]


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def test_every_torch_optimizer_has_a_reference() -> None:
    """Enumerates torch.optim: a new optimizer in torch fails this until it has a reference."""
    installed = {
        obj
        for name in dir(torch.optim)
        if inspect.isclass(obj := getattr(torch.optim, name))
        and issubclass(obj, torch.optim.Optimizer)
        and obj is not torch.optim.Optimizer
    }
    assert len(installed) >= 15
    missing = sorted(c.__name__ for c in installed - set(REFERENCES))
    assert not missing, f"torch.optim optimizers without a reference: {missing}"
    for torch_cls, ref in REFERENCES.items():
        assert issubclass(ref, ReferenceOptimizer) and ref.__name__ == "Reference" + torch_cls.__name__


# ---------------------------------------------------------------------------
# problems: parameters and a closure that computes the loss of step k


class Problem(NamedTuple):
    params: list[torch.Tensor]
    loss: Callable[[int], torch.Tensor]


def _net(bias: bool, seed: int = 2) -> Problem:
    """A 4-8-3 tanh network on mini-batches of random regression data (a new batch each step)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(128, 4, generator=g, dtype=F64)
    y = torch.stack([torch.sin(x.sum(1)), torch.cos(x[:, 0]), x[:, 1] * x[:, 2]], 1)
    w1 = (0.5 * torch.randn(4, 8, generator=g, dtype=F64)).requires_grad_()
    b1 = (0.1 * torch.randn(8, generator=g, dtype=F64)).requires_grad_()
    w2 = (0.5 * torch.randn(8, 3, generator=g, dtype=F64)).requires_grad_()

    def loss(step: int) -> torch.Tensor:
        batch = slice(16 * (step % 8), 16 * (step % 8 + 1))
        hidden = torch.tanh(x[batch] @ w1 + (b1 if bias else 0.0))
        return ((hidden @ w2 - y[batch]) ** 2).mean()

    return Problem([w1, b1, w2] if bias else [w1, w2], loss)


def _tensor3(seed: int = 3) -> Problem:
    """A 3-D parameter (a stack of matrices) and a vector, for Adafactor's factored state."""
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(2, 5, 3, generator=g, dtype=F64)
    w = torch.randn(2, 5, 3, generator=g, dtype=F64).requires_grad_()
    v = torch.randn(7, generator=g, dtype=F64).requires_grad_()
    scale = torch.linspace(0.5, 4.0, 7, dtype=F64)
    return Problem([w, v], lambda k: ((w - target) ** 2).sum() * (1 + 0.1 * (k % 3)) + (scale * v**2).sum())


def _run(
    opt_cls: type[torch.optim.Optimizer],
    problem: Problem,
    steps: int,
    hyper: Hyper,
    resume: type[torch.optim.Optimizer] | None = None,
) -> tuple[torch.Tensor, torch.optim.Optimizer]:
    """Every iterate, one row per step; with ``resume``, half way through the state moves to a ``resume``."""
    params, loss = problem
    sign = -1.0 if hyper.get("maximize") else 1.0
    with default_dtype(F64):
        opt = opt_cls(params, **hyper)
        rows = []
        for k in range(steps):
            if resume is not None and k == steps // 2:
                saved = opt.state_dict()
                opt = resume(params, **hyper)
                opt.load_state_dict(saved)

            def closure(k: int = k) -> torch.Tensor:
                for p in params:
                    p.grad = None
                value = sign * loss(k)
                value.backward()
                return value

            opt.step(closure)
            rows.append(torch.cat([p.detach().flatten() for p in params]))
    return torch.stack(rows), opt


def _assert_same_state(ref: torch.optim.Optimizer, twin: torch.optim.Optimizer) -> None:
    for p_ref, p_twin in zip(ref.param_groups[0]["params"], twin.param_groups[0]["params"], strict=True):
        mine, theirs = ref.state[p_ref], twin.state[p_twin]
        assert set(theirs) - {"al"} <= set(mine), "the reference keeps torch's state keys"
        for key, value in theirs.items():
            if isinstance(value, torch.Tensor):
                torch.testing.assert_close(torch.as_tensor(mine[key], dtype=value.dtype), value, **TOL)
            elif isinstance(value, (int, float)):
                assert mine[key] == pytest.approx(value, rel=1e-9)


def _compare(
    torch_cls: type[torch.optim.Optimizer],
    make: Callable[[], Problem],
    hyper: Hyper,
    steps: int = 50,
    twin_hyper: Hyper | None = None,
) -> None:
    ref_cls = REFERENCES[torch_cls]
    twin = {**hyper, **(twin_hyper or {})}
    expected, torch_opt = _run(torch_cls, make(), steps, twin)
    got, ref_opt = _run(ref_cls, make(), steps, hyper)
    assert (expected[-1] - expected[0]).abs().max() > 1e-3, "the parameters did move"
    torch.testing.assert_close(got, expected, **TOL)
    _assert_same_state(ref_opt, torch_opt)
    # state_dicts both ways, half way through: torch -> reference, and reference -> torch
    if not twin_hyper:
        torch_then_ref, _ = _run(torch_cls, make(), steps, hyper, resume=ref_cls)
        ref_then_torch, _ = _run(ref_cls, make(), steps, hyper, resume=torch_cls)
        torch.testing.assert_close(torch_then_ref, expected, **TOL)
        torch.testing.assert_close(ref_then_torch, expected, **TOL)


# ---------------------------------------------------------------------------
# ASGD


@pytest.mark.parametrize(
    "hyper",
    [
        {},
        {"lr": 0.05, "t0": 10.0},  # the average starts at step 10
        {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 5.0, "weight_decay": 0.1},
        {"lr": 0.05, "t0": 0.0, "maximize": True},
    ],
    ids=str,
)
@pytest.mark.parametrize("make", [lambda: _net(True), _tensor3], ids=["net", "tensor3"])
def test_asgd_follows_torch(hyper: Hyper, make: Callable[[], Problem]) -> None:
    _compare(torch.optim.ASGD, make, {"lr": 0.01, **hyper} if "lr" not in hyper else hyper, steps=60)


def test_asgd_foreach_agrees_and_ax_is_the_average_of_the_iterates_after_t0() -> None:
    _compare(torch.optim.ASGD, lambda: _net(True), {"lr": 0.05, "t0": 20.0}, twin_hyper={"foreach": True})
    w, state = torch.zeros(3, dtype=F64), {}
    iterates = []
    for k in range(30):
        asgd_step(w, torch.tensor([1.0, -2.0, 0.5], dtype=F64) * (k % 4), state, lr=0.1, lambd=0.0, t0=10.0)
        iterates.append(w.clone())
    # step t uses mu_{t-1} = 1 / max(1, t - 1 - t0): ax_t is the mean of the iterates t0 + 2, ..., t
    torch.testing.assert_close(state["ax"], torch.stack(iterates[11:]).mean(0), rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------
# SparseAdam on a sparse embedding


def _embedding(seed: int = 4) -> Problem:
    """An nn.Embedding(sparse=True) of 20 rows, fitted to targets through batches of 6 indices."""
    g = torch.Generator().manual_seed(seed)
    table = nn.Embedding(20, 3, sparse=True).to(F64)
    with torch.no_grad():
        table.weight.copy_(torch.randn(20, 3, generator=g, dtype=F64))
    target = torch.randn(20, 3, generator=g, dtype=F64)
    batches = [torch.randint(0, 12, (6,), generator=g) for _ in range(8)]  # rows 12-19 never train

    def loss(step: int) -> torch.Tensor:
        idx = batches[step % 8]  # repeated indices: the gradient must be coalesced
        return ((table(idx) - target[idx]) ** 2).sum()

    return Problem([table.weight], loss)


@pytest.mark.parametrize(
    "hyper", [{"lr": 0.05}, {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3, "maximize": True}], ids=str
)
def test_sparse_adam_follows_torch_on_a_sparse_embedding(hyper: Hyper) -> None:
    _compare(torch.optim.SparseAdam, _embedding, hyper, steps=60)
    got, opt = _run(REFERENCES[torch.optim.SparseAdam], _embedding(), 60, hyper)
    start = _embedding().params[0].detach()
    untouched = got[-1].view(20, 3)[12:]
    torch.testing.assert_close(untouched, start[12:], rtol=0, atol=0)  # rows never looked up never move
    assert opt.state[opt.param_groups[0]["params"][0]]["step"] == 60


def test_sparse_adam_does_not_decay_the_moments_of_rows_a_batch_misses() -> None:
    table, state = torch.zeros(3, 1, dtype=F64), {}
    row0 = torch.sparse_coo_tensor([[0]], [[1.0]], (3, 1), dtype=F64, check_invariants=True)
    row1 = torch.sparse_coo_tensor([[1]], [[1.0]], (3, 1), dtype=F64, check_invariants=True)
    sparse_adam_step(table, row0, state, lr=0.1)
    for _ in range(5):
        sparse_adam_step(table, row1, state, lr=0.1)
    assert state["exp_avg"][0, 0].item() == pytest.approx(0.1, rel=1e-15)  # frozen since step 1
    dense_m = 0.1 * 0.9**5  # what dense Adam would hold after five zero gradients
    assert abs(state["exp_avg"][0, 0].item() - dense_m) > 0.04


# ---------------------------------------------------------------------------
# LBFGS with a closure


def _full_batch(seed: int = 5) -> Problem:
    """The network on one fixed batch: L-BFGS wants a deterministic function."""
    net = _net(True, seed)
    return Problem(net.params, lambda k: net.loss(0) + 0.0 * k)


@pytest.mark.parametrize(
    "hyper",
    [
        {"max_iter": 1},  # one iteration per step: 50 iterations
        {"max_iter": 3, "history_size": 4, "lr": 0.5},  # history overflows
        {"max_iter": 2, "line_search_fn": "strong_wolfe"},
        {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe", "tolerance_change": 1e-12},
    ],
    ids=str,
)
def test_lbfgs_follows_torch(hyper: Hyper) -> None:
    _compare(torch.optim.LBFGS, _full_batch, hyper, steps=50)


def test_lbfgs_with_line_search_reaches_rosenbrocks_minimum_as_torch_does() -> None:
    def make() -> Problem:
        x = torch.tensor([-1.5, 2.0], dtype=F64, requires_grad=True)
        return Problem([x], lambda k: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)

    hyper = {"line_search_fn": "strong_wolfe", "max_iter": 5, "tolerance_grad": 1e-12, "tolerance_change": 1e-15}
    expected, _ = _run(torch.optim.LBFGS, make(), 20, hyper)
    got, opt = _run(REFERENCES[torch.optim.LBFGS], make(), 20, hyper)
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(got[-1], torch.tensor([1.0, 1.0], dtype=F64), rtol=0, atol=1e-8)
    assert opt.state[opt.param_groups[0]["params"][0]]["func_evals"] > 20


def test_lbfgs_needs_a_closure_and_one_group() -> None:
    w = torch.zeros(2, requires_grad=True)
    opt = REFERENCES[torch.optim.LBFGS]([w])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        REFERENCES[torch.optim.LBFGS]([{"params": [w]}, {"params": [torch.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        lbfgs_step([w], lambda: w.sum(), {}, line_search_fn="armijo")


# ---------------------------------------------------------------------------
# Adafactor


@pytest.mark.parametrize(
    "hyper",
    [
        {},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.02, "beta2_decay": -0.5, "eps": (1e-30, 1e-3), "d": 2.0, "maximize": True},
    ],
    ids=str,
)
@pytest.mark.parametrize("make", [lambda: _net(True), _tensor3], ids=["net", "tensor3"])
def test_adafactor_follows_torch(hyper: Hyper, make: Callable[[], Problem]) -> None:
    _compare(torch.optim.Adafactor, make, hyper, steps=60)


def test_adafactor_foreach_agrees() -> None:
    _compare(torch.optim.Adafactor, _tensor3, {"lr": 0.05}, twin_hyper={"foreach": True})


def test_adafactor_keeps_m_plus_n_numbers_for_an_m_by_n_weight() -> None:
    w = torch.randn(256, 512, dtype=F64)
    state: dict[str, object] = {}
    adafactor_step(w, torch.randn(256, 512, dtype=F64), state)
    kept = sum(v.numel() for v in state.values() if isinstance(v, torch.Tensor))
    assert kept == 256 + 512
    adam = torch.optim.Adam([w.clone().requires_grad_()])
    p = adam.param_groups[0]["params"][0]
    p.grad = torch.ones_like(p)
    adam.step()
    assert sum(v.numel() for v in adam.state[p].values() if v.ndim) == 2 * 256 * 512


# ---------------------------------------------------------------------------
# Muon


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 0.02},
        {"lr": 0.02, "nesterov": False, "momentum": 0.9, "weight_decay": 0.0},
        {"lr": 0.01, "adjust_lr_fn": "match_rms_adamw", "ns_steps": 3},
        {"lr": 0.02, "adjust_lr_fn": "original", "ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-5},
    ],
    ids=str,
)
def test_muon_follows_torch_on_the_weight_matrices(hyper: Hyper) -> None:
    _compare(torch.optim.Muon, lambda: _net(False), hyper, steps=60)


def test_newton_schulz_in_float64_orthogonalizes_a_well_conditioned_matrix() -> None:
    g = torch.Generator().manual_seed(6)
    u, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    v, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=F64))
    m = u[:, :4] @ torch.diag(torch.tensor([2.0, 1.5, 1.0, 0.8], dtype=F64)) @ v.T
    # the classic cubic iteration (a, b, c) = (1.5, -0.5, 0) converges to U V^T
    ortho = newton_schulz(m, steps=30, coefficients=(1.5, -0.5, 0.0), dtype=F64)
    torch.testing.assert_close(ortho, u[:, :4] @ v.T, rtol=0, atol=1e-12)
    # Muon's default quintic stops in a band around 1 after 5 steps, in bfloat16 as torch runs it
    s = torch.linalg.svdvals(newton_schulz(m).to(F64))
    assert s.min() > 0.6 and s.max() < 1.25


def test_muon_rejects_what_torch_rejects() -> None:
    with pytest.raises(ValueError, match="two-dimensional"):
        ReferenceMuon([torch.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="adjust_lr_fn"):
        muon_step(torch.zeros(2, 2), torch.ones(2, 2), {}, adjust_lr_fn="rms")
    with pytest.raises(ValueError, match="ns_steps"):
        muon_step(torch.zeros(2, 2), torch.ones(2, 2), {}, ns_steps=100)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: asgd_step(torch.ones(2), torch.ones(2), {}, lambd=-1.0), ValueError, "lambd"),
        (lambda: sparse_adam_step(torch.ones(2), torch.ones(2), {}), ValueError, "sparse"),
        (lambda: adafactor_step(torch.ones(2), torch.ones(2), {}, beta2_decay=0.5), ValueError, "beta2_decay"),
        (lambda: adafactor_step(torch.ones(2), torch.ones(2), {}, d=0.5), ValueError, "d must be >= 1"),
        (lambda: adafactor_step(torch.ones(2), torch.ones(2), {}, eps=1e-3), TypeError, "eps"),
        (
            lambda: REFERENCES[torch.optim.SparseAdam]([torch.zeros(2).to_sparse().requires_grad_()]),
            ValueError,
            "dense parameters",
        ),
    ],
)
def test_new_rules_reject_bad_input(call: Callable[[], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
