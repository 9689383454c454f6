"""The by-hand references of the likelihood and regression losses against torch, and the log-cosh loss.

Every function of companion.reference.{classification, likelihood, regression} is compared with
its torch.nn.functional counterpart on random inputs drawn for every argument (shapes, weights,
ignore_index hits, label smoothing, probabilities at exactly 0 and 1, K-dimensional inputs), in
float64 (to 1e-10) and float32 (to 1e-5). The regression metrics are compared with scikit-learn.
companion.losses.log_cosh is compared with log(cosh(x)) computed in float64 and in 100-digit
arithmetic (mpmath), which share no code with it.
"""

from __future__ import annotations

import inspect
import math
import warnings

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from companion.losses.log_cosh import LogCoshLoss, log_cosh, log_cosh_loss
from companion.reference import classification, likelihood, regression
from companion.reference.classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_sigmoid,
    log_softmax,
    nll_loss,
)
from companion.reference.likelihood import gaussian_nll_loss, kl_div, poisson_nll_loss
from companion.reference.regression import huber_loss, l1_loss, mape, mse_loss, msle, rmse, smooth_l1_loss

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
dtypes = st.sampled_from([torch.float64, torch.float32])
reductions = st.sampled_from(["none", "mean", "sum"])
seeds = st.integers(0, 2**31 - 1)
EXAMPLES = settings(max_examples=150, deadline=None)


def close(actual: torch.Tensor, expected: torch.Tensor, tol: float) -> None:
    torch.testing.assert_close(actual, expected, rtol=tol, atol=tol, equal_nan=True)


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    return (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def rand(gen: torch.Generator, *shape: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.rand(shape, generator=gen, dtype=torch.float64).to(dtype)


def maybe_zeros(gen: torch.Generator, w: torch.Tensor, fraction: float) -> torch.Tensor:
    """``w`` with about ``fraction`` of its entries set to exactly 0."""
    return torch.where(torch.rand(w.shape, generator=gen) < fraction, torch.zeros_like(w), w)


spatial = st.lists(st.integers(1, 3), min_size=0, max_size=2)  # the d1, ..., dK of (N, C, d1, ..., dK)


# --- signatures ---------------------------------------------------------------------------------

PART1 = [
    (classification, ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]),
    (likelihood, ["kl_div", "poisson_nll_loss", "gaussian_nll_loss"]),
    (regression, ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]),
]


@pytest.mark.parametrize("module, name", [(m, n) for m, names in PART1 for n in names])
def test_signature_is_torchs_without_the_deprecated_flags(module, name) -> None:
    ours = inspect.signature(getattr(module, name)).parameters
    theirs = {
        k: p for k, p in inspect.signature(getattr(F, name)).parameters.items() if k not in ("size_average", "reduce")
    }
    assert list(ours) == list(theirs)
    for key, p in theirs.items():
        assert ours[key].default == p.default, key
    # what torch places after a deprecated flag can only be passed by keyword here
    names = list(inspect.signature(getattr(F, name)).parameters)
    first_deprecated = min((names.index(k) for k in ("size_average", "reduce") if k in names), default=len(names))
    for key in names[first_deprecated:]:
        if key in ours:
            assert ours[key].kind is inspect.Parameter.KEYWORD_ONLY, key


# --- log_softmax / log_sigmoid ----------------------------------------------------------------


@EXAMPLES
@given(seeds, dtypes, st.integers(1, 4), st.integers(1, 6), st.sampled_from([1.0, 30.0, 300.0]))
def test_log_softmax_and_log_sigmoid(seed, dtype, n, c, scale) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, c, dtype=dtype, scale=scale)
    close(log_softmax(x), torch.log_softmax(x, dim=1), TOL[dtype])
    close(log_sigmoid(x), F.logsigmoid(x), TOL[dtype])


# --- cross_entropy and nll_loss -------------------------------------------------------------


