"""companion.losses.focal: values against float64 / high-precision references, stability, errors."""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.losses import (
    FocalLoss,
    SoftmaxFocalLoss,
    binary_focal_loss_from_probs,
    sigmoid_focal_loss,
    softmax_focal_loss,
)

LOGITS = [0.0, 1e-4, -1e-4, 6.0, -6.0, 20.0, -20.0, 100.0, -100.0]
GAMMAS = [0.0, 0.25, 0.5, 1.0, 2.0, 5.0]
# bfloat16 keeps 8 significant bits; float32 keeps 24. Results are compared in relative terms
# down to the smallest normal number (the same, 2**-126, for both types); below it only absolute.
RTOL = {torch.float32: 1e-5, torch.bfloat16: 2**-7}
ATOL = 2.0**-126

mpmath.mp.dps = 60


# ---------------------------------------------------------------------------
# references


def _mp_sigmoid_focal(x: float, y: float, alpha: float | None, gamma: float) -> mpmath.mpf:
    """The documented formula in 60-digit arithmetic (exact for the float inputs given)."""
    x, y = mpmath.mpf(x), mpmath.mpf(y)
    p = 1 / (1 + mpmath.exp(-x))
    q = 1 / (1 + mpmath.exp(x))  # 1 - p, without cancellation
    ce = -(y * mpmath.log(p) + (1 - y) * mpmath.log(q))
    mod = abs(y * q - (1 - y) * p) ** gamma if gamma else mpmath.mpf(1)
    a = 1 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return a * mod * ce


def _mp_softmax_focal(row: list[float], t: int, gamma: float) -> mpmath.mpf:
    e = [mpmath.exp(mpmath.mpf(v)) for v in row]
    total = mpmath.fsum(e)
    pt = e[t] / total
    rest = mpmath.fsum(e[k] for k in range(len(e)) if k != t) / total
    return rest**gamma * -mpmath.log(pt) if gamma else -mpmath.log(pt)


def _naive_sigmoid_focal64(x: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float) -> torch.Tensor:
    """The formula written directly with probabilities (accurate in float64 at moderate logits)."""
    x, y = x.double(), y.double()
    p = torch.sigmoid(x)
    ce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    a = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return a * (y - p).abs() ** gamma * ce


