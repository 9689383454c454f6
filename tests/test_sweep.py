"""A sweep over the whole public API of ``companion``: edge values and bad input.

Part 1 enumerates what the package exports (every public module's ``__all__``) and checks
that each public function and class has an entry in :mod:`sweep_registry` (one valid call).
From the signature of that call the **generic probes** follow, for every function at once:

* a number argument given a string or a bool raises ``TypeError`` naming the argument, given
  NaN raises ``ValueError`` naming it, and given the same value as a NumPy scalar is accepted;
* a flag given a truthy string (``"yes"``) raises ``TypeError`` naming it, ``np.bool_`` is accepted;
* an int argument given ``1.5`` raises ``TypeError``; ``reduction="avg"`` raises ``ValueError``.

Part 2 holds the hand-written cases: values **and** gradients at edge inputs compared with
mpmath at 50 digits (never with the function itself), in float64, float32, bfloat16 and
float16; class-index and ±1 targets of every integer dtype; empty tensors; NaN policy;
shape, dtype and device errors; the cases listed in issue 13; and hypothesis properties.

Every expected outcome is written down: a value with a tolerance, or an error type and a
fragment of its message.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_registry import registry
from torch import nn

import companion
from companion import info, losses
from companion import reference as R

mpmath.mp.dps = 50
REGISTRY = registry()


# ---------------------------------------------------------------------------
# Part 1: the public API, enumerated


def public_api() -> dict[str, Any]:
    """Every public function and class, by ``defining module.qualname`` (re-exports counted once)."""
    found: dict[str, Any] = {}
    modules = [companion] + [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(companion.__path__, "companion.")
        if not any(part.startswith("_") for part in m.name.split(".")[1:])
    ]
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or not obj.__module__.startswith("companion"):
                continue
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


API = public_api()


def test_every_public_callable_has_a_sweep_entry() -> None:
    missing = sorted(set(API) - set(REGISTRY))
    assert not missing, (
        f"public callables without a sweep entry: {missing}. Add one valid call of each to "
        "tests/sweep_registry.py (and edge cases to tests/test_sweep.py)"
    )
    stale = sorted(set(REGISTRY) - set(API))
    assert not stale, f"sweep entries for names the package no longer exports: {stale}"


def test_the_api_is_large_enough_to_be_real() -> None:
    assert len(API) >= 100  # the walk found the subpackages, not just the top level


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_valid_call_works(name: str) -> None:
    if "*" in REGISTRY[name].skip:
        pytest.skip(REGISTRY[name].skip["*"])
    args, kwargs = REGISTRY[name].call()
    _invoke(API[name], args, kwargs)


def _invoke(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if obj is companion.runtime.quiet:  # a context manager: enter it
        with obj(*args, **kwargs) as captured:
            return captured
    return obj(*args, **kwargs)


def _defaults(name: str) -> dict[str, Any]:
    entry, obj = REGISTRY[name], API[name]
    if entry.defaults is not None:
        return dict(entry.defaults)
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}


def _probes() -> list[Any]:
    """(name, parameter, bad value, expected error or None, message fragment) for every swept callable."""
    cases = []
    for name in sorted(REGISTRY):
        entry = REGISTRY[name]
        if "*" in entry.skip:
            continue
        args, kwargs = entry.call()
        for param, default in _defaults(name).items():
            if param in entry.skip:
                continue
            base = kwargs.get(param, default)
            probes: list[tuple[str, Any, type[Exception] | None, str]] = []
            if param == "reduction" and isinstance(base, str):
                probes.append(("invalid", "avg", ValueError, "reduction"))
            elif isinstance(base, (bool, np.bool_)):
                probes += [("truthy-str", "yes", TypeError, param), ("np.bool_", np.bool_(base), None, "")]
            elif isinstance(base, (int, np.integer)):
                probes += [
                    ("str", "1", TypeError, param),
                    ("bool", True, TypeError, param),
                    ("float", 1.5, TypeError, param),
                    ("np.int64", np.int64(base), None, ""),
                ]
            elif isinstance(base, float):
                probes += [
                    ("str", "0.5", TypeError, param),
                    ("bool", True, TypeError, param),
                    ("np.float32", np.float32(base), None, ""),
                ]
                if math.isfinite(base):
                    probes.append(("nan", math.nan, ValueError, param))
            for label, value, error, fragment in probes:
                marks = []
                reason = entry.xfail.get(f"{param}-{label}") or entry.xfail.get(label)
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=False))
                cases.append(
                    pytest.param(name, param, value, error, fragment, id=f"{name}-{param}-{label}", marks=marks)
                )
    return cases


PROBES = _probes()


@pytest.mark.parametrize(("name", "param", "value", "error", "fragment"), PROBES)
def test_generic_argument_probe(
    name: str, param: str, value: Any, error: type[Exception] | None, fragment: str
) -> None:
    entry, obj = REGISTRY[name], API[name]
    args, kwargs = entry.call()
    if entry.defaults is None:  # put the probe where the valid call has the argument (positional or not)
        bound = inspect.signature(obj).bind_partial(*args, **kwargs)
        bound.arguments[param] = value
        args, kwargs = bound.args, bound.kwargs
    else:
        kwargs = {**kwargs, param: value}
    if error is None:
        _invoke(obj, args, kwargs)  # a NumPy scalar of a valid value is accepted
        return
    with pytest.raises(error, match=fragment):
        _invoke(obj, args, kwargs)


# ---------------------------------------------------------------------------
# Part 2a: values and gradients at edge inputs against mpmath

LOGITS = [0.0, 1e-4, -1e-4, 6.0, -6.0, 20.0, -20.0, 88.0, -88.0, 100.0, -100.0, 1e4, -1e4]
DTYPES = [torch.float64, torch.float32, torch.bfloat16, torch.float16]
# relative tolerance per dtype (a few units in the last place; float32 losses add two terms)
RTOL = {torch.float64: 1e-12, torch.float32: 4e-6, torch.bfloat16: 2e-2, torch.float16: 2e-3}


def _close(got: torch.Tensor, want: float, dtype: torch.dtype, absolute: float = 0.0) -> bool:
    """``got`` within the dtype's relative tolerance of mpmath's ``want`` rounded to ``dtype``."""
    want_t = torch.tensor(want, dtype=torch.float64).to(dtype).double().item()
    g = got.double().item()
    if math.isinf(want_t) or math.isinf(g):
        return g == want_t
    tiny = torch.finfo(dtype).tiny
    return abs(g - want_t) <= RTOL[dtype] * abs(want_t) + tiny + absolute


def _softplus(v: Any) -> Any:
    return mpmath.log1p(mpmath.exp(v)) if v < 0 else v + mpmath.log1p(mpmath.exp(-v))


def _sigmoid(v: Any) -> Any:
    return 1 / (1 + mpmath.exp(-v))


# binary losses of one logit x and label y: (function under test, mpmath value, mpmath derivative)
def _bce(x: Any, y: int) -> Any:
    return _softplus(-x) if y == 1 else _softplus(x)


def _focal2(x: Any, y: int) -> Any:
    wrong = _sigmoid(-x) if y == 1 else _sigmoid(x)  # 1 - p_t, never formed by subtraction
    return wrong**2 * _bce(x, y)


BINARY: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], Callable[[Any, int], Any], bool]] = {
    # name: (torch function of (x, y), mpmath function of (x, y), production loss (all dtypes, relative accuracy))
    "sigmoid_focal_loss gamma=0": (
        lambda x, y: losses.sigmoid_focal_loss(x, y, alpha=None, gamma=0.0, reduction="none"),
        _bce,
        True,
    ),
    "sigmoid_focal_loss gamma=2": (
        lambda x, y: losses.sigmoid_focal_loss(x, y, alpha=None, gamma=2.0, reduction="none"),
        _focal2,
        True,
    ),
    "reference.binary_cross_entropy_with_logits": (
        lambda x, y: R.binary_cross_entropy_with_logits(x, y, reduction="none"),
        _bce,
        False,
    ),
    "reference.soft_margin_loss": (
        lambda x, y: R.soft_margin_loss(x, 2 * y - 1, reduction="none"),
        _bce,
        False,
    ),
    "reference.log_sigmoid": (lambda x, y: -R.log_sigmoid(x if bool(y.item()) else -x), _bce, False),
    "losses.log_cosh": (lambda x, y: losses.log_cosh(x), lambda x, y: mpmath.log(mpmath.cosh(x)), True),
}


def _binary_cases() -> list[Any]:
    return [
        pytest.param(name, x, y, dtype, id=f"{name}-x={x:g}-y={y}-{str(dtype)[6:]}")
        for name in BINARY
        for x in LOGITS
        for y in (0, 1)
        for dtype in DTYPES
        if not (name == "losses.log_cosh" and y == 0)
    ]


@pytest.mark.parametrize(("name", "x", "y", "dtype"), _binary_cases())
def test_binary_edge_values_and_gradients(name: str, x: float, y: int, dtype: torch.dtype) -> None:
    fn, ref, production = BINARY[name]
    xt = torch.tensor([x], dtype=dtype, requires_grad=True)
    yt = torch.tensor([float(y)], dtype=dtype)
    loss = fn(xt, yt)
    loss.sum().backward()
    xv = mpmath.mpf(xt.detach().double().item())  # the input as rounded to dtype
    want = ref(xv, y)
    dwant = mpmath.diff(lambda v: ref(v, y), xv)
    assert xt.grad is not None
    # references compute in the input's dtype: an absolute error of a few ulps of 1 is torch's own accuracy
    slack = 0.0 if production else 4 * torch.finfo(dtype).eps * max(1.0, abs(float(xv)))
    assert _close(loss.detach()[0], float(want), dtype, slack), (loss.item(), float(want))
    assert _close(xt.grad[0], float(dwant), dtype, slack), (xt.grad.item(), float(dwant))


# softmax rows: logits with the target class t; value and gradient of -log p_t, focal, SCE
ROWS = [([a, 0.0, -a], t) for a in (0.0, 1e-4, 6.0, 20.0, 88.0, 100.0, 1e4) for t in (0, 2)] + [
    ([1e4, 1e4, 0.0], 0),
    ([0.0, -math.inf, -math.inf], 0),
    ([1.0, -math.inf, 0.0], 2),
]


def _ce_row(xs: list[Any], t: int) -> tuple[Any, list[Any], Any]:
    """-log p_t, the probabilities and q = 1 - p_t, each without cancellation."""
    r = [mpmath.mpf(0) if mpmath.isinf(v) else mpmath.exp(v - xs[t]) for v in xs]
    s = mpmath.fsum(r[k] for k in range(len(xs)) if k != t)
    p = [1 / (1 + s) if k == t else r[k] / (1 + s) for k in range(len(xs))]
    return mpmath.log1p(s), p, s / (1 + s)


def _row_loss(kind: str, xs: list[Any], t: int) -> tuple[Any, list[Any]]:
    """Value and gradient of a loss of p_t: dl/dx_k = l'(p_t) p_t (delta_kt - p_k)."""
    nll, p, q = _ce_row(xs, t)
    pt = p[t]
    if kind == "ce":
        value, dl_dpt = nll, -1 / pt
    elif kind == "focal2":
        value, dl_dpt = q**2 * nll, -2 * q * nll - q**2 / pt
    else:  # sce with alpha, beta, A
        alpha, beta, A = 0.1, 1.0, math.log(1e-4)
        value, dl_dpt = alpha * nll - beta * A * q, -alpha / pt + beta * A
    grad = [dl_dpt * pt * (q if k == t else -p[k]) for k in range(len(xs))]  # 1 - p_t is q
    return value, grad