def class_targets(g: torch.Generator, n: int, c: int, d: list[int], ignore_index: int, ignored: float) -> torch.Tensor:
    t = torch.randint(0, c, (n, *d), generator=g)
    hit = torch.rand(t.shape, generator=g) < ignored
    return torch.where(hit, torch.full_like(t, ignore_index), t)


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 4),
    st.integers(2, 5),
    spatial,
    st.booleans(),
    st.sampled_from(["none", "positive", "some zero"]),
    st.sampled_from([-100, 0, 1, -1]),
    st.sampled_from([0.0, 0.3, 1.0]),
    st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_cross_entropy_class_targets(
    seed, dtype, reduction, n, c, d, batched, weighting, ignore_index, ignored, smoothing
) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, c, *d, dtype=dtype, scale=3.0)
    t = class_targets(g, n, c, d, ignore_index, ignored)
    w = None if weighting == "none" else rand(g, c, dtype=dtype) + 0.1
    if weighting == "some zero":
        w = maybe_zeros(g, w, 0.5)
    if not batched and not d:
        x, t = x[0], t[0]
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    close(cross_entropy(x, t, w, **kw), F.cross_entropy(x, t, w, **kw), TOL[dtype])


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 4),
    st.integers(2, 5),
    spatial,
    st.booleans(),
    st.booleans(),
    st.sampled_from([0.0, 0.2, 1.0]),
    st.booleans(),
)
def test_cross_entropy_probability_targets(
    seed, dtype, reduction, n, c, d, batched, weighted, smoothing, one_hot
) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, c, *d, dtype=dtype, scale=3.0)
    t = torch.softmax(randn(g, n, c, *d, dtype=dtype, scale=2.0), dim=1)
    if one_hot:  # probabilities of exactly 0 and 1
        t = F.one_hot(t.argmax(dim=1), c).movedim(-1, 1).to(dtype)
    w = rand(g, c, dtype=dtype) if weighted else None
    if not batched and not d:
        x, t = x[0], t[0]
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    close(cross_entropy(x, t, w, **kw), F.cross_entropy(x, t, w, **kw), TOL[dtype])


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.integers(1, 4),
    st.integers(2, 5),
    spatial,
    st.booleans(),
    st.booleans(),
    st.sampled_from([-100, 0, 2]),
    st.sampled_from([0.0, 0.3, 1.0]),
)
def test_nll_loss(seed, dtype, reduction, n, c, d, batched, weighted, ignore_index, ignored) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, n, c, *d, dtype=dtype, scale=3.0)  # any numbers: nll_loss only picks and negates
    t = class_targets(g, n, c, d, ignore_index, ignored)
    w = maybe_zeros(g, rand(g, c, dtype=dtype), 0.3) if weighted else None
    if not batched and not d:
        x, t = x[0], t[0]
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    close(nll_loss(x, t, w, **kw), F.nll_loss(x, t, w, **kw), TOL[dtype])


def test_all_ignored_mean_is_nan_like_torch() -> None:
    """'mean' divides by the summed weight of the kept targets: 0 / 0 when there are none."""
    x, t = torch.randn(3, 4, dtype=torch.float64), torch.full((3,), -100)
    for fn, ref in ((cross_entropy, F.cross_entropy), (nll_loss, F.nll_loss)):
        assert torch.isnan(ref(x, t)) and torch.isnan(fn(x, t))
        assert fn(x, t, reduction="sum") == 0 and ref(x, t, reduction="sum") == 0
        assert torch.equal(fn(x, t, reduction="none"), torch.zeros(3, dtype=torch.float64))
    zero_weight = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0, 1, 0])
    assert torch.isnan(F.cross_entropy(x, t, zero_weight)) and torch.isnan(cross_entropy(x, t, zero_weight))


def test_cross_entropy_mean_divides_by_the_target_weights() -> None:
    """The sources' example: weights [1, 2] for targets [0, 1, 1] divide by 1 + 2 + 2."""
    x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], dtype=torch.float64)
    t = torch.tensor([0, 1, 1])
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    per_sample = torch.tensor(
        [math.log1p(math.e), math.log1p(math.exp(-2)), math.log1p(math.exp(-2))], dtype=torch.float64
    )  # -log softmax by hand: log(1 + e^(x_other - x_target))
    close(cross_entropy(x, t, reduction="none"), per_sample, 1e-12)
    close(cross_entropy(x, t, w), (per_sample * w[t]).sum() / 5, 1e-12)


