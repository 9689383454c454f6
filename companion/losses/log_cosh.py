r"""The log-cosh regression loss, finite and accurate at every residual.

:math:`\log\cosh d` behaves like :math:`d^2 / 2` for small residuals :math:`d` and like
:math:`|d| - \log 2` for large ones: a smooth loss with bounded gradient
:math:`\tanh d`, robust to outliers like the Huber loss but with no threshold to choose.

Written as ``torch.log(torch.cosh(d))`` it fails in two places:

* ``cosh`` overflows for :math:`|d| > 89.41` in float32 (and bfloat16), giving ``inf``
  (and a NaN gradient) where the loss should be about :math:`|d|`;
* near 0, ``cosh(d)`` rounds to 1 for :math:`|d| < 3.4 \cdot 10^{-4}` in float32, so the
  loss is 0 instead of :math:`d^2 / 2`.

This module uses an exact rearrangement, :math:`\cosh^2 d = 1 + \sinh^2 d`, and one
approximation far out:

.. math::

    \log\cosh d =
    \begin{cases}
        \tfrac12 \log\bigl(1 + \sinh^2 d\bigr) & |d| \le 40 \quad(\text{no cancellation near } 0) \\
        |d| - \log 2 & |d| > 40 \quad(\text{no overflow})
    \end{cases}

computed with ``log1p``. The second line drops :math:`\log(1 + e^{-2|d|}) < e^{-80} \approx 1.8 \cdot 10^{-35}`
of the exact :math:`|d| - \log 2 + \log(1 + e^{-2|d|})`, far below the resolution of float64
at :math:`|d| > 40`; on the first, :math:`\sinh^2(40) \approx 5.5 \cdot 10^{34}` is still inside
the float32 range. The gradient is :math:`\tanh d`, which the backward pass computes directly
(a custom autograd function that keeps only :math:`\tanh d` for backward), so it is exact and
finite everywhere. From about :math:`10^5` elements on, one forward and backward pass costs no
more than the naive ``log(cosh(d))`` (on a 2-core CPU: 1.03-1.16x its speed at :math:`10^5` and
:math:`10^6` elements, 1.3-1.7x at :math:`10^7`); at :math:`10^4` elements it takes 40-60 µs
more (0.79-0.87x), the fixed cost of 13 small tensor operations against the naive form's 4
(``make bench`` measures both). It works under ``torch.compile(fullgraph=True)`` and
``torch.func``; second derivatives are exact.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_floating, check_reduction, check_same_shape
from ._common import compute_dtype
from ._fused import keep_for_backward, restore, reusable, scale_once, unwrap_dead

__all__ = ["LogCoshLoss", "log_cosh", "log_cosh_loss"]

_LOG2 = math.log(2.0)


_FAR = 40.0  # beyond this |d|, log cosh d = |d| - log 2 to float64 precision


# 0-d tensors for the eager path's scalar steps: an operation with a Python number wraps it in a
# fresh tensor on every call, which costs about as much as multiplying 10^4 elements
_HALF = torch.tensor(0.5)
_ONE = torch.tensor(1.0)


def _log_cosh_terms(r: torch.Tensor, want_slope: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""log cosh of ``r`` and, if wanted, :math:`\tanh r`, written over ``r`` (a fresh buffer the caller gives up).

    With :math:`c = \operatorname{clamp}(r, -40, 40)` and :math:`s = \sinh c`,
    :math:`\log\cosh r = \tfrac12\log(1 + s^2) + |r - c|`: the first term is exact up to 40 and is
    :math:`40 - \log 2` beyond, where the second adds the rest of :math:`|r| - \log 2`
    (:math:`|r - c|` is ``|softshrink(r, 40)|``). The slope comes from the same :math:`s`:
    :math:`\tanh c = s / \sqrt{1 + s^2}`, which is :math:`\tanh r` (to float64's resolution, ±1
    beyond 40). Square root and division cost a fraction of a ``tanh`` (on a 2-core AVX2 CPU, 10^5
    elements: ``tanh`` 0.24 ms, ``sinh`` 0.18 ms, an addition 0.015 ms); the slope is within 3 units in
    the last place of float32 (``tanh`` itself: 1), the loss within 4.
    """
    far = F.softshrink(r, _FAR).abs_()
    s = r.clamp_(-_FAR, _FAR).sinh_()
    square = s * s
    slope = s.mul_(torch.add(square, _ONE).rsqrt_()) if want_slope else None
    return square.log1p_().mul_(_HALF).add_(far), slope


# tanh(a) = a * P(a^2) near 0: its Taylor coefficients through a^13; at |a| <= 0.35 the first term
# left out is below 1e-9 of the sum, far below float32's resolution
_TANH_SERIES = (1.0, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075)
_TANH_SERIES_END = 0.35