SOFTMAX: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], str, bool]] = {
    "softmax_focal_loss gamma=0": (
        lambda x, t: losses.softmax_focal_loss(x, t, gamma=0.0, reduction="none"),
        "ce",
        True,
    ),
    "softmax_focal_loss gamma=2": (
        lambda x, t: losses.softmax_focal_loss(x, t, gamma=2.0, reduction="none"),
        "focal2",
        True,
    ),
    "sce_loss": (lambda x, t: losses.sce_loss(x, t, reduction="none"), "sce", True),
    "reference.cross_entropy": (lambda x, t: R.cross_entropy(x, t, reduction="none"), "ce", False),
    "reference.nll_loss(log_softmax)": (
        lambda x, t: R.nll_loss(R.log_softmax(x), t, reduction="none"),
        "ce",
        False,
    ),
    "info.log_softmax": (lambda x, t: -info.log_softmax(x, dim=1).gather(1, t[:, None])[:, 0], "ce", False),
}


@pytest.mark.parametrize(
    ("name", "row", "t", "dtype"),
    [
        pytest.param(n, row, t, d, id=f"{n}-{row}-t={t}-{str(d)[6:]}")
        for n in SOFTMAX
        for row, t in ROWS
        for d in DTYPES
        if SOFTMAX[n][2] or d in (torch.float64, torch.float32)
    ],
)
def test_softmax_edge_values_and_gradients(name: str, row: list[float], t: int, dtype: torch.dtype) -> None:
    fn, kind, production = SOFTMAX[name]
    x = torch.tensor([row], dtype=dtype, requires_grad=True)
    loss = fn(x, torch.tensor([t]))
    loss.sum().backward()
    xs = [mpmath.mpf(v) for v in x.detach().double()[0].tolist()]
    want, dwant = _row_loss(kind, xs, t)
    slack = 0.0 if production else 4 * torch.finfo(dtype).eps * max(1.0, max(abs(v) for v in row if math.isfinite(v)))
    assert _close(loss.detach()[0], float(want), dtype, slack), (loss.item(), float(want))
    assert x.grad is not None
    assert torch.isfinite(x.grad).all(), x.grad
    for k in range(3):
        assert _close(x.grad[0, k], float(dwant[k]), dtype, slack), (k, x.grad, [float(g) for g in dwant])