# --- binary cross entropy -------------------------------------------------------------------------


def weight_for(g: torch.Generator, shape: tuple[int, ...], kind: str, dtype: torch.dtype) -> torch.Tensor | None:
    if kind == "none":
        return None
    if kind == "last dim":
        return maybe_zeros(g, rand(g, shape[-1], dtype=dtype) * 2, 0.2)
    return maybe_zeros(g, rand(g, *shape, dtype=dtype) * 2, 0.2)


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["none", "last dim", "full"]),
    st.booleans(),
    st.floats(0.0, 0.5),
)
def test_binary_cross_entropy(seed, dtype, reduction, shape, weighting, hard, at_edges) -> None:
    g = torch.Generator().manual_seed(seed)
    p = rand(g, *shape, dtype=dtype)
    edge = torch.rand(p.shape, generator=g) < at_edges  # probabilities of exactly 0 and 1
    p = torch.where(edge, torch.randint(0, 2, p.shape, generator=g).to(dtype), p)
    y = rand(g, *shape, dtype=dtype)
    if hard:
        y = y.round()
    w = weight_for(g, tuple(shape), weighting, dtype)
    close(
        binary_cross_entropy(p, y, w, reduction=reduction),
        F.binary_cross_entropy(p, y, w, reduction=reduction),
        TOL[dtype],
    )


def test_binary_cross_entropy_clamps_the_log_at_minus_100() -> None:
    p, y = torch.tensor([0.0, 1.0, 0.0, 1.0]), torch.tensor([1.0, 0.0, 0.0, 1.0])
    expected = torch.tensor([100.0, 100.0, 0.0, 0.0])
    close(binary_cross_entropy(p, y, reduction="none"), expected, 0)
    close(F.binary_cross_entropy(p, y, reduction="none"), expected, 0)


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["none", "last dim", "full"]),
    st.sampled_from(["none", "last dim", "full"]),
    st.sampled_from([1.0, 5.0, 50.0]),
    st.booleans(),
)
def test_binary_cross_entropy_with_logits(seed, dtype, reduction, shape, weighting, pos_weighting, scale, hard) -> None:
    g = torch.Generator().manual_seed(seed)
    x = randn(g, *shape, dtype=dtype, scale=scale)
    y = rand(g, *shape, dtype=dtype)
    if hard:
        y = y.round()
    w = weight_for(g, tuple(shape), weighting, dtype)
    pw = weight_for(g, tuple(shape), pos_weighting, dtype)
    close(
        binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw),
        F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw),
        TOL[dtype],
    )


def test_binary_cross_entropy_with_logits_is_finite_at_extreme_logits() -> None:
    x = torch.tensor([-1e4, -100.0, 100.0, 1e4])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    close(binary_cross_entropy_with_logits(x, y, reduction="none"), x.abs(), 1e-6)


# --- kl_div, poisson_nll_loss, gaussian_nll_loss ---------------------------------------------------


@EXAMPLES
@given(
    seeds,
    dtypes,
    st.sampled_from(["none", "batchmean", "sum", "mean"]),
    st.lists(st.integers(1, 4), min_size=0, max_size=3),
    st.booleans(),
    st.floats(0.0, 0.5),
)
def test_kl_div(seed, dtype, reduction, shape, log_target, zeros) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.log_softmax(randn(g, *shape, 3, dtype=dtype), dim=-1)
    t = torch.softmax(randn(g, *shape, 3, dtype=dtype, scale=2.0), dim=-1)
    if log_target:
        t = t.log()
    else:
        t = maybe_zeros(g, t, zeros)  # 0 log 0 = 0
    if not shape:
        x, t = x[0], t[0]  # 0-dimensional: 'batchmean' is the sum
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns about reduction='mean'
        expected = F.kl_div(x, t, reduction=reduction, log_target=log_target)
    close(kl_div(x, t, reduction=reduction, log_target=log_target), expected, TOL[dtype])


