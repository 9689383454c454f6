"""companion.losses.sce: symmetric cross entropy against the formula, the official code, torch; errors."""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.losses import SCELoss, sce_loss

LOGITS = [0.0, 1e-4, -1e-4, 6.0, -6.0, 20.0, -20.0, 100.0, -100.0]
A_OFFICIAL = math.log(1e-4)

mpmath.mp.dps = 60


def _one_hot_reference(
    x: torch.Tensor, t: torch.Tensor, alpha: float, beta: float, clamp_pred: float = 0.0
) -> torch.Tensor:
    """The paper's official computation in float64: RCE = -sum_k p_k log(clamp(one_hot, 1e-4, 1))."""
    p = torch.softmax(x.double(), dim=1)
    q = F.one_hot(t, x.shape[1]).double()
    ce = -(q * torch.log(p.clamp(min=1e-300))).sum(1)
    p_r = p.clamp(min=clamp_pred, max=1.0) if clamp_pred else p
    rce = -(p_r * torch.log(q.clamp(min=1e-4, max=1.0))).sum(1)
    return alpha * ce + beta * rce


def _mp_sce(row: list, t: int, alpha: float, beta: float, A: float) -> mpmath.mpf:
    e = [mpmath.exp(mpmath.mpf(v)) for v in row]
    total = mpmath.fsum(e)
    rest = mpmath.fsum(e[k] for k in range(len(e)) if k != t) / total
    return alpha * -mpmath.log(e[t] / total) + beta * -A * rest


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    c=st.integers(2, 10),
    alpha=st.floats(0, 6),
    beta=st.floats(0, 2),
    seed=st.integers(0, 2**16),
)
def test_sce_matches_the_official_one_hot_computation(n, c, alpha, beta, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64) * 4
    t = torch.randint(0, c, (n,), generator=g)
    got = sce_loss(x, t, alpha=alpha, beta=beta, reduction="none")
    torch.testing.assert_close(got, _one_hot_reference(x, t, alpha, beta), rtol=1e-10, atol=1e-12)
    # the official code also clamps p at 1e-7 first: at most (C - 1) * 1e-7 * |A| more
    official = _one_hot_reference(x, t, alpha, beta, clamp_pred=1e-7)
    assert ((official - got) >= -1e-12).all()
    assert ((official - got) <= beta * (c - 1) * 1e-7 * -A_OFFICIAL + 1e-12).all()