# elementwise regression losses of d = input - target
D_VALUES = [0.0, 1e-4, -1e-4, 0.5, -0.5, 6.0, -6.0, 100.0, -100.0, 1e4, -1e4]
REGRESSION: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], Callable[[Any], Any], bool]] = {
    "l1_loss": (lambda x, y: R.l1_loss(x, y, reduction="none"), abs, False),
    "mse_loss": (lambda x, y: R.mse_loss(x, y, reduction="none"), lambda d: d * d, False),
    "smooth_l1_loss": (
        lambda x, y: R.smooth_l1_loss(x, y, reduction="none", beta=1.0),
        lambda d: d * d / 2 if abs(d) < 1 else abs(d) - mpmath.mpf(1) / 2,
        False,
    ),
    "huber_loss": (
        lambda x, y: R.huber_loss(x, y, reduction="none", delta=2.0),
        lambda d: d * d / 2 if abs(d) < 2 else 2 * (abs(d) - 1),
        False,
    ),
    "log_cosh_loss": (
        lambda x, y: losses.log_cosh_loss(x, y, reduction="none"),
        lambda d: mpmath.log(mpmath.cosh(d)),
        True,
    ),
}


@pytest.mark.parametrize(
    ("name", "d", "dtype"),
    [pytest.param(n, d, dt, id=f"{n}-d={d:g}-{str(dt)[6:]}") for n in REGRESSION for d in D_VALUES for dt in DTYPES],
)
def test_regression_edge_values_and_gradients(name: str, d: float, dtype: torch.dtype) -> None:
    fn, ref, _ = REGRESSION[name]
    x = torch.tensor([d], dtype=dtype, requires_grad=True)
    loss = fn(x, torch.zeros(1, dtype=dtype))
    loss.sum().backward()
    dv = mpmath.mpf(x.detach().double().item())
    want = ref(dv)
    dwant = mpmath.mpf(0) if dv == 0 else mpmath.diff(ref, dv)
    assert _close(loss.detach()[0], float(want), dtype), (loss.item(), float(want))
    assert x.grad is not None
    assert _close(x.grad[0], float(dwant), dtype), (x.grad.item(), float(dwant))