def test_kl_div_reductions_divide_as_documented() -> None:
    x = torch.log_softmax(torch.randn(4, 5, dtype=torch.float64), dim=1)
    t = torch.softmax(torch.randn(4, 5, dtype=torch.float64), dim=1)
    total = (t * (t.log() - x)).sum()
    close(kl_div(x, t, reduction="batchmean"), total / 4, 1e-12)
    close(kl_div(x, t, reduction="mean"), total / 20, 1e-12)


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.lists(st.integers(1, 4), min_size=0, max_size=3),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1e-8, 1e-3, 0.5]),
)
def test_poisson_nll_loss(seed, dtype, reduction, shape, log_input, full, eps) -> None:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 7, shape, generator=g).to(dtype)  # counts, including 0 and 1
    if log_input:
        x = randn(g, *shape, dtype=dtype)
    else:
        x = maybe_zeros(g, rand(g, *shape, dtype=dtype) * 4, 0.2)  # a rate of exactly 0 needs eps
    close(
        poisson_nll_loss(x, y, log_input, full, eps=eps, reduction=reduction),
        F.poisson_nll_loss(x, y, log_input, full, eps=eps, reduction=reduction),
        TOL[dtype],
    )


@st.composite
def gaussian_case(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    kind = draw(st.sampled_from(["element", "drop last", "one dim is 1", "float"]))
    if kind == "element":
        var_shape = tuple(shape)
    elif kind == "drop last":
        var_shape = tuple(shape[:-1])
    elif kind == "one dim is 1":
        dim = draw(st.integers(0, len(shape) - 1))
        var_shape = tuple(1 if i == dim else s for i, s in enumerate(shape))
    else:
        var_shape = None
    return tuple(shape), var_shape


@EXAMPLES
@given(
    seeds, dtypes, reductions, gaussian_case(), st.booleans(), st.sampled_from([1e-6, 1e-2, 0.5]), st.floats(0.0, 0.4)
)
def test_gaussian_nll_loss(seed, dtype, reduction, case, full, eps, tiny) -> None:
    g = torch.Generator().manual_seed(seed)
    shape, var_shape = case
    mu, y = randn(g, *shape, dtype=dtype), randn(g, *shape, dtype=dtype)
    if var_shape is None:
        var = float(torch.rand((), generator=g)) * 3
    else:  # some variances below eps, clamped
        var = maybe_zeros(g, rand(g, *var_shape, dtype=dtype) * 3, tiny)
    close(
        gaussian_nll_loss(mu, y, var, full, eps, reduction),
        F.gaussian_nll_loss(mu, y, var, full, eps, reduction),
        TOL[dtype],
    )


def test_gaussian_nll_loss_gradients_match_torch_also_where_var_is_clamped() -> None:
    mu = torch.randn(5, 3, dtype=torch.float64)
    y = torch.randn(5, 3, dtype=torch.float64)
    var = torch.tensor([1.0, 1e-9, 0.3, 2.0, 1e-3], dtype=torch.float64)  # one per sample, one below eps
    grads = []
    for fn in (gaussian_nll_loss, F.gaussian_nll_loss):
        m, v = mu.clone().requires_grad_(), var.clone().requires_grad_()
        fn(m, y, v, eps=1e-6).backward()
        grads.append((m.grad, v.grad))
    close(grads[0][0], grads[1][0], 1e-10)
    close(grads[0][1], grads[1][1], 1e-10)


@pytest.mark.parametrize("var_shape", [(3,), (1, 1), (), (2, 4, 3), (4, 2)])
def test_gaussian_nll_loss_refuses_the_variance_shapes_torch_refuses(var_shape) -> None:
    mu = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="var"):
        F.gaussian_nll_loss(mu, mu, torch.ones(var_shape))
    with pytest.raises(ValueError, match="var"):
        gaussian_nll_loss(mu, mu, torch.ones(var_shape))


# --- regression losses ----------------------------------------------------------------------------


