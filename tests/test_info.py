"""companion.info against SciPy, plus the properties information theory guarantees."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from companion import info

# --- strategies -----------------------------------------------------------------


@st.composite
def distributions(draw, min_size: int = 1, max_size: int = 8, zeros: bool = True) -> np.ndarray:
    n = draw(st.integers(min_size, max_size))
    low = 0.0 if zeros else 1e-3
    w = draw(hnp.arrays(np.float64, n, elements=st.floats(low, 1.0)))
    assume(w.sum() > 1e-3)
    return w / w.sum()


@st.composite
def distribution_pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    p = draw(distributions())
    w = draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-3, 1.0)))
    return p, w / w.sum()


logit_arrays = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=st.floats(-1e4, 1e4)
)

# --- against SciPy -----------------------------------------------------------


@given(distributions())
def test_entropy_matches_scipy(p: np.ndarray) -> None:
    assert info.entropy(p) == pytest.approx(stats.entropy(p), abs=1e-12)
    assert info.entropy(p, base=2) == pytest.approx(stats.entropy(p, base=2), abs=1e-12)


@given(distribution_pairs())
def test_cross_entropy_and_kl_match_scipy(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    kl = stats.entropy(p, q)  # scipy's two-argument entropy is the KL divergence
    assert info.kl_divergence(p, q) == pytest.approx(max(kl, 0.0), abs=1e-12)
    assert info.kl_divergence(p, q) == pytest.approx(special.rel_entr(p, q).sum(), abs=1e-12)
    assert info.cross_entropy(p, q) == pytest.approx(stats.entropy(p) + kl, abs=1e-12)


@given(logit_arrays, st.data())
def test_logsumexp_and_log_softmax_match_scipy(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    np.testing.assert_allclose(info.logsumexp(x, dim=dim), special.logsumexp(x, axis=dim), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(info.log_softmax(x, dim=dim), special.log_softmax(x, axis=dim), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(info.softmax(x, dim=dim), special.softmax(x, axis=dim), rtol=1e-12, atol=1e-15)


@given(logit_arrays)
def test_torch_path_agrees_with_numpy_path(x: np.ndarray) -> None:
    t = torch.from_numpy(x)
    torch.testing.assert_close(info.logsumexp(t), torch.from_numpy(np.asarray(info.logsumexp(x))))
    torch.testing.assert_close(info.logsumexp(t), torch.logsumexp(t, -1))
    torch.testing.assert_close(info.log_softmax(t), torch.log_softmax(t, -1))


def test_batched_distributions_along_any_dim() -> None:
    rng = np.random.default_rng(0)
    p = rng.random((3, 4, 5))
    p /= p.sum(axis=1, keepdims=True)
    q = rng.random((3, 4, 5))
    q /= q.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(info.entropy(p, dim=1), stats.entropy(p, axis=1))
    np.testing.assert_allclose(info.kl_divergence(p, q, dim=1), stats.entropy(p, q, axis=1))
    got = info.cross_entropy(torch.from_numpy(p), torch.from_numpy(q), dim=1)
    np.testing.assert_allclose(got.numpy(), stats.entropy(p, axis=1) + stats.entropy(p, q, axis=1))


# --- properties ------------------------------------------------------------------


@given(distribution_pairs())
def test_kl_is_non_negative_and_cross_entropy_bounds_entropy(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    assert info.kl_divergence(p, q) >= 0
    assert info.cross_entropy(p, q) >= info.entropy(p) - 1e-12
    assert info.kl_divergence(p, p) == 0


@given(distributions(zeros=False))
def test_entropy_is_at_most_log_of_support(p: np.ndarray) -> None:
    assert 0 <= info.entropy(p) <= math.log(p.size) + 1e-12


@given(logit_arrays, st.floats(-1e4, 1e4))
def test_logsumexp_shifts_with_a_constant(x: np.ndarray, c: float) -> None:
    np.testing.assert_allclose(info.logsumexp(x + c), info.logsumexp(x) + c, rtol=1e-12, atol=1e-8)


@settings(max_examples=50)
@given(hnp.arrays(np.float32, st.integers(1, 16), elements=st.floats(-1e4, 1e4, width=32)))
def test_float32_results_are_finite_for_huge_logits(x: np.ndarray) -> None:
    t = torch.from_numpy(x)
    for out in (info.logsumexp(t), info.log_softmax(t), info.softmax(t), info.logsumexp(x), info.log_softmax(x)):
        assert np.isfinite(np.asarray(out)).all()
    expected = special.logsumexp(x.astype(np.float64))
    assert float(info.logsumexp(t)) == pytest.approx(expected, rel=1e-6, abs=1e-3)


def test_logsumexp_edge_cases() -> None:
    assert info.logsumexp([-np.inf, -np.inf]) == -np.inf
    assert info.logsumexp([np.inf, 0.0]) == np.inf
    assert float(info.logsumexp(torch.tensor([-float("inf"), 0.0]))) == 0.0
    with np.errstate(over="ignore"):
        naive = np.log(np.exp(np.float32([100.0, 100.0])).sum())
    assert np.isinf(naive)
    assert info.logsumexp(np.float32([100.0, 100.0])) == pytest.approx(100 + math.log(2))


def test_zero_probabilities_follow_the_0_log_0_convention() -> None:
    assert info.entropy([1.0, 0.0, 0.0]) == 0.0
    assert info.cross_entropy([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert info.cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    np.testing.assert_allclose(info.binary_entropy([0.0, 0.5, 1.0]), [0.0, math.log(2), 0.0])


def test_binary_entropy_equals_two_outcome_entropy() -> None:
    p = np.linspace(0, 1, 101)
    np.testing.assert_allclose(info.binary_entropy(p), stats.entropy(np.stack([p, 1 - p])), atol=1e-15)
    assert info.binary_entropy(0.5, base=2) == pytest.approx(1.0)


def test_tensors_keep_their_graph() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5]], requires_grad=True)
    p = info.softmax(logits)
    h = info.entropy(p)
    h.sum().backward()
    # dH/dz_i = -p_i (log p_i + H)
    expected = -(p * (p.log() + h.unsqueeze(-1))).detach()
    torch.testing.assert_close(logits.grad, expected)


def test_log_softmax_gradient_is_finite_at_extreme_logits() -> None:
    x = torch.tensor([1e4, -1e4, 0.0], requires_grad=True)
    info.log_softmax(x)[1].backward()
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(x.grad, torch.tensor([-1.0, 1.0, 0.0]))


def test_gradcheck_in_float64() -> None:
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: info.logsumexp(z, dim=1), (x,))
    assert torch.autograd.gradcheck(lambda z: info.log_softmax(z, dim=0), (x,))


# --- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: info.entropy([0.5, 0.6]), "sum to 1"),
        (lambda: info.entropy([1.5, -0.5]), "negative"),
        (lambda: info.entropy([np.nan, 1.0]), "finite"),
        (lambda: info.entropy(0.5), "scalar"),
        (lambda: info.entropy([0.5, 0.5], dim=1), "dim"),
        (lambda: info.entropy([0.5, 0.5], base=1), "base"),
        (lambda: info.entropy([0.5, 0.5], base=-2), "base"),
        (lambda: info.entropy(["a", "b"]), "numbers"),
        (lambda: info.cross_entropy([0.5, 0.5], [0.2, 0.3, 0.5]), "same shape"),
        (lambda: info.cross_entropy([[0.5, 0.5]], [0.5, 0.5]), "same shape"),
        (lambda: info.kl_divergence([0.5, 0.5], [0.9, 0.2]), "q must sum to 1"),
        (lambda: info.kl_divergence(torch.tensor([0.5, 0.5]), np.array([0.5, 0.5])), "both"),
        (lambda: info.binary_entropy([1.2]), r"in \[0, 1\]"),
        (lambda: info.binary_entropy(torch.tensor([0.5, float("nan")])), r"in \[0, 1\]"),
        (lambda: info.logsumexp(np.zeros((2, 3)), dim=2), "out of range"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_tolerance_follows_the_dtype() -> None:
    p32 = torch.full((10,), 0.1, dtype=torch.float32)  # sums to 1 only within float32 rounding
    assert float(info.entropy(p32)) == pytest.approx(math.log(10), rel=1e-6)
    with pytest.raises(ValueError, match="sum to 1"):
        info.entropy(np.array([0.5, 0.5 + 1e-4]))