# probabilities exactly 0 and 1
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 1e-4, 0.5, 1.0])
def test_probabilities_at_zero_and_one(p: float, dtype: torch.dtype) -> None:
    pt = torch.tensor([p], dtype=dtype)
    for y in (0.0, 1.0):
        # torch clamps each log at -100; so does the reference
        got = R.binary_cross_entropy(pt, torch.tensor([y], dtype=dtype), reduction="none")
        pv = mpmath.mpf(pt.double().item())
        want = -(
            y * max(mpmath.log(pv) if pv > 0 else -mpmath.inf, -100)
            + (1 - y) * max(mpmath.log1p(-pv) if pv < 1 else -mpmath.inf, -100)
        )
        assert _close(got[0], float(want), dtype, 4 * torch.finfo(dtype).eps), (p, y, got, float(want))
    h = info.binary_entropy(pt.double())
    assert torch.isfinite(h).all()
    if p in (0.0, 1.0):
        assert h.item() == 0.0
    fl = losses.binary_focal_loss_from_probs(pt, torch.tensor([1.0], dtype=dtype), alpha=None)
    assert torch.isfinite(fl).all()


def test_keras_binary_focal_loss_half_precision_at_p_one() -> None:
    from keras import ops

    from companion.keras import binary_focal_loss, symmetric_cross_entropy

    for dtype in ("float16", "bfloat16", "float32"):
        y = ops.cast(np.array([[1.0], [0.0]]), dtype)
        p = ops.cast(np.array([[1.0], [1.0]]), dtype)
        out = ops.convert_to_numpy(ops.cast(binary_focal_loss(y, p), "float32"))
        assert np.isfinite(out).all(), (dtype, out)
        assert out[0] < 1e-6 and 1.0 < out[1] < 17.0, (dtype, out)
        sce = ops.convert_to_numpy(
            ops.cast(
                symmetric_cross_entropy(np.array([0, 1]), ops.cast(np.array([[1.0, 0.0], [1.0, 0.0]]), dtype)),
                "float32",
            )
        )
        assert np.isfinite(sce).all(), (dtype, sce)


# ---------------------------------------------------------------------------
# Part 2b: targets of every integer dtype, sign targets, bad shapes, dtypes, devices

X = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
T = torch.tensor([0, 2, 1, 2])

CLASS_INDEX: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "softmax_focal_loss": lambda x, t: losses.softmax_focal_loss(x, t),
    "sce_loss": lambda x, t: losses.sce_loss(x, t),
    "SoftmaxFocalLoss": lambda x, t: losses.SoftmaxFocalLoss()(x, t),
    "reference.cross_entropy": lambda x, t: R.cross_entropy(x, t),
    "reference.nll_loss": lambda x, t: R.nll_loss(x, t),
    "reference.multi_margin_loss": lambda x, t: R.multi_margin_loss(x, t),
    "reference.linear_cross_entropy": lambda x, t: R.linear_cross_entropy(x, torch.eye(3, dtype=x.dtype), t),
    "training.accuracy": lambda x, t: torch.tensor(companion.training.accuracy(x, t)),
}


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.int8, torch.uint8])
@pytest.mark.parametrize("name", sorted(CLASS_INDEX))
def test_class_index_targets_of_any_integer_dtype_are_converted(name: str, dtype: torch.dtype) -> None:
    fn = CLASS_INDEX[name]
    assert torch.equal(fn(X, T.to(dtype)), fn(X, T))


@pytest.mark.parametrize(
    ("target", "error", "fragment"),
    [
        (torch.tensor([True, False, True, False]), TypeError, "target"),
        (torch.tensor([0.0, 2.0, 1.0, 2.0]), TypeError, "target"),
        (torch.tensor([0, 2, -1, 2]), ValueError, r"target.*\[0, 2\]"),
        (torch.tensor([0, 2, 3, 2]), ValueError, r"target.*\[0, 2\]"),
        (torch.tensor([0, 2, 255, 2], dtype=torch.uint8), ValueError, r"target.*\[0, 2\]"),
        (torch.tensor([[0, 2, 1, 2]]), ValueError, "target"),
    ],
    ids=["bool", "float", "minus-one", "C", "uint8-255", "shape"],
)
@pytest.mark.parametrize("name", sorted(set(CLASS_INDEX) - {"training.accuracy"}))
def test_bad_class_index_targets_raise_naming_target(
    name: str, target: torch.Tensor, error: type[Exception], fragment: str
) -> None:
    if name == "reference.cross_entropy" and target.is_floating_point():
        error = ValueError  # a floating target is a probability target: it must have the input's shape
    with pytest.raises(error, match=fragment):
        CLASS_INDEX[name](X, target)


def test_other_class_index_functions_convert_and_range_check() -> None:
    x = torch.randn(2, 3, dtype=torch.float64)
    ml = torch.tensor([[0, 2, -1], [1, -1, 0]])
    for dtype in (torch.int32, torch.int16, torch.uint8):
        if dtype == torch.uint8:
            continue  # uint8 cannot hold the -1 padding
        assert torch.equal(R.multilabel_margin_loss(x, ml.to(dtype)), R.multilabel_margin_loss(x, ml))
    with pytest.raises(ValueError, match="target"):
        R.multilabel_margin_loss(x, torch.tensor([[0, 3, -1], [1, -1, 0]]))
    with pytest.raises(TypeError, match="target"):
        R.multilabel_margin_loss(x, ml.bool())
    asm = {k: v for k, v in _asm_params().items() if k in ("head_weight", "tail_weights", "cutoffs", "head_bias")}
    h = torch.randn(3, 4, dtype=torch.float64)
    y = torch.tensor([0, 3, 5])
    base = R.adaptive_log_softmax_with_loss(h, y, **asm)
    for dtype in (torch.int32, torch.uint8):
        assert torch.equal(R.adaptive_log_softmax_with_loss(h, y.to(dtype), **asm).loss, base.loss)
    with pytest.raises(ValueError, match=r"target.*\[0, 5\]"):
        R.adaptive_log_softmax_with_loss(h, torch.tensor([0, 6, 1]), **asm)
    with pytest.raises(TypeError, match="target"):
        R.adaptive_log_softmax_with_loss(h, y.bool(), **asm)