@EXAMPLES
@given(seeds, dtypes, reductions, st.lists(st.integers(1, 4), min_size=0, max_size=3), st.booleans())
def test_l1_and_mse_loss(seed, dtype, reduction, shape, weighted) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=dtype, scale=3.0), randn(g, *shape, dtype=dtype, scale=3.0)
    w = maybe_zeros(g, rand(g, *shape, dtype=dtype) + 0.1, 0.3) if weighted else None
    if w is not None and float(w.sum()) == 0:
        w = w + 1  # torch divides by the weight sum: keep it positive
    close(l1_loss(x, y, reduction=reduction, weight=w), F.l1_loss(x, y, reduction=reduction, weight=w), TOL[dtype])
    close(mse_loss(x, y, reduction=reduction, weight=w), F.mse_loss(x, y, reduction=reduction, weight=w), TOL[dtype])


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.lists(st.integers(1, 4), min_size=0, max_size=3),
    st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-3, 5.0)),
)
def test_smooth_l1_loss(seed, dtype, reduction, shape, beta) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=dtype, scale=2.0), randn(g, *shape, dtype=dtype, scale=2.0)
    close(
        smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
        TOL[dtype],
    )


@EXAMPLES
@given(
    seeds,
    dtypes,
    reductions,
    st.lists(st.integers(1, 4), min_size=0, max_size=3),
    st.one_of(st.just(1.0), st.floats(1e-3, 5.0)),
    st.booleans(),
)
def test_huber_loss(seed, dtype, reduction, shape, delta, weighted) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=dtype, scale=2.0), randn(g, *shape, dtype=dtype, scale=2.0)
    w = maybe_zeros(g, rand(g, *shape, dtype=dtype), 0.3) if weighted else None
    close(huber_loss(x, y, reduction, delta, w), F.huber_loss(x, y, reduction, delta, w), TOL[dtype])


@EXAMPLES
@given(seeds, st.lists(st.integers(1, 4), min_size=1, max_size=2), st.floats(1e-3, 5.0))
def test_huber_is_delta_times_smooth_l1(seed, shape, delta) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=torch.float64, scale=3.0), randn(g, *shape, dtype=torch.float64)
    close(huber_loss(x, y, "none", delta), delta * smooth_l1_loss(x, y, reduction="none", beta=delta), 1e-12)


def test_weighted_means_divide_differently_in_torch() -> None:
    """Weighted l1/mse divide by the sum of the weights, weighted huber by the number of elements."""
    x, y = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    w = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64)
    close(l1_loss(x, y, weight=w), torch.tensor(13 / 4, dtype=torch.float64), 1e-12)
    close(mse_loss(x, y, weight=w), torch.tensor(49 / 4, dtype=torch.float64), 1e-12)
    close(huber_loss(x, y, weight=w), torch.tensor((0.5 + 3 * 3.5) / 3, dtype=torch.float64), 1e-12)
    close(F.huber_loss(x, y, weight=w), huber_loss(x, y, weight=w), 1e-12)


# --- metrics against scikit-learn ---------------------------------------------------------------


@EXAMPLES
@given(seeds, st.integers(1, 20))
def test_metrics_match_scikit_learn(seed, n) -> None:
    rng = np.random.default_rng(seed)
    y, y_hat = rng.uniform(0.1, 10, n), rng.uniform(0.0, 10, n)
    t, p = torch.from_numpy(y), torch.from_numpy(y_hat)
    assert math.isclose(float(rmse(p, t)), metrics.root_mean_squared_error(y, y_hat), rel_tol=1e-12)
    assert math.isclose(float(mape(p, t)), 100 * metrics.mean_absolute_percentage_error(y, y_hat), rel_tol=1e-12)
    assert math.isclose(float(msle(p, t)), metrics.mean_squared_log_error(y, y_hat), rel_tol=1e-12)
    assert math.isclose(float(l1_loss(p, t)), metrics.mean_absolute_error(y, y_hat), rel_tol=1e-12)


def test_metric_errors() -> None:
    with pytest.raises(ValueError, match="target of 0"):
        mape(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="non-negative.*target"):
        msle(torch.tensor([1.0, 2.0]), torch.tensor([1.0, -0.5]))
    with pytest.raises(ValueError, match="non-negative.*input"):
        msle(torch.tensor([-1.0, 2.0]), torch.tensor([1.0, 0.5]))
    with pytest.raises(ValueError, match="same shape"):
        rmse(torch.zeros(3, 1), torch.zeros(3))


# --- argument errors --------------------------------------------------------------------------