def _tanh_and_decay(r: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\tanh r` and :math:`e^{-2a}` (:math:`a = |r|`) from one ``exp``, for float32 compiled code.

    :math:`\tanh a = (1 - e^{-2a}) / (1 + e^{-2a})` where :math:`a > 0.35` (there
    :math:`e^{-2a} < 1/2`, so the subtraction loses nothing), and the series
    ``_TANH_SERIES`` below it. Inductor's vectorized ``tanh`` on the CPU costs several ``exp``;
    this costs one and a few multiplications, for a slope within 3 units in the last place of
    float32 and a loss within 8 (where the ``tanh`` form is within 2 and 4; the eager path's
    formula is within 4): ``make bench`` shows the time, a test the accuracy.
    """
    decay = torch.exp(-2 * a)
    square = a * a
    poly = _TANH_SERIES[-1] * square + _TANH_SERIES[-2]
    for c in reversed(_TANH_SERIES[:-2]):
        poly = poly * square + c
    t_abs = torch.where(a <= _TANH_SERIES_END, a * poly, (1 - decay) / (1 + decay))
    return torch.copysign(t_abs, r), decay


def _log_cosh_compact(r: torch.Tensor, want_slope: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""log cosh and tanh of ``r`` for compiled code: one loop, two fast transcendental functions.

    With :math:`T = \tanh r` (the slope, needed anyway) and :math:`a = |r|`:

    .. math::

        \log\cosh r = \begin{cases} -\tfrac12 \operatorname{log1p}(-T^2) & a < 1 \\
            a - \log 2 + \operatorname{log1p}(e^{-2a}) & a \ge 1 \end{cases}

    one ``log1p`` serving both branches; neither cancels (below 1, :math:`1 - T^2 > 0.41`; above,
    the result is at least 0.43 and nothing overflows). In float32 :math:`T` and :math:`e^{-2a}`
    come from one ``exp`` (:func:`_tanh_and_decay`); in float64 from ``tanh``, with
    :math:`e^{-2a} = (1 - |T|)/(1 + |T|)`, exact by Sterbenz's lemma where it is used
    (:math:`|T| \ge 0.76`), up to the rounding of :math:`T` itself. (``expm1`` would give
    :math:`T` directly, but inductor's CPU code for ``expm1`` on torch 2.13 computes
    ``exp(x) - 1``, which is 0 for :math:`|x| < 6 \cdot 10^{-8}` in float32.)
    """
    a = r.abs()
    if r.dtype == torch.float32:
        slope, decay = _tanh_and_decay(r, a)
    else:
        slope = torch.tanh(r)
        t_abs = slope.abs()
        decay = (1 - t_abs) / (1 + t_abs)
    near = a < 1
    inner = torch.log1p(torch.where(near, -slope * slope, decay))
    value = torch.where(near, -0.5 * inner, (a - _LOG2) + inner)
    return value, (slope if want_slope else None)


def _as(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t`` in ``dtype`` (``t`` itself when it already is: ``Tensor.to`` costs a few µs even then)."""
    return t if t.dtype == dtype else t.to(dtype)


def _loss_and_slope(
    x: torch.Tensor, y: torch.Tensor | None, reduction: str, want_grad: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reduced loss in ``x``'s dtype and :math:`\tanh(x - y)` (empty unless ``want_grad``)."""
    dtype = compute_dtype(x.dtype)
    r = _as(x, dtype) - _as(y, dtype) if y is not None else x.to(dtype, copy=True)
    if torch.compiler.is_compiling():
        loss, tanh_r = _log_cosh_compact(r, want_grad)
        slope = tanh_r.to(x.dtype) if tanh_r is not None else x.new_empty(0)
    else:
        loss, tanh_r = _log_cosh_terms(r, want_grad)
        slope = _as(tanh_r, x.dtype) if tanh_r is not None else x.new_empty(0)
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return _as(loss, x.dtype), slope


def _backward(ctx: Any, grad_loss: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
    """The gradients of :class:`_LogCosh` and :class:`_LogCoshEager` (four, the last two ``None``)."""
    if grad_loss is None:  # no gradient reaches the loss (materialize_grads is off)
        return (None,) * 4
    x, y, slope = restore(ctx)
    scale = grad_loss / x.numel() if ctx.reduction == "mean" else grad_loss
    needs_y = y is not None and ctx.needs_input_grad[1]
    if not reusable(ctx) or slope.numel() != x.numel():
        dtype = compute_dtype(x.dtype)
        slope = torch.tanh(_as(x, dtype) - _as(y, dtype) if y is not None else _as(x, dtype)) * scale
    elif needs_y:
        slope = slope * scale
    else:  # the kept slope serves this one backward pass: scaled in place (no fresh buffer)
        slope = scale_once(ctx, slope, scale)
    dx = _as(slope, x.dtype) if ctx.needs_input_grad[0] else None
    dy = _as(-slope, y.dtype) if needs_y else None
    return dx, dy, None, None


class _LogCosh(torch.autograd.Function):
    r"""Sum, mean or elements of :math:`\log\cosh(x - y)`, with the gradient :math:`\tanh(x - y)`.

    The forward pass computes :math:`\tanh(x - y)` beside the loss and keeps only it for backward
    (4 bytes per element in float32); differentiating the backward pass again recomputes
    :math:`\tanh` where autograd sees it, so second derivatives (:math:`1 - \tanh^2`) are exact.
    This form (``setup_context``, the slope as a second output) is what ``torch.func`` and
    ``torch.compile`` trace; plain eager calls take :class:`_LogCoshEager`.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: torch.Tensor, y: torch.Tensor | None, reduction: str, want_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return _loss_and_slope(x, y, reduction, want_grad)

    @staticmethod
    def setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
        x, y, reduction, _ = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)  # no zero-filled gradient for the (non-differentiable) slope output
        keep_for_backward(ctx, (x, y), output[1])
        ctx.reduction = reduction

    @staticmethod
    def backward(ctx, grad_loss, _unused):  # type: ignore[no-untyped-def]
        return _backward(ctx, grad_loss)


class _LogCoshEager(torch.autograd.Function):
    """:class:`_LogCosh` for plain eager calls: the same computation and backward pass, one output.

    The slope goes straight onto the context instead of through a second, non-differentiable
    output and ``setup_context``; on a loss of :math:`10^4` elements that bookkeeping is a tenth
    of the whole forward and backward pass.
    """

    @staticmethod
    def forward(ctx, x, y, reduction, want_grad):  # type: ignore[no-untyped-def]
        loss, slope = _loss_and_slope(x, y, reduction, want_grad)
        keep_for_backward(ctx, (x, y), slope)
        ctx.reduction = reduction
        return loss

    @staticmethod
    def backward(ctx, grad_loss):  # type: ignore[no-untyped-def]
        return _backward(ctx, grad_loss)


_apply_eager = super(torch.autograd.Function, _LogCoshEager).apply  # autograd's C++ apply (see apply_positional)


def _apply(x: torch.Tensor, y: torch.Tensor | None, reduction: str) -> torch.Tensor:
    want_grad = torch.is_grad_enabled() and (x.requires_grad or (y is not None and y.requires_grad))
    if torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active():
        loss: torch.Tensor = _LogCosh.apply(x, y, reduction, want_grad)[0]
        return loss
    x, y = unwrap_dead((x, y))
    eager: torch.Tensor = _apply_eager(x, y, reduction, want_grad)
    return eager


def log_cosh(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\log\cosh x`, elementwise, without overflow or cancellation (see the module docstring).

    Half-precision inputs are computed in float32 and rounded back. The gradient is
    :math:`\tanh x`.

    Examples
    --------
    >>> log_cosh(torch.tensor([1e-4, 1.0, 1e4]))
    tensor([5.0000e-09, 4.3378e-01, 9.9993e+03])
    """
    check_floating(x, "x")
    return _apply(x, None, "none")


def log_cosh_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Log-cosh loss :math:`\ell_i = \log\cosh(x_i - y_i)`.

    ``'mean'`` divides the sum by the number of elements; ``'sum'`` adds (the
    form the source articles write); ``'none'`` returns the :math:`\ell_i`.
    The gradient with respect to the input is :math:`\tanh(x_i - y_i)`, in
    :math:`(-1, 1)`, so one outlier moves the fit no more than the absolute error
    does.

    Parameters
    ----------
    input, target:
        Floating tensors of the same shape.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns
    -------
    torch.Tensor
        The loss, in the dtype of ``input``.

    Examples
    --------
    >>> y = torch.tensor([0.019, 0.234, 0.918])
    >>> y_hat = torch.tensor([0.020, 0.176, 0.313])
    >>> log_cosh_loss(y_hat, y, reduction="none")
    tensor([5.0000e-07, 1.6811e-03, 1.7283e-01])
    >>> log_cosh_loss(torch.tensor([200.0]), torch.tensor([0.0]))  # naive log(cosh(200)) is inf
    tensor(199.3069)
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    return _apply(input, target, reduction)


class LogCoshLoss(nn.Module):
    r"""Module form of :func:`log_cosh_loss`.

    Examples
    --------
    >>> loss_fn = LogCoshLoss()
    >>> loss_fn(torch.tensor([0.0, 3.0]), torch.tensor([0.0, 0.0]))  # (0 + log cosh 3) / 2
    tensor(1.1547)
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return log_cosh_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