def _asm_params() -> dict[str, Any]:
    from sweep_registry import _asm

    return _asm()


SIGN: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "margin_ranking_loss": lambda x, t: R.margin_ranking_loss(x, torch.zeros_like(x) + 2, t, reduction="none"),
    "soft_margin_loss": lambda x, t: R.soft_margin_loss(x, t, reduction="none"),
    "hinge_embedding_loss": lambda x, t: R.hinge_embedding_loss(x.abs(), t, reduction="none"),
    "cosine_embedding_loss": lambda x, t: R.cosine_embedding_loss(
        x[:, None].expand(-1, 2), x[:, None].expand(-1, 2) + 1, t, reduction="none"
    ),
}


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.float32])
@pytest.mark.parametrize("name", sorted(SIGN))
def test_sign_targets_of_any_real_dtype_are_converted_never_wrapped(name: str, dtype: torch.dtype) -> None:
    x = torch.tensor([1.0, -0.5, 3.0], dtype=torch.float64)
    ones = torch.ones(3, dtype=torch.float64)
    assert torch.equal(SIGN[name](x, ones.to(dtype)), SIGN[name](x, ones))
    with pytest.raises(TypeError, match="target"):
        SIGN[name](x, ones.bool())


def test_margin_ranking_uint8_target_of_one_is_the_float_result() -> None:
    got = R.margin_ranking_loss(torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([1], dtype=torch.uint8))
    assert got.item() == 1.0  # -1 * (1 - 2) + 0; it was 0 (uint8 -1 wrapped to 255)
    got = R.soft_margin_loss(torch.tensor([1.0]), torch.tensor([1], dtype=torch.uint8))
    assert abs(got.item() - math.log1p(math.exp(-1.0))) < 1e-6  # it was 510 / 255-ish


PAIRS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "sigmoid_focal_loss": losses.sigmoid_focal_loss,
    "log_cosh_loss": losses.log_cosh_loss,
    "l1_loss": R.l1_loss,
    "mse_loss": R.mse_loss,
    "smooth_l1_loss": R.smooth_l1_loss,
    "huber_loss": R.huber_loss,
    "binary_cross_entropy_with_logits": R.binary_cross_entropy_with_logits,
    "soft_margin_loss": R.soft_margin_loss,
    "multilabel_soft_margin_loss": R.multilabel_soft_margin_loss,
    "poisson_nll_loss": R.poisson_nll_loss,
    "kl_div": R.kl_div,
    "rmse": R.rmse,
    "log_cosh_loss_module": lambda x, y: losses.LogCoshLoss()(x, y),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pairs_refuse_broadcasting_and_integer_inputs(name: str) -> None:
    fn = PAIRS[name]
    with pytest.raises(ValueError, match="shape"):
        fn(torch.zeros(3, 1), torch.zeros(3))  # would broadcast to (3, 3)
    with pytest.raises(TypeError, match="input"):
        fn(torch.zeros(3, dtype=torch.int64), torch.zeros(3))
    with pytest.raises(TypeError, match="input"):
        fn([0.0, 1.0], torch.zeros(2))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["softmax_focal_loss", "sce_loss"])
def test_production_losses_name_the_device_mismatch(name: str) -> None:
    fn = CLASS_INDEX[name]
    with pytest.raises(ValueError, match="target is on meta but input is on cpu"):
        fn(X, T.to("meta"))


# ---------------------------------------------------------------------------
# Part 2c: empty tensors and the NaN policy

EMPTY: dict[str, Callable[[str], torch.Tensor]] = {
    "sigmoid_focal_loss": lambda r: losses.sigmoid_focal_loss(torch.zeros(0, 3), torch.zeros(0, 3), reduction=r),
    "binary_focal_loss_from_probs": lambda r: losses.binary_focal_loss_from_probs(
        torch.zeros(0, 3), torch.zeros(0, 3), reduction=r
    ),
    "softmax_focal_loss": lambda r: losses.softmax_focal_loss(
        torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=r
    ),
    "sce_loss": lambda r: losses.sce_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=r),
    "log_cosh_loss": lambda r: losses.log_cosh_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "cross_entropy": lambda r: R.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=r),
    "nll_loss": lambda r: R.nll_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=r),
    "binary_cross_entropy": lambda r: R.binary_cross_entropy(torch.zeros(0), torch.zeros(0), reduction=r),
    "binary_cross_entropy_with_logits": lambda r: R.binary_cross_entropy_with_logits(
        torch.zeros(0), torch.zeros(0), reduction=r
    ),
    "l1_loss": lambda r: R.l1_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "mse_loss": lambda r: R.mse_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "smooth_l1_loss": lambda r: R.smooth_l1_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "huber_loss": lambda r: R.huber_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "gaussian_nll_loss": lambda r: R.gaussian_nll_loss(torch.zeros(0), torch.zeros(0), 1.0, reduction=r),
    "poisson_nll_loss": lambda r: R.poisson_nll_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "margin_ranking_loss": lambda r: R.margin_ranking_loss(torch.zeros(0), torch.zeros(0), torch.zeros(0), reduction=r),
    "hinge_embedding_loss": lambda r: R.hinge_embedding_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "soft_margin_loss": lambda r: R.soft_margin_loss(torch.zeros(0), torch.zeros(0), reduction=r),
    "multilabel_soft_margin_loss": lambda r: R.multilabel_soft_margin_loss(
        torch.zeros(0, 3), torch.zeros(0, 3), reduction=r
    ),
    "multilabel_margin_loss": lambda r: R.multilabel_margin_loss(
        torch.zeros(0, 3), torch.zeros(0, 3, dtype=torch.long), reduction=r
    ),
    "multi_margin_loss": lambda r: R.multi_margin_loss(
        torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=r
    ),
    "cosine_embedding_loss": lambda r: R.cosine_embedding_loss(
        torch.zeros(0, 2), torch.zeros(0, 2), torch.zeros(0), reduction=r
    ),
    "triplet_margin_loss": lambda r: R.triplet_margin_loss(
        torch.zeros(0, 2), torch.zeros(0, 2), torch.zeros(0, 2), reduction=r
    ),
    "triplet_margin_with_distance_loss": lambda r: R.triplet_margin_with_distance_loss(
        torch.zeros(0, 2), torch.zeros(0, 2), torch.zeros(0, 2), reduction=r
    ),
    "linear_cross_entropy": lambda r: R.linear_cross_entropy(
        torch.zeros(0, 2), torch.zeros(3, 2), torch.zeros(0, dtype=torch.long), reduction=r
    ),
}


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_batches_follow_torch(name: str, reduction: str) -> None:
    """'none' gives an empty tensor, 'sum' 0, 'mean' NaN (0 / 0, as torch): never a raw error."""
    out = EMPTY[name](reduction)
    if reduction == "none":
        assert out.numel() == 0
    elif reduction == "sum":
        assert out.item() == 0.0
    else:
        assert math.isnan(out.item())