X2, T2 = torch.randn(3, 4), torch.tensor([0, 1, 2])
P2, Y2 = torch.rand(3, 4), torch.rand(3, 4)
CALLS = {
    "cross_entropy": lambda r: cross_entropy(X2, T2, reduction=r),
    "nll_loss": lambda r: nll_loss(X2, T2, reduction=r),
    "binary_cross_entropy": lambda r: binary_cross_entropy(P2, Y2, reduction=r),
    "binary_cross_entropy_with_logits": lambda r: binary_cross_entropy_with_logits(X2, Y2, reduction=r),
    "kl_div": lambda r: kl_div(X2, P2, reduction=r),
    "poisson_nll_loss": lambda r: poisson_nll_loss(X2, Y2, reduction=r),
    "gaussian_nll_loss": lambda r: gaussian_nll_loss(X2, Y2, P2, reduction=r),
    "l1_loss": lambda r: l1_loss(X2, Y2, reduction=r),
    "mse_loss": lambda r: mse_loss(X2, Y2, reduction=r),
    "smooth_l1_loss": lambda r: smooth_l1_loss(X2, Y2, reduction=r),
    "huber_loss": lambda r: huber_loss(X2, Y2, reduction=r),
    "log_cosh_loss": lambda r: log_cosh_loss(X2, Y2, reduction=r),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", ["average", "elementwise_mean", None, "MEAN"])
def test_bad_reduction_is_a_value_error(name, bad) -> None:
    with pytest.raises(ValueError, match="reduction"):
        CALLS[name](bad)


def test_batchmean_only_for_kl_div() -> None:
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy(X2, T2, reduction="batchmean")
    assert torch.isfinite(kl_div(torch.log_softmax(X2, 1), P2, reduction="batchmean"))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: cross_entropy(X2, torch.tensor([0, 1, 4])), ValueError, r"class indices in \[0, 3\].*found 4"),
        (lambda: cross_entropy(X2, torch.tensor([0, 1])), ValueError, "target must have shape"),
        (lambda: cross_entropy(X2, T2, torch.ones(3)), ValueError, "weight must have shape"),
        (lambda: cross_entropy(X2, T2, label_smoothing=1.5), ValueError, "label_smoothing"),
        (lambda: cross_entropy(X2, P2, ignore_index=1), ValueError, "ignore_index"),
        (lambda: cross_entropy(X2, T2.float()[:, None].expand(3, 4).contiguous()[:, :3]), ValueError, "shape"),
        (lambda: nll_loss(X2, T2.float()), TypeError, "integer"),
        (lambda: nll_loss(X2, T2, ignore_index=1.0), TypeError, "ignore_index"),
        (lambda: binary_cross_entropy(P2 + 1, Y2), ValueError, r"input must hold values in \[0, 1\]"),
        (lambda: binary_cross_entropy(P2, Y2 - 1), ValueError, r"target must hold values in \[0, 1\]"),
        (lambda: binary_cross_entropy(P2, Y2, torch.ones(2)), ValueError, "weight"),
        (lambda: binary_cross_entropy_with_logits(X2, Y2, pos_weight=torch.ones(3)), ValueError, "pos_weight"),
        (lambda: gaussian_nll_loss(X2, Y2, -P2), ValueError, r"var must be >= 0"),
        (lambda: gaussian_nll_loss(X2, Y2, -1.0), ValueError, "var"),
        (lambda: poisson_nll_loss(X2, Y2[:2]), ValueError, "same shape"),
        (lambda: smooth_l1_loss(X2, Y2, beta=-1.0), ValueError, "beta"),
        (lambda: huber_loss(X2, Y2, delta=0.0), ValueError, "delta"),
        (lambda: l1_loss(X2, Y2, weight=torch.ones(4)), ValueError, "weight"),
        (lambda: mse_loss(X2, Y2.double()[:1]), ValueError, "same shape"),
        (lambda: l1_loss(T2, T2), TypeError, "floating"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


# --- log-cosh ---------------------------------------------------------------------------------


def mp_log_cosh(x: float) -> float:
    with mpmath.workdps(100):  # cosh(1e-30) - 1 = 5e-61 needs more than 61 digits
        return float(mpmath.log(mpmath.cosh(mpmath.mpf(x))))


SAMPLE = [
    0.0,
    1e-30,
    1e-8,
    1e-5,
    1e-4,
    3e-4,
    0.01,
    0.3,
    0.999,
    1.0,
    1.001,
    2.5,
    10.0,
    30.0,
    88.0,
    89.5,
    100.0,
    700.0,
    1e4,
    1e10,
    1e30,
]


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-14), (torch.float32, 2e-7), (torch.bfloat16, 8e-3)])
def test_log_cosh_matches_high_precision_everywhere(dtype, rtol) -> None:
    x = torch.tensor(SAMPLE + [-v for v in SAMPLE], dtype=dtype)
    got = log_cosh(x)
    assert got.dtype == dtype
    expected = torch.tensor([mp_log_cosh(float(v)) for v in x.double()], dtype=torch.float64)
    # atol: values below the dtype's smallest normal number (5e-61 in float32) may round to 0
    torch.testing.assert_close(got.double(), expected, rtol=rtol, atol=torch.finfo(dtype).tiny)