def test_sources_version_differs_by_its_probability_clamp() -> None:
    # the source articles' SCELoss: a = b = 1, p clamped at 1e-4, labels at 1e-4 (so A = ln 1e-4, not -4)
    torch.manual_seed(0)
    x, t = torch.randn(64, 10, dtype=torch.float64) * 6, torch.randint(0, 10, (64,))
    sources = _one_hot_reference(x, t, 1.0, 1.0, clamp_pred=1e-4)
    ours = sce_loss(x, t, alpha=1.0, beta=1.0, reduction="none")
    gap = sources - ours
    assert (gap >= 0).all() and (gap <= 9 * 1e-4 * -A_OFFICIAL + 1e-12).all()
    assert float(gap.max()) > 1e-3  # at these logits the clamp is visible in the third decimal


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_sce_is_accurate_and_finite_at_extreme_logits(dtype, device) -> None:
    rows = [[v, 0.0, -v] for v in LOGITS]
    x = torch.tensor(rows * 3, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor([0] * len(rows) + [1] * len(rows) + [2] * len(rows), device=device)
    loss = sce_loss(x, t, alpha=0.1, beta=1.0, reduction="none")
    loss.sum().backward()
    assert loss.dtype == dtype
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    xs = x.detach().double().tolist()
    ref = torch.tensor(
        [float(_mp_sce(r, int(k), 0.1, 1.0, A_OFFICIAL)) for r, k in zip(xs, t, strict=True)], dtype=torch.float64
    )
    # log p_y = x_y - logsumexp(x) is exact up to the float's resolution in absolute terms, like F.cross_entropy
    rtol = {torch.float32: 1e-5, torch.bfloat16: 2**-7}[dtype]
    torch.testing.assert_close(loss.double().cpu(), ref, rtol=rtol, atol=1e-5)

    def partial(row: list, k: int, j: int) -> float:
        def f(s: mpmath.mpf) -> mpmath.mpf:
            return _mp_sce([s if i == j else v for i, v in enumerate(row)], k, 0.1, 1.0, A_OFFICIAL)

        return float(mpmath.diff(f, row[j]))

    grad = torch.tensor(
        [[partial(r, int(k), j) for j in range(3)] for r, k in zip(xs, t, strict=True)], dtype=torch.float64
    )
    torch.testing.assert_close(x.grad.double().cpu(), grad.to(dtype).double(), rtol=2 * rtol, atol=1e-6)


def test_alpha_one_beta_zero_is_cross_entropy_with_all_its_shapes() -> None:
    torch.manual_seed(1)
    x, t = torch.randn(3, 4, 5), torch.randint(0, 4, (3, 5))
    t[1, 2] = -100
    for red in ("none", "mean", "sum"):
        torch.testing.assert_close(sce_loss(x, t, 1.0, 0.0, reduction=red), F.cross_entropy(x, t, reduction=red))
    torch.testing.assert_close(sce_loss(x[0, :, 0], t[0, 0], 1.0, 0.0), F.cross_entropy(x[0, :, 0], t[0, 0]))
    assert float(sce_loss(x, t, reduction="none")[1, 2]) == 0.0


@settings(max_examples=40, deadline=None)
@given(c=st.integers(2, 12), A=st.floats(-20, -0.1), seed=st.integers(0, 2**16))
def test_reverse_term_is_bounded_and_symmetric(c, A, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, c, generator=g, dtype=torch.float64) * 5
    per_class = torch.stack([sce_loss(x, torch.tensor([k]), alpha=0.0, beta=1.0, A=A) for k in range(c)])
    assert ((per_class >= 0) & (per_class <= -A)).all()
    # summed over every possible label the reverse term is the constant -A (C - 1): the condition
    # under which a loss is tolerant to symmetric label noise (Ghosh et al., 2017)
    assert math.isclose(float(per_class.sum()), -A * (c - 1), rel_tol=1e-12)


def test_reductions_ignore_index_and_module() -> None:
    torch.manual_seed(2)
    x, t = torch.randn(6, 3), torch.tensor([0, 2, 5, 1, 5, 0])
    none = sce_loss(x, t, ignore_index=5, reduction="none")
    assert float(none[2]) == 0.0 and float(none[4]) == 0.0
    torch.testing.assert_close(sce_loss(x, t, ignore_index=5, reduction="sum"), none.sum())
    torch.testing.assert_close(sce_loss(x, t, ignore_index=5), none.sum() / 4)
    module = SCELoss(alpha=0.5, beta=2.0, A=-4.0, ignore_index=5)
    torch.testing.assert_close(module(x, t), sce_loss(x, t, 0.5, 2.0, -4.0, 5))
    assert "A=-4.0000" in repr(module)


def test_gradcheck() -> None:
    torch.manual_seed(3)
    x = (torch.randn(5, 4, dtype=torch.float64) * 3).requires_grad_()
    t = torch.tensor([0, 3, 1, -100, 2])
    assert torch.autograd.gradcheck(lambda a: sce_loss(a, t, 0.7, 1.3, reduction="none"), (x,))


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 1]), alpha=-1.0), ValueError, "alpha"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 1]), beta=float("inf")), ValueError, "beta"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 1]), A=4.0), ValueError, "A"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 1]), A=None), TypeError, "A"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 1]), reduction="batchmean"), ValueError, "reduction"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0, 3])), ValueError, "target"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([-1, 0])), ValueError, "target"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0])), TypeError, "target"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([True, False])), TypeError, "target"),
        (lambda: sce_loss(torch.zeros(2, 3), torch.tensor([[0, 1]])), ValueError, "target"),
        (lambda: sce_loss(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1])), TypeError, "input"),
        (lambda: sce_loss(torch.zeros(2, 1), torch.tensor([0, 0])), ValueError, "input"),
        (lambda: sce_loss(torch.zeros(()), torch.tensor(0)), ValueError, "input"),
        (lambda: SCELoss(beta=-0.5), ValueError, "beta"),
        (lambda: SCELoss(ignore_index=None), TypeError, "ignore_index"),
    ],
)
def test_bad_input_names_the_argument(call, error, name) -> None:
    with pytest.raises(error, match=name):
        call()