def test_empty_metrics_and_distributions_raise_clearly() -> None:
    for fn in (R.rmse, R.mape, R.msle):
        with pytest.raises(ValueError, match="empty"):
            fn(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match="no outcomes"):
        info.entropy(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="empty"):
        companion.optim.ewma(np.zeros(0), 0.5)


NAN = math.nan


@pytest.mark.parametrize(
    "fn",
    [
        lambda: losses.sigmoid_focal_loss(torch.tensor([NAN]), torch.tensor([1.0])),
        lambda: losses.softmax_focal_loss(torch.tensor([[NAN, 0.0]]), torch.tensor([0])),
        lambda: losses.sce_loss(torch.tensor([[NAN, 0.0]]), torch.tensor([0])),
        lambda: losses.log_cosh_loss(torch.tensor([NAN]), torch.tensor([0.0])),
        lambda: R.cross_entropy(torch.tensor([[NAN, 0.0]]), torch.tensor([0])),
        lambda: R.mse_loss(torch.tensor([NAN]), torch.tensor([0.0])),
        lambda: R.gaussian_nll_loss(torch.tensor([NAN]), torch.tensor([0.0]), 1.0),
        lambda: R.soft_margin_loss(torch.tensor([NAN]), torch.tensor([1.0])),
        lambda: info.logsumexp(torch.tensor([NAN, 0.0])),
        lambda: torch.as_tensor(companion.optim.ewma([NAN, 1.0], 0.5))[-1],
    ],
    ids=[
        "sigmoid_focal",
        "softmax_focal",
        "sce",
        "log_cosh",
        "cross_entropy",
        "mse",
        "gaussian_nll",
        "soft_margin",
        "logsumexp",
        "ewma",
    ],
)
def test_nan_predictions_propagate(fn: Callable[[], torch.Tensor]) -> None:
    """Losses do not look at predictions (no sync on the hot path): NaN in, NaN out, as in torch."""
    assert math.isnan(fn().item())


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (lambda: R.gaussian_nll_loss(torch.ones(2), torch.ones(2), NAN), "var"),
        (lambda: R.gaussian_nll_loss(torch.ones(2), torch.ones(2), torch.tensor([1.0, NAN])), "var"),
        (lambda: R.mape(torch.tensor([NAN]), torch.ones(1)), "input"),
        (lambda: R.mape(torch.ones(1), torch.tensor([NAN])), "target"),
        (lambda: R.msle(torch.tensor([NAN]), torch.ones(1)), "input"),
        (lambda: R.msle(torch.ones(1), torch.tensor([NAN])), "target"),
        (lambda: R.rmse(torch.tensor([NAN]), torch.ones(1)), "input"),
        (lambda: R.binary_cross_entropy(torch.tensor([NAN]), torch.ones(1)), "input"),
        (lambda: losses.sigmoid_focal_loss(torch.zeros(1), torch.tensor([NAN])), "target"),
        (lambda: losses.binary_focal_loss_from_probs(torch.tensor([NAN]), torch.ones(1)), "probs"),
        (lambda: info.entropy(np.array([NAN, 1.0])), "p"),
        (lambda: info.binary_entropy(np.array([NAN])), "p"),
    ],
    ids=[
        "gnll-var",
        "gnll-var-tensor",
        "mape-input",
        "mape-target",
        "msle-input",
        "msle-target",
        "rmse",
        "bce",
        "focal-target",
        "probs",
        "entropy",
        "binary_entropy",
    ],
)
def test_nan_in_a_checked_value_raises(fn: Callable[[], Any], fragment: str) -> None:
    """Where a function checks values (probabilities, variances, metrics), NaN fails the check."""
    with pytest.raises(ValueError, match=fragment):
        fn()


# ---------------------------------------------------------------------------
# Part 2d: the other cases of issue 13


