"""companion.losses as kernels: torch.compile, torch.func, second derivatives, memory, sync-free checks.

The value tests of each loss live in test_focal.py, test_sce.py and test_reference_part1.py; this file
checks the properties that make the losses usable inside other people's training steps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import mpmath
import pytest
import torch
import torch._dynamo
import torch.nn.functional as F
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import grad, jacrev, vmap

from companion.losses import (
    FocalLoss,
    LogCoshLoss,
    SCELoss,
    SoftmaxFocalLoss,
    binary_focal_loss_from_probs,
    log_cosh,
    log_cosh_loss,
    sce_loss,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from companion.losses._fused import binary_focal_terms, softmax_row_terms
from companion.measure import new_tensors

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_losses as bench  # noqa: E402 - benchmarks/bench_losses.py measures what is kept for backward

Loss = Callable[[torch.Tensor], torch.Tensor]

EXTREME = [0.0, 1e-4, -1e-4, 6.0, -6.0, 20.0, -20.0, 100.0, -100.0]


def _binary_inputs(device: torch.device, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x = torch.cat([3 * torch.randn(31, generator=g), torch.tensor(EXTREME)]).reshape(8, 5)
    hard = (torch.rand(8, 5, generator=g) < 0.3).float()
    soft = torch.rand(8, 5, generator=g)
    return x.to(device, dtype), hard.to(device, dtype), soft.to(device, dtype)


def _class_inputs(device: torch.device, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(1)
    rows = [[v, 0.0, -v, 1.0] for v in EXTREME]
    x = torch.cat([torch.tensor(rows), 4 * torch.randn(7, 4, generator=g)])
    t = torch.randint(0, 4, (16,), generator=g)
    t[3] = -100
    return x.to(device, dtype), t.to(device)


def _cases(device: torch.device) -> dict[str, tuple[Loss, torch.Tensor]]:
    """Every public loss, functional and module form, as a function of its logits (or probabilities)."""
    x, hard, soft = _binary_inputs(device)
    xc, t = _class_inputs(device)
    w = torch.tensor([0.5, 1.0, 2.0, 0.25], device=device)
    soft_c = torch.softmax(torch.randn(16, 4, generator=torch.Generator().manual_seed(2)), 1).to(device)
    probs = torch.sigmoid(torch.randn(8, 5, generator=torch.Generator().manual_seed(3))).to(device)
    return {
        "sigmoid_focal": (lambda a: sigmoid_focal_loss(a, hard), x),
        "sigmoid_focal soft gamma=0.5": (lambda a: sigmoid_focal_loss(a, soft, gamma=0.5, reduction="sum"), x),
        "sigmoid_focal gamma=1 none": (lambda a: sigmoid_focal_loss(a, hard, None, 1.0, "none"), x),
        "sigmoid_focal gamma=0": (lambda a: sigmoid_focal_loss(a, soft, gamma=0.0), x),
        "FocalLoss": (lambda a: FocalLoss(alpha=0.75, gamma=3.0)(a, hard), x),
        "binary_focal_loss_from_probs": (lambda p: binary_focal_loss_from_probs(p, hard), probs),
        "softmax_focal": (lambda a: softmax_focal_loss(a, t), xc),
        "softmax_focal weighted gamma=0.5 none": (
            lambda a: softmax_focal_loss(a, t, alpha=w, gamma=0.5, reduction="none"),
            xc,
        ),
        "softmax_focal soft targets": (lambda a: softmax_focal_loss(a, soft_c, gamma=2.0), xc),
        "softmax_focal label smoothing": (lambda a: softmax_focal_loss(a, t, label_smoothing=0.1), xc),
        "SoftmaxFocalLoss": (lambda a: SoftmaxFocalLoss(alpha=w, gamma=2.0)(a, t), xc),
        "sce": (lambda a: sce_loss(a, t), xc),
        "SCELoss": (lambda a: SCELoss(alpha=0.5, beta=0.5, reduction="sum")(a, t), xc),
        "log_cosh_loss": (lambda a: log_cosh_loss(a, soft), 40 * x),
        "LogCoshLoss none": (lambda a: LogCoshLoss(reduction="none")(a, soft), 40 * x),
        "log_cosh": (lambda a: log_cosh(a), 40 * x),
    }


CASE_NAMES = list(_cases(torch.device("cpu")))


def _value_and_grad(fn: Loss, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    leaf = x.detach().clone().requires_grad_()
    value = fn(leaf)
    value.sum().backward()
    assert leaf.grad is not None
    return value.detach(), leaf.grad


# ---------------------------------------------------------------------------
# torch.compile


@pytest.mark.parametrize("name", CASE_NAMES)
def test_compiles_to_one_graph_and_matches_eager(name: str, device: torch.device) -> None:
    fn, x = _cases(device)[name]
    torch._dynamo.reset()
    compiled = torch.compile(fn, fullgraph=True, dynamic=False)  # fullgraph: a graph break is an error
    want, want_grad = _value_and_grad(fn, x)
    got, got_grad = _value_and_grad(compiled, x)
    assert torch.isfinite(want).all() and torch.isfinite(want_grad).all()
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(got_grad, want_grad, rtol=1e-5, atol=1e-7)


def test_compiled_value_check_raises_without_a_graph_break() -> None:
    x, hard, _ = _binary_inputs(torch.device("cpu"))
    compiled = torch.compile(lambda a, y: sigmoid_focal_loss(a, y), fullgraph=True)
    compiled(x, hard)
    with pytest.raises(RuntimeError, match="target must hold values in"):
        compiled(x, hard + 1)
    xc, t = _class_inputs(torch.device("cpu"))
    compiled_ce = torch.compile(lambda a, k: softmax_focal_loss(a, k), fullgraph=True)
    compiled_ce(xc, t)
    # inductor may evaluate its own bounds check on the gather first; either way the call fails
    with pytest.raises(RuntimeError, match="target must hold class indices|index out of bounds"):
        compiled_ce(xc, t + 4)


# ---------------------------------------------------------------------------
# torch.func


@pytest.mark.parametrize("name", CASE_NAMES)
def test_func_grad_and_vmap_agree_with_autograd(name: str, device: torch.device) -> None:
    fn, x = _cases(device)[name]
    x = x.double()

    def scalar(a: torch.Tensor) -> torch.Tensor:
        return fn(a).sum()

    _, want_grad = _value_and_grad(scalar, x)
    torch.testing.assert_close(grad(scalar)(x), want_grad)
    # vmap over a batch of three scaled copies: each must equal its own unbatched call
    batch = torch.stack([x, 0.5 * x, 0.25 * x])
    torch.testing.assert_close(vmap(scalar)(batch), torch.stack([scalar(b) for b in batch]))


@pytest.mark.parametrize("name", ["sigmoid_focal", "softmax_focal", "sce", "log_cosh_loss"])
def test_func_hessian_is_the_derivative_of_the_gradient(name: str) -> None:
    fn, x = _cases(torch.device("cpu"))[name]
    x = x.double() / 4
    hess = jacrev(grad(lambda a: fn(a).sum()))(x)
    # finite differences of the (exact, first-order) gradient
    eps = 1e-6
    flat = x.flatten()
    for i in range(0, flat.numel(), max(1, flat.numel() // 5)):
        step = torch.zeros_like(flat)
        step[i] = eps
        up = grad(lambda a: fn(a).sum())((flat + step).view_as(x))
        down = grad(lambda a: fn(a).sum())((flat - step).view_as(x))
        column = ((up - down) / (2 * eps)).flatten()
        torch.testing.assert_close(hess.reshape(flat.numel(), flat.numel())[:, i], column, rtol=1e-5, atol=1e-8)


def test_value_checks_still_raise_inside_torch_func() -> None:
    x, hard, _ = _binary_inputs(torch.device("cpu"))
    with pytest.raises(ValueError, match="target"):
        vmap(lambda a, y: sigmoid_focal_loss(a, y))(x, hard + 2)
    with pytest.raises(ValueError, match="target"):
        grad(lambda a: sigmoid_focal_loss(a, hard - 1))(x)


# ---------------------------------------------------------------------------
# derivatives in float64


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("soft", [False, True])
def test_sigmoid_focal_gradgradcheck_in_input_and_target(gamma: float, soft: bool) -> None:
    x, hard, soft_y = _binary_inputs(torch.device("cpu"), torch.float64)
    x = x[:3].clone().requires_grad_()
    y = (soft_y if soft else hard)[:3].clone().requires_grad_(soft)
    args = (x, y) if soft else (x,)

    def f(a: torch.Tensor, b: torch.Tensor = y) -> torch.Tensor:
        return sigmoid_focal_loss(a, b, alpha=0.25, gamma=gamma, reduction="none")

    assert torch.autograd.gradcheck(f, args)
    assert torch.autograd.gradgradcheck(f, args)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_class_losses_gradgradcheck(gamma: float) -> None:
    x, t = _class_inputs(torch.device("cpu"), torch.float64)
    x = (x[9:] / 2).clone().requires_grad_()
    t = t[9:]
    w = torch.tensor([0.5, 1.0, 2.0, 0.25], dtype=torch.float64)
    for f in (
        lambda a: softmax_focal_loss(a, t, alpha=w, gamma=gamma, reduction="none"),
        lambda a: sce_loss(a, t, alpha=0.3, beta=1.0 + gamma, reduction="sum"),
    ):
        assert torch.autograd.gradcheck(f, (x,))
        assert torch.autograd.gradgradcheck(f, (x,))


def test_probs_and_log_cosh_gradgradcheck() -> None:
    _, hard, soft = _binary_inputs(torch.device("cpu"), torch.float64)
    p = soft[:3].clone().clamp(0.05, 0.95).requires_grad_()
    assert torch.autograd.gradgradcheck(lambda a: binary_focal_loss_from_probs(a, hard[:3], gamma=1.5), (p,))
    r = (4 * soft[:3] - 2).requires_grad_()
    y = soft[3:6].clone().requires_grad_()
    assert torch.autograd.gradgradcheck(lambda a, b: log_cosh_loss(a, b, reduction="none"), (r, y))


# ---------------------------------------------------------------------------
# the fast (in-place) forward computes what the plain formula computes


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.floats(-120, 120), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
    gamma=st.sampled_from([0.0, 0.3, 1.0, 2.0, 4.5]),
    alpha=st.one_of(st.none(), st.floats(0, 1)),
    soft=st.booleans(),
)
def test_inplace_forward_matches_the_out_of_place_formula(xs, seed, gamma, alpha, soft) -> None:
    x = torch.tensor(xs)
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(x.shape, generator=g)
    if not soft:
        y = (y < 0.5).float()
    fast = binary_focal_terms(x, y, alpha, gamma, True, inplace=True)
    plain = binary_focal_terms(x, y, alpha, gamma, True, inplace=False)
    for a, b in zip(fast, plain, strict=True):
        assert a is not None and b is not None
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-30)
    logits = torch.randn(len(xs), 5, generator=g) * 30
    t = torch.randint(0, 5, (len(xs),), generator=g)
    for rule, params in (("focal", (gamma,)), ("sce", (0.3, 1.0, -4.0))):
        fast = softmax_row_terms(logits, t, None, rule, params, True, inplace=True)
        plain = softmax_row_terms(logits, t, None, rule, params, True, inplace=False)
        for a, b in zip(fast, plain, strict=True):
            assert a is not None and b is not None
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-30)


# ---------------------------------------------------------------------------
# memory kept for backward


@pytest.mark.parametrize("dtype, per_element", [(torch.float32, 4), (torch.bfloat16, 2), (torch.float64, 8)])
def test_binary_losses_keep_one_gradient_per_element(dtype: torch.dtype, per_element: int) -> None:
    n = 10_000
    x = torch.randn(n, dtype=dtype)
    y = torch.rand(n, dtype=dtype)
    # the fused kernel keeps the gradient (the input's dtype); autograd's chain keeps several tensors
    assert bench.kept_for_backward(lambda a: sigmoid_focal_loss(a, y), x, (y,)) == per_element * n
    assert bench.kept_for_backward(lambda a: log_cosh_loss(a, y), x, (y,)) == per_element * n
    p = torch.rand(n, dtype=dtype)
    assert bench.kept_for_backward(lambda a: binary_focal_loss_from_probs(a, y), p, (y,)) == per_element * n
    # the measurement sees what autograd keeps: torch's own chain for the same loss keeps more
    assert bench.kept_for_backward(lambda a: bench.torchvision_focal(a, y), x, (y,)) >= 3 * per_element * n


def test_the_backward_pass_hands_over_its_buffer_as_the_gradient() -> None:
    # the gradient built in the kept buffer becomes the leaf's .grad as it is: autograd copies a
    # returned gradient that something else still refers to, a full-size copy on every step
    n = 10_000
    x, y, p = torch.randn(n), torch.rand(n), torch.rand(n)
    logits, t = torch.randn(n // 10, 10), torch.randint(0, 10, (n // 10,))
    cases = {
        "sigmoid_focal_loss": (x, lambda a: sigmoid_focal_loss(a, y, gamma=2.0)),
        "binary_focal_loss_from_probs": (p, lambda a: binary_focal_loss_from_probs(a, y, gamma=2.0)),
        "log_cosh_loss": (x, lambda a: log_cosh_loss(a, y)),
        "softmax_focal_loss": (logits, lambda a: softmax_focal_loss(a, t, gamma=2.0)),
        "sce_loss": (logits, lambda a: sce_loss(a, t)),
    }
    for name, (data, loss_fn) in cases.items():
        leaf = data.detach().requires_grad_()
        loss = loss_fn(leaf)
        created = new_tensors(loss.backward, data.numel())
        assert created == 0, f"{name}: the backward pass allocated {created} full-size tensors"
        assert leaf.grad is not None and leaf.grad.shape == data.shape


def test_class_losses_keep_one_logits_sized_buffer() -> None:
    n, c = 256, 100
    x = torch.randn(n, c)
    t = torch.randint(0, c, (n,))
    for fn in (lambda a: softmax_focal_loss(a, t), lambda a: sce_loss(a, t)):
        extra = bench.kept_for_backward(fn, x, (t,))
        assert n * c * 4 <= extra <= n * c * 4 + 16 * n * 4  # one N x C buffer and a few N-vectors


def test_no_gradient_no_saved_gradient() -> None:
    x, hard, _ = _binary_inputs(torch.device("cpu"))
    with torch.no_grad():
        value = sigmoid_focal_loss(x.requires_grad_(), hard)
    assert value.grad_fn is None
    torch.testing.assert_close(value, sigmoid_focal_loss(x.detach(), hard))


# ---------------------------------------------------------------------------
# soft targets, label smoothing, accuracy


def test_softmax_focal_soft_targets_and_smoothing_are_cross_entropy_at_gamma_zero() -> None:
    torch.manual_seed(7)
    x = torch.randn(6, 5, 3)
    q = torch.softmax(torch.randn(6, 5, 3), dim=1)
    t = torch.randint(0, 5, (6, 3))
    t[0, 0] = -100
    for red in ("none", "mean", "sum"):
        torch.testing.assert_close(
            softmax_focal_loss(x, q, gamma=0.0, reduction=red), F.cross_entropy(x, q, reduction=red)
        )
        torch.testing.assert_close(
            softmax_focal_loss(x, t, gamma=0.0, reduction=red, label_smoothing=0.2),
            F.cross_entropy(x, t, reduction=red, label_smoothing=0.2),
        )
    # one-hot probability targets give the class-index loss for every gamma
    hard = t.clamp(min=0)
    onehot = F.one_hot(hard, 5).movedim(-1, 1).float()
    for gamma in (0.5, 2.0):
        torch.testing.assert_close(
            softmax_focal_loss(x, onehot, gamma=gamma, reduction="none"),
            softmax_focal_loss(x, hard, gamma=gamma, reduction="none"),
        )
    module = SoftmaxFocalLoss(gamma=0.0, label_smoothing=0.2)
    torch.testing.assert_close(module(x, t), F.cross_entropy(x, t, label_smoothing=0.2))


def test_soft_target_errors_name_the_problem() -> None:
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="target must hold values in"):
        softmax_focal_loss(x, torch.tensor([[0.5, 0.7, -0.2], [1.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="label_smoothing applies"):
        softmax_focal_loss(x, torch.full((2, 3), 1 / 3), label_smoothing=0.1)
    with pytest.raises(ValueError, match="label_smoothing"):
        softmax_focal_loss(x, torch.tensor([0, 1]), label_smoothing=1.5)


def test_sce_keeps_relative_accuracy_when_p_y_rounds_to_one() -> None:
    x = torch.tensor([[20.0, 0.0, -20.0], [1e4, 1e4, 0.0]])
    t = torch.tensor([0, 0])
    got = sce_loss(x, t, alpha=0.1, beta=1.0, reduction="none")
    mpmath.mp.dps = 50
    A = mpmath.log(mpmath.mpf("1e-4"))
    want = []
    for row in x.double().tolist():
        e = [mpmath.exp(mpmath.mpf(v) - max(row)) for v in row]
        p = e[0] / mpmath.fsum(e)
        want.append(float(0.1 * -mpmath.log(p) - A * (1 - p)))
    torch.testing.assert_close(got.double(), torch.tensor(want, dtype=torch.float64), rtol=1e-6, atol=0)


def test_other_class_logits_of_minus_infinity_give_finite_gradients() -> None:
    x = torch.tensor([[2.0, float("-inf"), float("-inf")], [0.0, 1.0, float("-inf")]], requires_grad=True)
    t = torch.tensor([0, 1])
    for fn in (softmax_focal_loss, sce_loss):
        x.grad = None
        fn(x, t).backward()
        assert torch.isfinite(x.grad).all()
        x.grad = None
        F.cross_entropy(x, t).backward()
        reference = x.grad.clone()
        x.grad = None
        softmax_focal_loss(x, t, gamma=0.0).backward()
        torch.testing.assert_close(x.grad, reference)


def test_bfloat16_inputs_give_bfloat16_results_close_to_float32() -> None:
    x, hard, soft = _binary_inputs(torch.device("cpu"))
    xb = x.bfloat16().requires_grad_()
    loss = sigmoid_focal_loss(xb, soft.bfloat16(), reduction="none")
    loss.sum().backward()
    assert loss.dtype == xb.grad.dtype == torch.bfloat16
    x32 = xb.detach().float().requires_grad_()
    ref = sigmoid_focal_loss(x32, soft.bfloat16().float(), reduction="none")
    ref.sum().backward()
    torch.testing.assert_close(loss.float(), ref, rtol=2**-7, atol=1e-30)
    torch.testing.assert_close(xb.grad.float(), x32.grad, rtol=2**-7, atol=1e-30)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_retained_graph_gives_the_same_gradient_twice(name: str) -> None:
    # the first backward pass scales the saved gradient in place; a second one must not reuse it
    fn, x = _cases(torch.device("cpu"))[name]
    leaf = x.detach().clone().requires_grad_()
    out = fn(leaf).sum()
    out.backward(retain_graph=True)
    first = leaf.grad.clone()
    leaf.grad = None
    out.backward()
    torch.testing.assert_close(leaf.grad, first)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-13), (torch.float32, 6e-7)])
def test_compiled_log_cosh_and_its_gradient_match_high_precision(dtype: torch.dtype, rtol: float) -> None:
    # under torch.compile the forward pass takes another exact formula (tanh and one log1p); check it on its own
    values = [0.0, 1e-30, 1e-8, 1e-4, 0.01, 0.3, 1.0, 2.5, 10.0, 30.0, 79.0, 81.0, 89.5, 700.0, 1e10]
    # and densely across the switches of the formula (the series for tanh ends at 0.35, the loss's branches meet at 1)
    dense = [torch.logspace(-8, 3, 120), torch.linspace(0.3, 0.4, 81), torch.linspace(0.9, 1.1, 81)]
    values += torch.cat(dense).tolist()
    x = torch.tensor(values + [-v for v in values], dtype=dtype, requires_grad=True)
    torch._dynamo.reset()
    got = torch.compile(lambda a: log_cosh(a), fullgraph=True)(x)
    got.sum().backward()
    with mpmath.workdps(100):
        want = [float(mpmath.log(mpmath.cosh(mpmath.mpf(float(v))))) for v in x.detach().double()]
        slope = [float(mpmath.tanh(mpmath.mpf(float(v)))) for v in x.detach().double()]
    tiny = torch.finfo(dtype).tiny
    torch.testing.assert_close(got.detach().double(), torch.tensor(want, dtype=torch.float64), rtol=rtol, atol=tiny)
    torch.testing.assert_close(x.grad.double(), torch.tensor(slope, dtype=torch.float64), rtol=rtol, atol=tiny)


def test_eager_calls_skip_the_signature_binding_of_function_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    # Function.apply binds arguments with inspect.signature on every call (about 17 µs); the losses'
    # eager path calls autograd's C++ apply directly, with the same values and gradients
    import inspect

    x, hard, _ = _binary_inputs(torch.device("cpu"))
    logits, t = _class_inputs(torch.device("cpu"))
    cases = [
        lambda: sigmoid_focal_loss(x, hard, alpha=0.25, gamma=2.0),
        lambda: binary_focal_loss_from_probs(torch.sigmoid(x.clamp(-8, 8)), hard, gamma=2.0),
        lambda: softmax_focal_loss(logits, t, gamma=2.0),
        lambda: sce_loss(logits, t),
        lambda: log_cosh_loss(x, hard),
    ]
    expected = []
    for case in cases:
        x.requires_grad_(True), logits.requires_grad_(True)
        value = case()
        expected.append((value.detach(), *torch.autograd.grad(value, [x, logits], allow_unused=True)))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect.signature called on the eager path")

    monkeypatch.setattr(inspect, "signature", refuse)
    for case, (value, gx, gl) in zip(cases, expected, strict=True):
        got = case()
        got_gx, got_gl = torch.autograd.grad(got, [x, logits], allow_unused=True)
        torch.testing.assert_close(got.detach(), value)
        for a, b in ((got_gx, gx), (got_gl, gl)):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b)