@EXAMPLES
@given(seeds, st.lists(st.integers(1, 5), min_size=0, max_size=2), st.sampled_from([0.1, 1.0, 5.0]))
def test_log_cosh_loss_matches_the_naive_formula_in_float64(seed, shape, scale) -> None:
    g = torch.Generator().manual_seed(seed)
    x, y = randn(g, *shape, dtype=torch.float64, scale=scale), randn(g, *shape, dtype=torch.float64)
    naive = torch.log(torch.cosh(x - y))
    close(log_cosh_loss(x, y, reduction="none"), naive, 1e-12)
    close(log_cosh_loss(x, y), naive.mean(), 1e-12)
    close(log_cosh_loss(x, y, reduction="sum"), naive.sum(), 1e-12)
    close(LogCoshLoss(reduction="sum")(x, y), naive.sum(), 1e-12)
    close(log_cosh_loss(x.float(), y.float()), naive.mean().float(), 1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("big", [100.0, 1e4])
def test_log_cosh_is_finite_where_the_naive_form_overflows(dtype, big) -> None:
    x = torch.tensor([-big, big], dtype=dtype, requires_grad=True)
    assert torch.isinf(torch.log(torch.cosh(x.detach()))).all()
    loss = log_cosh_loss(x, torch.zeros_like(x), reduction="sum")
    assert loss.dtype == dtype and torch.isfinite(loss)
    close(
        loss.float(), torch.tensor(2 * (float(x.detach()[1]) - math.log(2))), 8e-3 if dtype == torch.bfloat16 else 1e-6
    )
    loss.backward()
    assert torch.equal(x.grad.float(), torch.tensor([-1.0, 1.0]))


def test_log_cosh_gradient_is_tanh() -> None:
    x = torch.tensor(SAMPLE + [-v for v in SAMPLE], dtype=torch.float64, requires_grad=True)
    log_cosh(x).sum().backward()
    close(x.grad, torch.tanh(x.detach()), 1e-15)
    y = torch.randn(7, dtype=torch.float64)
    xs = torch.randn(7, dtype=torch.float64, requires_grad=True)
    log_cosh_loss(xs, y, reduction="sum").backward()
    close(xs.grad, torch.tanh(xs.detach() - y), 1e-14)


def test_log_cosh_gradcheck() -> None:
    x = (torch.randn(12, dtype=torch.float64) * 3).requires_grad_()
    x.data[:3] = torch.tensor([0.5, -0.999, 1.0 + 1e-3])  # on both sides of the switch at |x| = 1
    y = torch.randn(12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: log_cosh_loss(a, b, reduction="none"), (x, y))
    assert torch.autograd.gradgradcheck(lambda a, b: log_cosh_loss(a, b), (x, y))


def test_log_cosh_module_and_errors() -> None:
    assert "reduction='none'" in repr(LogCoshLoss(reduction="none"))
    with pytest.raises(ValueError, match="reduction"):
        LogCoshLoss(reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        log_cosh_loss(torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(TypeError, match="floating"):
        log_cosh_loss(torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long))