def _torchvision_formula(x: torch.Tensor, y: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """torchvision.ops.sigmoid_focal_loss as its documentation states it (reduction='none')."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


def _naive_softmax_focal64(x: torch.Tensor, t: torch.Tensor, alpha: torch.Tensor | None, gamma: float) -> torch.Tensor:
    p = torch.softmax(x.double(), dim=1)
    pt = p.gather(1, t.unsqueeze(1)).squeeze(1)
    a = 1.0 if alpha is None else alpha.double()[t]
    return a * (1 - pt) ** gamma * -torch.log(pt)


# ---------------------------------------------------------------------------
# sigmoid focal loss: values


@settings(max_examples=60, deadline=None)
@given(
    xs=st.lists(st.floats(-15, 15), min_size=1, max_size=8),
    ys=st.lists(st.floats(0, 1), min_size=8, max_size=8),
    hard=st.booleans(),
    alpha=st.one_of(st.none(), st.floats(0, 1)),
    gamma=st.floats(0, 5),
)
def test_sigmoid_focal_matches_the_float64_formula(xs, ys, hard, alpha, gamma) -> None:
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys[: len(xs)], dtype=torch.float64)
    if hard:
        y = (y > 0.5).double()
    got = sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, _naive_sigmoid_focal64(x, y, alpha, gamma), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_sigmoid_focal_is_accurate_and_finite_at_extreme_logits(dtype, gamma, y, device) -> None:
    x = torch.tensor(LOGITS, dtype=dtype, device=device, requires_grad=True)
    target = torch.full_like(x, y)
    loss = sigmoid_focal_loss(x, target, alpha=0.25, gamma=gamma, reduction="none")
    loss.sum().backward()
    assert loss.dtype == dtype
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()

    xs = x.detach().double().tolist()  # the values actually passed (rounded to dtype)
    yv = float(target[0].double())
    ref = torch.tensor([float(_mp_sigmoid_focal(v, yv, 0.25, gamma)) for v in xs], dtype=torch.float64)
    grad = torch.tensor(
        [float(mpmath.diff(lambda s: _mp_sigmoid_focal(s, yv, 0.25, gamma), v)) for v in xs], dtype=torch.float64
    )
    torch.testing.assert_close(loss.double().cpu(), ref, rtol=RTOL[dtype], atol=ATOL)
    # the gradient goes through float32 arithmetic whatever the input dtype
    torch.testing.assert_close(x.grad.double().cpu(), grad.to(dtype).double(), rtol=2 * RTOL[dtype], atol=ATOL)


def test_naive_formula_gives_nan_gradient_where_companion_does_not() -> None:
    # gamma < 1: d/du u**gamma is infinite at u = 1 - p_t = 0, which a float32 sigmoid reaches at x = 20
    x = torch.tensor([20.0, -20.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0])
    _torchvision_formula(x, y, 0.25, 0.5).sum().backward()
    assert torch.isnan(x.grad).all()
    x.grad = None
    sigmoid_focal_loss(x, y, gamma=0.5, reduction="sum").backward()
    assert torch.isfinite(x.grad).all() and (x.grad != 0).all()


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.floats(-12, 12), min_size=1, max_size=8),
    bits=st.lists(st.booleans(), min_size=8, max_size=8),
    alpha=st.floats(0, 1),
    gamma=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]),
)
def test_sigmoid_focal_equals_torchvision_formula_for_hard_labels(xs, bits, alpha, gamma) -> None:
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(bits[: len(xs)], dtype=torch.float64)
    got = sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, _torchvision_formula(x, y, alpha, gamma), rtol=1e-9, atol=1e-12)


def test_soft_targets_use_the_distance_to_the_target_not_one_minus_pt() -> None:
    x = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64)
    y = torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64)
    p = torch.sigmoid(x)
    bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    got = sigmoid_focal_loss(x, y, alpha=None, gamma=2.0, reduction="none")
    torch.testing.assert_close(got, (y - p) ** 2 * bce)
    # torchvision's 1 - p_t = y (1 - p) + (1 - y) p is another loss for soft labels
    assert not torch.allclose(got, _torchvision_formula(x, y, -1, 2.0))


@settings(max_examples=40, deadline=None)
@given(y=st.floats(0.01, 0.99), gamma=st.floats(0.5, 4), dx=st.floats(-5, 5).filter(lambda d: abs(d) > 1e-3))
def test_soft_target_loss_is_minimized_at_p_equal_y(y, gamma, dx) -> None:
    at = torch.tensor([math.log(y / (1 - y))], dtype=torch.float64)
    target = torch.tensor([y], dtype=torch.float64)
    low = sigmoid_focal_loss(at, target, alpha=None, gamma=gamma)
    assert float(low) < 1e-7  # |y - p| is a rounding error, ~1e-16, at the logit of y
    assert float(sigmoid_focal_loss(at + dx, target, alpha=None, gamma=gamma)) > float(low)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gamma_zero_is_weighted_bce_with_logits(dtype) -> None:
    torch.manual_seed(0)
    x = torch.randn(50, 3, dtype=dtype) * 4
    y = torch.rand(50, 3, dtype=dtype)
    y[:25] = y[:25].round()
    for alpha in (None, 0.25, 0.9):
        weight = None if alpha is None else alpha * y + (1 - alpha) * (1 - y)
        want = F.binary_cross_entropy_with_logits(x, y, weight=weight, reduction="none")
        got = sigmoid_focal_loss(x, y, alpha=alpha, gamma=0.0, reduction="none")
        torch.testing.assert_close(got, want)


def test_bce_part_is_more_accurate_than_torch_for_confident_negatives() -> None:
    # torch's BCE with logits computes (1 - y) x - logsigmoid(x): for y = 0, x = -20 that is
    # -20 - (-20) = 0 in float32, while the loss is log(1 + e^-20) = 2.06e-9.
    x, y = torch.tensor([-20.0]), torch.tensor([0.0])
    assert float(F.binary_cross_entropy_with_logits(x, y)) == 0.0
    got = sigmoid_focal_loss(x, y, alpha=None, gamma=0.0)
    assert math.isclose(float(got), math.log1p(math.exp(-20.0)), rel_tol=1e-6)


@settings(max_examples=30, deadline=None)
@given(x=st.floats(-30, 30), y=st.sampled_from([0.0, 1.0, 0.4]), g1=st.floats(0, 5), g2=st.floats(0, 5))
def test_larger_gamma_never_increases_the_loss(x, y, g1, g2) -> None:
    lo, hi = sorted((g1, g2))
    xt, yt = torch.tensor([x], dtype=torch.float64), torch.tensor([y], dtype=torch.float64)
    assert float(sigmoid_focal_loss(xt, yt, gamma=hi)) <= float(sigmoid_focal_loss(xt, yt, gamma=lo)) * (1 + 1e-12)


def test_reductions_and_module() -> None:
    torch.manual_seed(1)
    x, y = torch.randn(4, 5), (torch.rand(4, 5) > 0.5).float()
    none = sigmoid_focal_loss(x, y, reduction="none")
    assert none.shape == (4, 5)
    torch.testing.assert_close(sigmoid_focal_loss(x, y, reduction="sum"), none.sum())
    torch.testing.assert_close(sigmoid_focal_loss(x, y), none.mean())
    module = FocalLoss(alpha=0.4, gamma=1.5, reduction="sum")
    torch.testing.assert_close(module(x, y), sigmoid_focal_loss(x, y, 0.4, 1.5, "sum"))
    assert "gamma=1.5" in repr(module)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_gradcheck_sigmoid_and_probs(gamma) -> None:
    torch.manual_seed(2)
    x = (torch.randn(6, dtype=torch.float64) * 3).requires_grad_()
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.3, 0.8], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: sigmoid_focal_loss(a, y, 0.25, gamma, "none"), (x,))
    p = torch.rand(6, dtype=torch.float64).mul(0.9).add(0.05).requires_grad_()
    assert torch.autograd.gradcheck(lambda a: binary_focal_loss_from_probs(a, y, 0.25, gamma, reduction="none"), (p,))


# ---------------------------------------------------------------------------
# the probability form


def test_probability_form_reproduces_the_sources_easy_and_hard_numbers() -> None:
    # two easy examples (p = 0.9 for y = 1, p = 0.1 for y = 0) and two hard ones (p = 0.5), alpha = 0.75
    y = torch.tensor([1.0, 0.0])
    easy = binary_focal_loss_from_probs(torch.tensor([0.9, 0.1]), y, alpha=0.75)
    hard = binary_focal_loss_from_probs(torch.tensor([0.5, 0.5]), y, alpha=0.75)
    # mean of 0.75 * 0.1^2 * (-ln 0.9) and 0.25 * 0.1^2 * (-ln 0.9); of 0.75 * 0.5^2 * ln 2 and 0.25 * 0.5^2 * ln 2
    assert math.isclose(float(easy), 0.5 * 0.01 * -math.log(0.9), rel_tol=1e-5)
    assert math.isclose(float(hard), 0.5 * 0.25 * math.log(2.0), rel_tol=1e-5)
    assert round(float(easy), 4) == 0.0005 and round(float(hard), 4) == 0.0866
    # the logit form gives the same numbers
    logits = torch.logit(torch.tensor([0.9, 0.1], dtype=torch.float64))
    torch.testing.assert_close(sigmoid_focal_loss(logits, y.double(), alpha=0.75), easy.double(), rtol=1e-6, atol=0)


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(st.floats(-8, 8), min_size=1, max_size=6), gamma=st.floats(0, 4), alpha=st.floats(0, 1))
def test_probability_form_agrees_with_logit_form_at_moderate_logits(xs, gamma, alpha) -> None:
    x = torch.tensor(xs, dtype=torch.float64)
    y = (torch.arange(len(xs)) % 2).double()
    got = binary_focal_loss_from_probs(torch.sigmoid(x), y, alpha, gamma, reduction="none")
    torch.testing.assert_close(got, sigmoid_focal_loss(x, y, alpha, gamma, "none"), rtol=1e-9, atol=1e-12)


def test_probability_form_caps_the_loss_of_confident_mistakes() -> None:
    # a sigmoid of -30 is 9e-14; the clamp at eps = 1e-7 caps -log p at 16.1 instead of 30
    x, y = torch.tensor([-30.0]), torch.tensor([1.0])
    capped = binary_focal_loss_from_probs(torch.sigmoid(x), y, alpha=None, gamma=2.0)
    exact = sigmoid_focal_loss(x, y, alpha=None, gamma=2.0)
    assert math.isclose(float(capped), -math.log(1e-7) * (1 - 1e-7) ** 2, rel_tol=1e-5)
    assert math.isclose(float(exact), 30.0, rel_tol=1e-5)


# ---------------------------------------------------------------------------
# softmax focal loss


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 6),
    c=st.integers(2, 5),
    gamma=st.floats(0, 5),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_softmax_focal_matches_the_float64_formula(n, c, gamma, weighted, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64) * 5
    t = torch.randint(0, c, (n,), generator=g)
    alpha = torch.rand(c, generator=g, dtype=torch.float64) if weighted else None
    got = softmax_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, _naive_softmax_focal64(x, t, alpha, gamma), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("gamma", GAMMAS)
def test_softmax_focal_is_accurate_and_finite_at_extreme_logits(dtype, gamma, device) -> None:
    rows = [[v, 0.0, -v] for v in LOGITS]
    x = torch.tensor(rows + rows, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor([0] * len(rows) + [2] * len(rows), device=device)
    loss = softmax_focal_loss(x, t, gamma=gamma, reduction="none")
    loss.sum().backward()
    assert loss.dtype == dtype
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    xs = x.detach().double().tolist()
    ref = torch.tensor(
        [float(_mp_softmax_focal(r, int(k), gamma)) for r, k in zip(xs, t, strict=True)], dtype=torch.float64
    )
    torch.testing.assert_close(loss.double().cpu(), ref, rtol=RTOL[dtype], atol=ATOL)

    def partial(row: list[float], k: int, j: int) -> float:
        def f(s: mpmath.mpf) -> mpmath.mpf:
            return _mp_softmax_focal([s if i == j else v for i, v in enumerate(row)], k, gamma)

        return float(mpmath.diff(f, row[j]))

    grad = torch.tensor(
        [[partial(r, int(k), j) for j in range(3)] for r, k in zip(xs, t, strict=True)], dtype=torch.float64
    )
    torch.testing.assert_close(x.grad.double().cpu(), grad.to(dtype).double(), rtol=2 * RTOL[dtype], atol=ATOL)


def test_softmax_focal_two_classes_is_the_sigmoid_focal_loss() -> None:
    # softmax over (0, x) gives class 1 the probability sigmoid(x)
    x = torch.tensor([-30.0, -3.0, 0.0, 0.7, 20.0, 90.0], dtype=torch.float64)
    logits = torch.stack([torch.zeros_like(x), x], dim=1)
    for gamma in (0.0, 0.5, 2.0):
        got = softmax_focal_loss(logits, torch.ones(6, dtype=torch.long), gamma=gamma, reduction="none")
        want = sigmoid_focal_loss(x, torch.ones_like(x), alpha=None, gamma=gamma, reduction="none")
        torch.testing.assert_close(got, want, rtol=1e-12, atol=0)


def test_softmax_focal_gamma_zero_is_cross_entropy_with_all_its_shapes() -> None:
    torch.manual_seed(3)
    x = torch.randn(4, 3, 5, 2)
    t = torch.randint(0, 3, (4, 5, 2))
    t[0, 0, 0] = t[1, 2, 1] = -100
    for red in ("none", "sum", "mean"):
        torch.testing.assert_close(
            softmax_focal_loss(x, t, gamma=0.0, reduction=red), F.cross_entropy(x, t, reduction=red)
        )
    # unbatched (C,) with a 0-d target
    row, label = x[0, :, 1, 1], t[0, 1, 1]
    torch.testing.assert_close(softmax_focal_loss(row, label, gamma=0.0), F.cross_entropy(row, label))
    assert softmax_focal_loss(row, label, reduction="none").shape == ()


def test_softmax_focal_class_weights_and_the_mean() -> None:
    torch.manual_seed(4)
    x, t = torch.randn(10, 4), torch.randint(0, 4, (10,))
    t[3] = 7  # a custom ignore_index
    w = torch.tensor([0.1, 0.5, 1.0, 2.0])
    total = softmax_focal_loss(x, t, alpha=w, gamma=0.0, ignore_index=7, reduction="sum")
    torch.testing.assert_close(total, F.cross_entropy(x, t, weight=w, ignore_index=7, reduction="sum"))
    # 'mean' divides by the 9 positions not ignored, not by the sum of their weights
    torch.testing.assert_close(softmax_focal_loss(x, t, alpha=w, gamma=0.0, ignore_index=7), total / 9)
    none = softmax_focal_loss(x, t, alpha=w, gamma=2.0, ignore_index=7, reduction="none")
    assert float(none[3]) == 0.0
    # a scalar alpha scales the loss
    torch.testing.assert_close(
        softmax_focal_loss(x, t, alpha=0.25, ignore_index=7), 0.25 * softmax_focal_loss(x, t, ignore_index=7)
    )
    assert math.isnan(float(softmax_focal_loss(x[:1], torch.tensor([-100]))))


def test_softmax_focal_module_keeps_alpha_as_buffer() -> None:
    w = torch.tensor([1.0, 2.0, 3.0])
    module = SoftmaxFocalLoss(alpha=w, gamma=1.0, ignore_index=-1)
    assert "alpha" in dict(module.named_buffers())
    x, t = torch.randn(5, 3), torch.tensor([0, 1, 2, -1, 1])
    torch.testing.assert_close(module(x, t), softmax_focal_loss(x, t, w, 1.0, -1))
    assert module.double().alpha.dtype == torch.float64


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_gradcheck_softmax(gamma) -> None:
    torch.manual_seed(5)
    x = (torch.randn(4, 3, dtype=torch.float64) * 3).requires_grad_()
    t = torch.tensor([0, 2, 1, -100])
    w = torch.tensor([0.2, 1.0, 0.7], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: softmax_focal_loss(a, t, w, gamma, reduction="none"), (x,))


# ---------------------------------------------------------------------------
# bad input


def _x() -> torch.Tensor:
    return torch.zeros(3)


X3, T2 = torch.zeros(2, 3), torch.tensor([0, 1])


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: sigmoid_focal_loss(_x(), _x(), alpha=1.5), ValueError, "alpha"),
        (lambda: sigmoid_focal_loss(_x(), _x(), alpha=-0.1), ValueError, "alpha"),
        (lambda: sigmoid_focal_loss(_x(), _x(), alpha="0.5"), TypeError, "alpha"),
        (lambda: sigmoid_focal_loss(_x(), _x(), gamma=-1.0), ValueError, "gamma"),
        (lambda: sigmoid_focal_loss(_x(), _x(), gamma=float("nan")), ValueError, "gamma"),
        (lambda: sigmoid_focal_loss(_x(), _x(), gamma=True), TypeError, "gamma"),
        (lambda: sigmoid_focal_loss(_x(), _x(), reduction="batchmean"), ValueError, "reduction"),
        (lambda: sigmoid_focal_loss(_x(), torch.zeros(3, 1)), ValueError, "target"),
        (lambda: sigmoid_focal_loss(_x(), torch.tensor([0.0, 1.0, 1.5])), ValueError, "target"),
        (lambda: sigmoid_focal_loss(_x(), torch.tensor([0.0, float("nan"), 1.0])), ValueError, "target"),
        (lambda: sigmoid_focal_loss(torch.zeros(3, dtype=torch.long), _x()), TypeError, "input"),
        (lambda: sigmoid_focal_loss(_x(), torch.zeros(3, dtype=torch.long)), TypeError, "target"),
        (lambda: sigmoid_focal_loss([0.0], _x()), TypeError, "input"),
        (lambda: binary_focal_loss_from_probs(torch.tensor([0.5, 1.2, 0.0]), _x()), ValueError, "probs"),
        (lambda: binary_focal_loss_from_probs(_x(), _x(), eps=0.0), ValueError, "eps"),
        (lambda: binary_focal_loss_from_probs(_x(), _x(), eps=0.7), ValueError, "eps"),
        (lambda: softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 3])), ValueError, "target"),
        (lambda: softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, -1])), ValueError, "target"),
        (lambda: softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0])), TypeError, "target"),
        (lambda: softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 1, 2])), ValueError, "target"),
        (lambda: softmax_focal_loss(torch.zeros(2, 1), torch.tensor([0, 0])), ValueError, "input"),
        (lambda: softmax_focal_loss(torch.zeros(2, 3, dtype=torch.int64), torch.tensor([0, 1])), TypeError, "input"),
        (lambda: softmax_focal_loss(X3, T2, alpha=torch.ones(2)), ValueError, "alpha"),
        (lambda: softmax_focal_loss(X3, T2, alpha=torch.tensor([1.0, -1.0, 1.0])), ValueError, "alpha"),
        (lambda: softmax_focal_loss(X3, T2, alpha=torch.ones(3, dtype=torch.long)), TypeError, "alpha"),
        (lambda: softmax_focal_loss(X3, T2, alpha=2.0), ValueError, "alpha"),
        (lambda: softmax_focal_loss(X3, T2, gamma=-0.5), ValueError, "gamma"),
        (lambda: softmax_focal_loss(X3, T2, ignore_index=1.0), TypeError, "ignore_index"),
        (lambda: softmax_focal_loss(X3, T2, reduction="avg"), ValueError, "reduction"),
        (lambda: FocalLoss(alpha=2.0), ValueError, "alpha"),
        (lambda: FocalLoss(gamma=-2.0), ValueError, "gamma"),
        (lambda: SoftmaxFocalLoss(reduction="max"), ValueError, "reduction"),
    ],
)
def test_bad_input_names_the_argument(call, error, name) -> None:
    with pytest.raises(error, match=name):
        call()