def test_ctc_reference_gradient_is_torchs_for_long_and_repeated_targets() -> None:
    torch.manual_seed(0)
    for target, frames in (([1, 2, 3], 6), ([1, 1, 2], 6), ([2, 2], 3), ([1, 2, 3, 1], 5)):
        x = torch.randn(frames, 1, 4, dtype=torch.float64, requires_grad=True)
        x2 = x.detach().clone().requires_grad_()
        ours = R.ctc_loss(x.log_softmax(2), torch.tensor([target]), [frames], [len(target)], reduction="sum")
        theirs = F.ctc_loss(x2.log_softmax(2), torch.tensor([target]), [frames], [len(target)], reduction="sum")
        ours.backward()
        theirs.backward()
        assert x.grad is not None and x2.grad is not None
        assert abs(ours.item() - theirs.item()) < 1e-12
        assert torch.allclose(x.grad, x2.grad, atol=1e-12), (target, x.grad, x2.grad)


def test_ctc_impossible_alignment_with_zero_infinity_has_zero_gradient() -> None:
    x = torch.randn(2, 1, 3, dtype=torch.float64, requires_grad=True)
    loss = R.ctc_loss(x.log_softmax(2), torch.tensor([[1, 1]]), [2], [2], zero_infinity=True)
    loss.backward()
    assert loss.item() == 0.0
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))
    inf = R.ctc_loss(x.log_softmax(2), torch.tensor([[1, 1]]), [2], [2], reduction="none")
    assert math.isinf(inf.item())


@pytest.mark.parametrize("label", [-1, 4, 9])
def test_ctc_labels_outside_the_classes_raise(label: int) -> None:
    lp = torch.randn(5, 1, 4, dtype=torch.float64).log_softmax(2)
    with pytest.raises(ValueError, match=r"targets must hold class indices in \[0, 3\]"):
        R.ctc_loss(lp, torch.tensor([[1, label, 2]]), [5], [3])
    with pytest.raises(TypeError, match="input_lengths"):
        R.ctc_loss(lp, torch.tensor([[1, 2]]), [5.5], [2])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="zero_infinity"):
        R.ctc_loss(lp, torch.tensor([[1, 2]]), [5], [2], zero_infinity="no")  # type: ignore[arg-type]


def test_softmax_focal_loss_with_minus_inf_logits_has_zero_gradient_there() -> None:
    x = torch.tensor([[1.0, -math.inf, -math.inf]], requires_grad=True)
    losses.softmax_focal_loss(x, torch.tensor([0])).backward()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))
    x = torch.tensor([[1.0, -math.inf, 0.0]], requires_grad=True)
    losses.softmax_focal_loss(x, torch.tensor([0]), gamma=0.0).backward()
    ref = torch.tensor([[1.0, -math.inf, 0.0]], requires_grad=True)
    F.cross_entropy(ref, torch.tensor([0])).backward()
    assert x.grad is not None and ref.grad is not None
    assert torch.allclose(x.grad, ref.grad)


def test_sce_cross_entropy_term_is_as_precise_as_focal_gamma_zero() -> None:
    for row, want in (([20.0, 0.0, -20.0], 2.0611536900435727e-09), ([1e4, 1e4, 0.0], math.log(2))):
        x = torch.tensor([row])
        sce = losses.sce_loss(x, torch.tensor([0]), alpha=1.0, beta=0.0)
        focal = losses.softmax_focal_loss(x, torch.tensor([0]), gamma=0.0)
        assert abs(sce.item() - want) <= 1e-6 * want, sce.item()
        assert sce.item() == focal.item()


def test_ewma_accumulates_in_float32_for_half_precision() -> None:
    out = companion.optim.ewma(torch.full((8000,), 10.0, dtype=torch.float16), 0.999, bias_correction=True)
    assert out.dtype == torch.float16
    assert abs(out[-1].item() - 10.0) < 0.01  # it stalled at 8 (9.25 corrected)


def test_add_param_group_is_atomic_and_state_shapes_are_checked() -> None:
    from companion.optim import ReferenceAdam

    w = torch.zeros(2, requires_grad=True)
    opt = ReferenceAdam([w], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": -1.0})
    assert len(opt.param_groups) == 1
    w.grad = torch.ones(2)
    opt.step()  # still works
    opt.state[w]["exp_avg"] = torch.zeros(3)
    with pytest.raises(ValueError, match=r"state\['exp_avg'\] has shape \(3,\) but its parameter has shape \(2,\)"):
        opt.step()


def test_fit_rejects_an_optimizer_over_other_parameters() -> None:
    (net, loss_fn, _, loader), kwargs = _fit_args_here()
    other = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="none of them the model's"):
        companion.training.fit(net, loss_fn, other, loader, **kwargs)


def _fit_args_here() -> Any:
    from sweep_registry import _fit_args

    return _fit_args()


def test_fmt_of_an_unnamed_series_and_show_source_of_a_lambda(capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    assert companion.fmt(pd.Series([1.0, 2.123456])) == "0    1.0000\n1    2.1235"
    fn = {"key": lambda v: v + 1}["key"]
    companion.show_source(fn)
    assert "lambda v: v + 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "error", "fragment"),
    [
        (lambda: companion.regularization.l2_penalty(torch.ones(2), weight=np.float32(0.5)), None, ""),
        (lambda: info.entropy(np.array([0.5, 0.5]), base=np.float32(2.0)), None, ""),
        (lambda: R.smooth_l1_loss(torch.ones(1), torch.zeros(1), beta=np.float32(0.5)), None, ""),
        (lambda: losses.sigmoid_focal_loss(torch.ones(1), torch.ones(1), gamma=np.float32(2.0)), None, ""),
        (lambda: companion.regularization.l2_penalty(torch.ones(2), half="no"), TypeError, "half"),  # type: ignore[arg-type]
        (lambda: R.kl_div(torch.ones(1), torch.ones(1), log_target="yes"), TypeError, "log_target"),  # type: ignore[arg-type]
        (lambda: R.cross_entropy(X, T, label_smoothing=True), TypeError, "label_smoothing"),
        (lambda: R.cross_entropy(X, T, ignore_index=np.int64(1)), None, ""),
    ],
    ids=[
        "l2-np",
        "entropy-np",
        "smooth_l1-np",
        "focal-np",
        "half-str",
        "log_target-str",
        "smoothing-bool",
        "ignore-np",
    ],
)
def test_numbers_and_flags_are_checked_alike(
    fn: Callable[[], Any], error: type[Exception] | None, fragment: str
) -> None:
    if error is None:
        out = fn()
        assert torch.isfinite(torch.as_tensor(out)).all()
        return
    with pytest.raises(error, match=fragment):
        fn()


# ---------------------------------------------------------------------------
# Part 2e: properties

finite = st.floats(-50, 50, allow_nan=False, width=32)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@SETTINGS
@given(st.lists(finite, min_size=3, max_size=3), st.integers(0, 2), st.floats(0, 3))
def test_softmax_losses_are_nonnegative_and_reduce_to_cross_entropy(row: list[float], t: int, gamma: float) -> None:
    x = torch.tensor([row], dtype=torch.float64)
    target = torch.tensor([t])
    ce = R.cross_entropy(x, target)
    assert torch.allclose(losses.softmax_focal_loss(x, target, gamma=0.0), ce, rtol=1e-10, atol=1e-12)
    assert torch.allclose(losses.sce_loss(x, target, alpha=1.0, beta=0.0), ce, rtol=1e-10, atol=1e-12)
    assert losses.softmax_focal_loss(x, target, gamma=gamma).item() >= 0
    assert losses.softmax_focal_loss(x, target, gamma=gamma).item() <= ce.item() + 1e-12


@SETTINGS
@given(st.lists(finite, min_size=1, max_size=6), st.lists(st.sampled_from([0.0, 1.0]), min_size=6, max_size=6))
def test_binary_reductions_and_special_cases(xs: list[float], ys: list[float]) -> None:
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys[: len(xs)], dtype=torch.float64)
    none = losses.sigmoid_focal_loss(x, y, reduction="none")
    assert (none >= 0).all()
    assert torch.allclose(losses.sigmoid_focal_loss(x, y, reduction="sum"), none.sum())
    assert torch.allclose(losses.sigmoid_focal_loss(x, y, reduction="mean"), none.mean())
    bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert torch.allclose(losses.sigmoid_focal_loss(x, y, alpha=None, gamma=0.0, reduction="none"), bce)
    assert torch.allclose(R.soft_margin_loss(x, 2 * y - 1, reduction="none"), bce)


@SETTINGS
@given(st.lists(finite, min_size=1, max_size=6), st.lists(finite, min_size=6, max_size=6))
def test_regression_losses_are_symmetric_and_nonnegative(xs: list[float], ys: list[float]) -> None:
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys[: len(xs)], dtype=torch.float64)
    for fn in (R.l1_loss, R.mse_loss, R.smooth_l1_loss, R.huber_loss, losses.log_cosh_loss):
        ab, ba = fn(x, y, reduction="none"), fn(y, x, reduction="none")
        assert torch.allclose(ab, ba)
        assert (ab >= 0).all()
    assert torch.allclose(R.huber_loss(x, y, delta=1.0), R.smooth_l1_loss(x, y, beta=1.0))


@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    [
        (
            "pairwise_distance",
            lambda a, b, c: R.pairwise_distance(a, b).sum(),
            lambda a, b, c: F.pairwise_distance(a, b).sum(),
        ),
        (
            "cosine_embedding_loss",
            lambda a, b, c: R.cosine_embedding_loss(a, b, torch.tensor([1.0, -1.0], dtype=a.dtype)),
            lambda a, b, c: F.cosine_embedding_loss(a, b, torch.tensor([1.0, -1.0], dtype=a.dtype)),
        ),
        (
            "triplet_margin_loss",
            lambda a, b, c: R.triplet_margin_loss(a, b, c),
            lambda a, b, c: F.triplet_margin_loss(a, b, c),
        ),
    ],
)
@pytest.mark.parametrize("points", ["zero vectors", "identical points"])
def test_embeddings_at_zero_vectors_and_identical_points_match_torch(
    name: str, ours: Callable[..., torch.Tensor], theirs: Callable[..., torch.Tensor], points: str
) -> None:
    """Value and gradient finite and equal to torch's where the norms or distances are 0."""
    base = torch.zeros(2, 3, dtype=torch.float64) if points == "zero vectors" else torch.ones(2, 3, dtype=torch.float64)
    results = []
    for fn in (ours, theirs):
        a, b, c = (base.clone().requires_grad_() for _ in range(3))
        value = fn(a, b, c)
        value.backward()
        grads = [t.grad if t.grad is not None else torch.zeros_like(t) for t in (a, b, c)]
        results.append((value.detach(), grads))
    (v1, g1), (v2, g2) = results
    assert torch.isfinite(v1) and all(torch.isfinite(g).all() for g in g1)
    assert torch.allclose(v1, v2, rtol=1e-10, atol=1e-12), (v1, v2)
    for x, y in zip(g1, g2, strict=True):
        assert torch.allclose(x, y, rtol=1e-8, atol=1e-10), (x, y)
