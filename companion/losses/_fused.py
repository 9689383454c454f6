r"""Fused forward/backward kernels behind ``companion.losses``, written with torch operations.

Each loss here is a ``torch.autograd.Function`` whose forward pass computes the loss *and*
its closed-form gradient with respect to the logits in one sweep over the data, sharing every
intermediate (one sigmoid, one softmax), and saves only that gradient (the size of the input,
in the input's dtype). The backward pass of a first derivative is then one multiplication.

* **Memory.** Autograd's chain of small kernels keeps several full-size temporaries alive for
  backward; these functions keep one (the gradient) and free the rest at the end of forward.
* **Eager speed.** Intermediates are updated in place, so a forward pass allocates a handful of
  buffers instead of one per operation (on a CPU, a fresh buffer above about 32 MB costs a page
  fault per 4 KiB; ``make bench`` shows the effect).
* **Second derivatives.** When the backward pass itself is differentiated (``create_graph=True``,
  ``torch.autograd.gradgradcheck``, ``torch.func.hessian``), the saved gradient cannot be used: it
  is a constant to autograd. The backward pass then recomputes the gradient from the saved inputs
  with out-of-place operations that autograd tracks, so higher derivatives are right, never a
  silent constant.
* **torch.func and torch.compile.** Every function has ``setup_context`` and
  ``generate_vmap_rule = True`` and branches on metadata only (shapes, dtypes, Python numbers),
  so ``torch.func.grad``/``vmap``/``jacrev`` and ``torch.compile(fullgraph=True)`` trace them.

Half-precision inputs (float16, bfloat16) are computed in float32 inside the forward pass and the
gradient is stored back in the input's dtype.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch._C._functorch import unwrap_if_dead as _unwrap_if_dead

__all__ = [
    "apply_positional",
    "binary_focal",
    "binary_focal_terms",
    "probs_focal",
    "probs_focal_terms",
    "scaled_row_gradient",
    "softmax_row_parts",
    "softmax_row_stats",
    "softmax_row_terms",
    "softmax_rows",
    "unwrap_dead",
]


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    """float32 for half-precision tensors, else their own dtype."""
    return torch.float32 if t.dtype in (torch.float16, torch.bfloat16) else t.dtype


def _compute(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32 when it is half precision, else ``t`` itself."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def apply_positional(function: type[torch.autograd.Function], *args: Any) -> Any:
    """``function.apply(*args)`` without the per-call signature binding of ``Function.apply``.

    ``Function.apply`` binds its arguments to ``forward``'s signature with ``inspect`` on every
    call when ``setup_context`` is defined (to fill in defaults); that alone costs about 17 µs,
    a sizeable share of a small loss. Every call here passes all arguments positionally, so
    outside ``torch.func`` transforms and compilation the binding is skipped and autograd's own
    C++ ``apply`` is called directly. Under ``torch.compile`` (checked first, so the compiler
    never traces the transform query) and inside ``grad``/``vmap``/``jacrev`` it is the ordinary
    ``function.apply``.
    """
    if torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active():
        return function.apply(*args)
    return super(torch.autograd.Function, function).apply(*unwrap_dead(args))  # type: ignore[misc]


def unwrap_dead(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Tensors left over from a finished ``torch.func`` transform, unwrapped (as ``Function.apply`` does)."""
    return tuple(_unwrap_if_dead(a) if isinstance(a, torch.Tensor) else a for a in args)


def keep_for_backward(ctx: Any, inputs: tuple[torch.Tensor | None, ...], local: torch.Tensor) -> None:
    """Save ``inputs`` and the forward pass's gradient ``local`` for the backward pass.

    Eager, ``local`` is held on ``ctx`` rather than saved, so that the first backward pass may
    scale it in place (no fresh full-size buffer; a saved tensor changed in place would fail
    autograd's version check on a second pass). Under ``torch.compile`` everything is saved the
    ordinary way, which the compiler turns into one fused backward loop.
    """
    ctx.in_place = not torch.compiler.is_compiling()
    if ctx.in_place:
        ctx.save_for_backward(*inputs)
        ctx.local = local
    else:
        ctx.save_for_backward(*inputs, local)


def restore(ctx: Any) -> tuple[Any, ...]:
    """The inputs and the gradient given to :func:`keep_for_backward`."""
    if ctx.in_place:
        return (*ctx.saved_tensors, ctx.local)
    return tuple(ctx.saved_tensors)


def reusable(ctx: Any) -> bool:
    """Whether the kept gradient may serve this backward pass (not differentiated, not used before)."""
    return not torch.is_grad_enabled() and not getattr(ctx, "used", False)


def scale_once(ctx: Any, local: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``local * scale``, eager written into the kept buffer itself (no fresh full-size allocation).

    The buffer serves one backward pass; ``ctx.used`` sends a second one (``retain_graph=True``)
    to the recomputing path, so reusing a graph still gives the right gradient.
    """
    if not ctx.in_place:
        return local * scale
    release(ctx)
    return local.mul_(scale)


def release(ctx: Any) -> None:
    """Mark the kept gradient used, and drop the context's reference to it.

    Autograd stores a returned gradient as a leaf's ``.grad`` without copying it only when nothing
    else refers to the tensor; with the context still holding it, every backward pass would end in
    a full-size copy (26 MB for 65536 x 100 logits).
    """
    ctx.used = True
    ctx.local = None


# ---------------------------------------------------------------------------
# Binary (sigmoid) focal loss


def binary_focal_terms(
    x: torch.Tensor,
    y: torch.Tensor,
    alpha: float | None,
    gamma: float,
    want_grad: bool,
    inplace: bool,
    compact: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Element-wise focal loss of logits ``x`` and targets ``y`` and, if wanted, its derivative in ``x``.

    With :math:`s = \sigma(x)`, :math:`\bar s = \sigma(-x)` and :math:`n = s - y` (computed as
    ``lerp(s, -s̄, y)``, exact for hard labels: :math:`\bar s` for y = 1, :math:`s` for y = 0),

    .. math::

        \mathrm{ce} &= y\,\mathrm{softplus}(-x) + (1-y)\,\mathrm{softplus}(x), \qquad
        m = |n|^{\gamma}, \qquad \ell = \alpha_t\, m\, \mathrm{ce}, \\
        \frac{\partial \ell}{\partial x} &= \alpha_t\, m \Bigl(n + \gamma\,\frac{s\,\bar s\,\mathrm{ce}}{n}\Bigr),

    from :math:`\partial\mathrm{ce}/\partial x = s - y = n` and :math:`\partial n/\partial x = s\bar s`.
    For :math:`\gamma = 2` the gradient is :math:`\alpha_t\, n\,(n^2 + 2 s \bar s\,\mathrm{ce})`, for
    :math:`\gamma = 1` :math:`\alpha_t\,\operatorname{sign}(n)(n^2 + s\bar s\,\mathrm{ce})`: no division.
    Otherwise the term with :math:`1/n` is taken as 0 where :math:`n = 0` (a soft label met exactly;
    the derivative of :math:`|n|^\gamma` is infinite there for :math:`\gamma < 1`). For hard labels
    :math:`s\bar s/n` is :math:`-s` or :math:`\bar s`, so nothing large is formed.

    ``inplace=True`` updates intermediates in place (the fast forward pass); ``inplace=False``
    uses only out-of-place operations, so autograd can differentiate the result (double backward).
    ``compact=True`` (out of place, for a compiled forward pass, where every elementwise operation
    fuses into one loop and only transcendental functions cost) takes all four of
    :math:`s, \bar s, \mathrm{softplus}(\pm x)` from one :math:`e = \exp(-|x|)` and one
    :math:`\operatorname{log1p}(e)`: :math:`\sigma(|x|) = 1/(1+e)`, :math:`\sigma(-|x|) = e/(1+e)`,
    :math:`\mathrm{softplus}(\pm x) = \max(\pm x, 0) + \operatorname{log1p}(e)`. It is not
    differentiated by autograd (``|x|`` has no useful derivative at 0).
    """
    x = _compute(x)
    y = y.to(x.dtype)

    def mul(a: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
        return a.mul_(b) if inplace else a * b

    def neg(a: torch.Tensor) -> torch.Tensor:
        return a.neg_() if inplace else -a

    if compact:
        inplace = False
        e = torch.exp(-x.abs())
        log1p_e = torch.log1p(e)
        inv = 1 / (1 + e)
        positive = x >= 0
        s_c = torch.where(positive, inv, e * inv)
        sbar_c = torch.where(positive, e * inv, inv)
        sp_neg = torch.relu(-x) + log1p_e  # -log s
        sp_pos = torch.relu(x) + log1p_e  # -log s̄
    else:
        nx = -x
        sp_neg = F.softplus(nx)  # -log s
        sp_pos = F.softplus(x)  # -log s̄
    ce = torch.lerp(sp_pos, sp_neg, y)
    if alpha is not None:
        alpha_t = torch.mul(y, 2 * alpha - 1).add_(1 - alpha) if inplace else y * (2 * alpha - 1) + (1 - alpha)
    if gamma == 0 and not want_grad:
        return (mul(ce, alpha_t) if alpha is not None else ce), None

    if compact:
        neg_sbar, s = -sbar_c, s_c
    else:
        neg_sbar = neg(nx.sigmoid_() if inplace else torch.sigmoid(nx))  # -s̄
        s = neg(sp_neg).exp_() if inplace else torch.exp(-sp_neg)  # s
    n = torch.lerp(s, neg_sbar, y)  # s - y
    if gamma == 0:
        loss, grad = ce, n
    else:
        b = mul(mul(s, neg_sbar), ce)  # -s s̄ ce
        if gamma == 2:
            m = n * n
            loss = mul(ce, m)
            grad = mul(m.sub_(b, alpha=2.0), n) if inplace else (m - 2.0 * b) * n
        elif gamma == 1:
            m = n.abs()
            loss = mul(ce, m)
            grad = (n * n).sub_(b).mul_(n.sign()) if inplace else (n * n - b) * n.sign()
        else:
            m = n.abs().pow_(gamma) if inplace else n.abs() ** gamma
            loss = mul(ce, m)
            zero = n == 0
            if inplace:
                ratio = b.div_(n).masked_fill_(zero, 0.0)
                grad = n.sub_(ratio, alpha=gamma).mul_(m)
            else:
                ratio = torch.where(zero, torch.zeros_like(b), b / torch.where(zero, torch.ones_like(n), n))
                grad = (n - gamma * ratio) * m
    if alpha is not None:
        loss = mul(loss, alpha_t)
        grad = mul(grad, alpha_t)
    return loss, (grad if want_grad else None)


def _target_grad(x: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float) -> torch.Tensor:
    r""":math:`\partial\ell/\partial y` (for targets that require grad), out of place.

    From :math:`\partial\mathrm{ce}/\partial y = \mathrm{softplus}(-x) - \mathrm{softplus}(x) = -x`,
    :math:`\partial m/\partial y = -\gamma\, m / n` and :math:`\partial\alpha_t/\partial y = 2\alpha - 1`.
    """
    x = _compute(x)
    y = y.to(x.dtype)
    s, sbar = torch.sigmoid(x), torch.sigmoid(-x)
    n = torch.lerp(s, -sbar, y)
    ce = torch.lerp(F.softplus(x), F.softplus(-x), y)
    if gamma == 0:
        m, dm = torch.ones_like(n), torch.zeros_like(n)
    else:
        m = n.abs() ** gamma
        zero = n == 0
        dm = torch.where(zero, torch.zeros_like(n), -gamma * m / torch.where(zero, torch.ones_like(n), n))
    d = dm * ce - m * x
    if alpha is None:
        return d
    return (y * (2 * alpha - 1) + (1 - alpha)) * d + (2 * alpha - 1) * m * ce


_REDUCE = {"none": 0, "mean": 1, "sum": 2}


class _BinaryFocal(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float, reduction: str, want_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        compiling = torch.compiler.is_compiling()
        loss, grad = binary_focal_terms(x, y, alpha, gamma, want_grad, inplace=not compiling, compact=compiling)
        if reduction == "mean":
            loss = loss.sum() / x.numel()
        elif reduction == "sum":
            loss = loss.sum()
        grad_out = grad.to(x.dtype) if grad is not None else x.new_empty(0)
        return loss.to(x.dtype), grad_out

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[torch.Tensor, torch.Tensor]) -> None:
        x, y, alpha, gamma, reduction, _ = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)  # no zero-filled gradient for the (non-differentiable) second output
        keep_for_backward(ctx, (x, y), output[1])
        ctx.options = (alpha, gamma, reduction)

    @staticmethod
    def backward(ctx: Any, grad_loss: torch.Tensor, _unused: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if grad_loss is None:  # no gradient reaches the loss (materialize_grads is off)
            return (None,) * 6
        x, y, local = restore(ctx)
        alpha, gamma, reduction = ctx.options
        scale = grad_loss / x.numel() if reduction == "mean" else grad_loss
        dx = dy = None
        if ctx.needs_input_grad[0]:
            if not reusable(ctx) or local.numel() != x.numel():
                # differentiating the backward pass: recompute the gradient where autograd can see it
                _, fresh = binary_focal_terms(x, y, alpha, gamma, True, inplace=False)
                assert fresh is not None
                dx = (fresh * scale).to(x.dtype)
            else:
                dx = scale_once(ctx, local, scale)
        if ctx.needs_input_grad[1]:
            dy = (_target_grad(x, y, alpha, gamma) * scale).to(y.dtype)
        return dx, dy, None, None, None, None


def binary_focal(x: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float, reduction: str) -> torch.Tensor:
    """The reduced binary focal loss through its fused autograd function (arguments already checked)."""
    want_grad = x.requires_grad and torch.is_grad_enabled()
    loss: torch.Tensor = apply_positional(_BinaryFocal, x, y, alpha, gamma, reduction, want_grad)[0]
    return loss


def probs_focal_terms(
    p: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float, eps: float, want_grad: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""The focal loss of clamped probabilities :math:`\hat p` and its derivative in ``p``.

    With :math:`n = \hat p - y`, :math:`\mathrm{ce} = -y\log\hat p - (1-y)\log(1-\hat p)` and
    :math:`m = |n|^\gamma`: :math:`\partial\mathrm{ce}/\partial\hat p = n / (\hat p(1-\hat p))` and
    :math:`\partial m/\partial\hat p = \gamma m / n`, so

    .. math::

        \frac{\partial\ell}{\partial p} = \alpha_t\, m \Bigl(\frac{n}{\hat p(1-\hat p)}
            + \gamma\,\frac{\mathrm{ce}}{n}\Bigr)\,[\varepsilon \le p \le 1 - \varepsilon],

    the term with :math:`1/n` taken as 0 where :math:`n = 0`, and 0 where the clamp is active
    (as ``torch.clamp``'s gradient). Out-of-place operations only.
    """
    p = _compute(p)
    y = y.to(p.dtype)
    pc = p.clamp(eps, 1 - eps)
    ce = -torch.lerp(torch.log1p(-pc), torch.log(pc), y)
    n = pc - y
    zero = n == 0
    safe_n = torch.where(zero, torch.ones_like(n), n)
    m = n.abs() ** gamma if gamma != 0 else None
    loss = ce if m is None else m * ce
    alpha_t = None if alpha is None else y * (2 * alpha - 1) + (1 - alpha)
    if alpha_t is not None:
        loss = alpha_t * loss
    if not want_grad:
        return loss, None
    grad = n / (pc * (1 - pc))
    if m is not None:
        grad = m * (grad + torch.where(zero, torch.zeros_like(n), gamma * ce / safe_n))
    grad = torch.where((p >= eps) & (p <= 1 - eps), grad, torch.zeros_like(grad))
    if alpha_t is not None:
        grad = alpha_t * grad
    return loss, grad


class _ProbsFocal(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(
        p: torch.Tensor,
        y: torch.Tensor,
        alpha: float | None,
        gamma: float,
        eps: float,
        reduction: str,
        want_grad: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        loss, grad = probs_focal_terms(p, y, alpha, gamma, eps, want_grad)
        if reduction == "mean":
            loss = loss.sum() / p.numel()
        elif reduction == "sum":
            loss = loss.sum()
        return loss.to(p.dtype), (grad.to(p.dtype) if grad is not None else p.new_empty(0))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[torch.Tensor, torch.Tensor]) -> None:
        p, y, alpha, gamma, eps, reduction, _ = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)  # no zero-filled gradient for the (non-differentiable) second output
        keep_for_backward(ctx, (p, y), output[1])
        ctx.options = (alpha, gamma, eps, reduction)

    @staticmethod
    def backward(ctx: Any, grad_loss: torch.Tensor, _unused: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if grad_loss is None:  # no gradient reaches the loss (materialize_grads is off)
            return (None,) * 7
        p, y, local = restore(ctx)
        alpha, gamma, eps, reduction = ctx.options
        if ctx.needs_input_grad[1]:
            raise NotImplementedError(
                "binary_focal_loss_from_probs: target must not require grad; use sigmoid_focal_loss for "
                "learned soft targets"
            )
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None, None
        scale = grad_loss / p.numel() if reduction == "mean" else grad_loss
        if not reusable(ctx) or local.numel() != p.numel():
            _, local = probs_focal_terms(p, y, alpha, gamma, eps, True)
            assert local is not None
            return (local * scale).to(p.dtype), None, None, None, None, None, None
        return scale_once(ctx, local, scale), None, None, None, None, None, None


def probs_focal(
    p: torch.Tensor, y: torch.Tensor, alpha: float | None, gamma: float, eps: float, reduction: str
) -> torch.Tensor:
    """The reduced focal loss of probabilities through its fused autograd function (arguments already checked)."""
    want_grad = p.requires_grad and torch.is_grad_enabled()
    loss: torch.Tensor = apply_positional(_ProbsFocal, p, y, alpha, gamma, eps, reduction, want_grad)[0]
    return loss


# ---------------------------------------------------------------------------
# Losses of the target-class probability (softmax focal, symmetric cross entropy)


def _row_rule(
    rule: str, params: tuple[float, ...], log_pt: torch.Tensor, q: torch.Tensor, pt: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per-position loss :math:`\ell(p_t)` and weight :math:`w` with :math:`\partial\ell/\partial x = w\,(p - e_t)`.

    For any loss of the target probability alone, :math:`\partial\ell/\partial x_k
    = \ell'(p_t)\, p_t(\delta_{kt} - p_k)`, so :math:`w = -\ell'(p_t)\,p_t`.

    * ``"focal"`` (γ,): :math:`\ell = -q^\gamma \log p_t` with :math:`q = 1 - p_t`;
      :math:`w = q^\gamma\,(1 + \gamma\, p_t\, (-\log p_t) / q)`, where :math:`(-\log p_t)/q \to 1`
      as :math:`q \to 0` (taken as 1 at q = 0), so no :math:`q^{\gamma-1}` is ever formed.
    * ``"sce"`` (α, β, A): :math:`\ell = -\alpha \log p_t - \beta A q`; :math:`w = \alpha - \beta A p_t`.
    """
    nlog = -log_pt
    if rule == "focal":
        (gamma,) = params
        if gamma == 0:
            return nlog, torch.ones_like(nlog)
        m = q**gamma
        positive = q > 0
        ratio = torch.where(positive, nlog / torch.where(positive, q, torch.ones_like(q)), torch.ones_like(q))
        return m * nlog, m * (1 + gamma * pt * ratio)
    alpha, beta, A = params
    return alpha * nlog - (beta * A) * q, alpha - (beta * A) * pt


def softmax_row_terms(
    x: torch.Tensor,
    t: torch.Tensor,
    weight: torch.Tensor | None,
    rule: str,
    params: tuple[float, ...],
    want_grad: bool,
    inplace: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Per-position loss of logits ``x`` ``(N, C, *d)`` at classes ``t`` ``(N, *d)``, and its gradient.

    :math:`q = 1 - p_t` is the sum of the *other* classes' probabilities, taken from the
    softmax with the target entry zeroed, so it keeps full relative accuracy when :math:`p_t`
    rounds to 1; :math:`\log p_t = \operatorname{log1p}(-q)` where :math:`q < 1/2`, and
    :math:`x_t - x_j + \log p_j` elsewhere, :math:`j` the most probable class (exact and finite
    even where :math:`p_t` underflows, with no log-softmax pass: :math:`p_j \ge 1/C`).
    The gradient :math:`w\,(p - e_t)` is built in the softmax's own buffer (the target entry
    set to :math:`-w\,q`): one logits-sized buffer in all.
    ``weight`` (per position, or ``None``) multiplies loss and gradient; a weight of 0 drops a
    position (``ignore_index``).
    """
    loss, others, w, q = softmax_row_parts(x, t, weight, rule, params, inplace)
    if not want_grad:
        return loss, None
    return loss, scaled_row_gradient(others, t, w, q, inplace)


def softmax_row_parts(
    x: torch.Tensor,
    t: torch.Tensor,
    weight: torch.Tensor | None,
    rule: str,
    params: tuple[float, ...],
    inplace: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss per position and the parts of its gradient: ``p`` with the target entry zeroed, ``w`` and ``q``.

    See :func:`softmax_row_terms`; with ``inplace=True`` the softmax buffer is the returned ``p``.
    """
    cd = _compute_dtype(x)  # float32 for half-precision logits; no full-size copy is made
    idx = t.unsqueeze(1)
    p = torch.softmax(x, dim=1, dtype=cd)  # reads half-precision logits directly
    # log p_t without a log-softmax pass: p_t / p_j = exp(x_t - x_j) for any class j, so
    # log p_t = x_t - x_j + log p_j; with j the most probable class, p_j >= 1/C never underflows.
    # x_j is the largest logit and p_j the largest probability: two value-only reductions, several
    # times cheaper than one max that also returns the index
    top_logit = x.amax(1, keepdim=True).to(cd)
    p_top = p.amax(1, keepdim=True)
    log_pt_raw = (x.gather(1, idx).to(cd) - top_logit + torch.log(p_top)).squeeze(1)
    others = p.scatter_(1, idx, 0.0) if inplace else p.scatter(1, idx, 0.0)
    q = others.sum(1)
    small = q < 0.5
    log_pt = torch.where(small, torch.log1p(-torch.where(small, q, torch.zeros_like(q))), log_pt_raw)
    loss, w = _row_rule(rule, params, log_pt, q, torch.exp(log_pt))
    if weight is not None:
        loss, w = loss * weight, w * weight
    return loss, others, w, q


def scaled_row_gradient(
    others: torch.Tensor, t: torch.Tensor, w: torch.Tensor, q: torch.Tensor, inplace: bool
) -> torch.Tensor:
    """``w (p - e_t)`` from :func:`softmax_row_parts`: ``others`` times ``w``, the target entry set to ``-w q``."""
    idx = t.unsqueeze(1)
    wq = (-(w * q)).unsqueeze(1)
    if inplace:
        return others.mul_(w.unsqueeze(1)).scatter_(1, idx, wq)
    return (others * w.unsqueeze(1)).scatter(1, idx, wq)


def _class_mask(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``k == t`` over the class dimension of ``x`` ``(N, C, *d)``, as a broadcastable boolean tensor."""
    # int32 indices when they fit: a compiled loop compares one vector of int32 per vector of
    # float32, where int64 takes two
    index = torch.int32 if x.shape[1] < 2**31 else torch.int64
    classes = torch.arange(x.shape[1], device=x.device, dtype=index).view(1, -1, *([1] * (x.dim() - 2)))
    return classes == t.to(index).unsqueeze(1)


def softmax_row_stats(
    x: torch.Tensor, t: torch.Tensor, weight: torch.Tensor | None, rule: str, params: tuple[float, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The loss per position and the row statistics its gradient needs, in a form a compiler fuses.

    The same quantities as :func:`softmax_row_terms`, from row reductions alone: with
    :math:`m = \max_k x_k`, :math:`S = \sum_k e^{x_k - m}` and the target's share left out,
    :math:`q = \sum_{k \ne t} e^{x_k - m} / S`, :math:`\log p_t = \operatorname{log1p}(-q)` where
    :math:`q < 1/2`, else :math:`x_t - m - \log S`. Under ``torch.compile`` every term is a
    row reduction in the same loop over the logits (no scatter, no softmax buffer; :math:`x_t` is
    gathered, one load per row), and the
    gradient :math:`w\,(p - e_t)` is rebuilt in the backward pass from the logits and the four
    per-position numbers returned, stacked: :math:`m`, :math:`S`, :math:`q`, :math:`w`.
    """
    cd = _compute_dtype(x)
    xc = x.to(cd)
    mask = _class_mask(x, t)
    top = xc.amax(1, keepdim=True)
    e = torch.exp(xc - top)
    total = e.sum(1)
    q = torch.where(mask, 0.0, e).sum(1) / total
    log_pt_raw = xc.gather(1, t.unsqueeze(1)).squeeze(1) - top.squeeze(1) - torch.log(total)
    small = q < 0.5
    log_pt = torch.where(small, torch.log1p(-torch.where(small, q, 0.0)), log_pt_raw)
    loss, w = _row_rule(rule, params, log_pt, q, torch.exp(log_pt))
    if weight is not None:
        loss, w = loss * weight, w * weight
    return loss, torch.stack([top.squeeze(1), total, q, w])


def _grad_from_row_stats(x: torch.Tensor, t: torch.Tensor, stats: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``scale * w * (p - e_t)`` from the logits and the statistics of :func:`softmax_row_stats`."""
    top, total, q, w = (v.unsqueeze(1) for v in stats.unbind(0))
    p = torch.exp(x.to(stats.dtype) - top) * total.reciprocal()  # one division per row, not per entry
    grad = (w * scale.unsqueeze(1)) * torch.where(_class_mask(x, t), -q, p)
    return grad.to(x.dtype)


class _SoftmaxRows(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: torch.Tensor,
        t: torch.Tensor,
        weight: torch.Tensor | None,
        rule: str,
        params: tuple[float, ...],
        want_grad: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if torch.compiler.is_compiling():
            # compiled: row statistics only; the backward pass rebuilds the gradient from the
            # logits in one fused loop, as inductor does for F.cross_entropy
            loss, stats = softmax_row_stats(x, t, weight, rule, params)
            return loss, x.new_empty(0), stats
        # in-place scatter has no vmap batching rule: under vmap take the out-of-place path
        batched = torch._C._functorch.is_batchedtensor(x)
        if want_grad and not batched and _compute_dtype(x) == x.dtype:
            # keep the gradient's parts and scale them once, in the backward pass, where the
            # incoming gradient is known: one pass over the logits-sized buffer instead of two
            loss, others, w, q = softmax_row_parts(x, t, weight, rule, params, inplace=True)
            return loss, others, torch.stack([w, q])
        loss, grad = softmax_row_terms(x, t, weight, rule, params, want_grad, inplace=not batched)
        grad_out = grad.to(x.dtype) if grad is not None else x.new_empty(0)
        return loss, grad_out, x.new_empty(0)

    @staticmethod
    def setup_context(
        ctx: Any, inputs: tuple[Any, ...], output: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> None:
        x, t, weight, rule, params, _ = inputs
        ctx.mark_non_differentiable(output[1], output[2])
        ctx.set_materialize_grads(False)  # no zero-filled gradients for the (non-differentiable) other outputs
        ctx.from_stats = torch.compiler.is_compiling()
        ctx.parts = not ctx.from_stats and output[2].numel() > 0
        if ctx.from_stats:
            ctx.in_place = False
            ctx.save_for_backward(x, t, output[2])
        else:
            keep_for_backward(ctx, (x, t, weight), output[1])
            ctx.w_q = output[2]
        ctx.options = (rule, params)

    @staticmethod
    def backward(
        ctx: Any, grad_loss: torch.Tensor, _grad: torch.Tensor, _stats: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        if grad_loss is None or not ctx.needs_input_grad[0]:  # materialize_grads is off
            return (None,) * 6
        if ctx.from_stats:
            x, t, stats = ctx.saved_tensors
            return _grad_from_row_stats(x, t, stats, grad_loss), None, None, None, None, None
        x, t, weight, local = restore(ctx)
        rule, params = ctx.options
        if ctx.parts and reusable(ctx):  # the kept parts serve this one backward pass
            release(ctx)
            w, q = ctx.w_q.unbind(0)
            return scaled_row_gradient(local, t, w * grad_loss, q, inplace=True), None, None, None, None, None
        if ctx.parts or not reusable(ctx) or local.numel() != x.numel():
            _, fresh = softmax_row_terms(x, t, weight, rule, params, True, inplace=False)
            assert fresh is not None
            return (fresh * grad_loss.unsqueeze(1)).to(x.dtype), None, None, None, None, None
        return scale_once(ctx, local, grad_loss.unsqueeze(1)), None, None, None, None, None


def softmax_rows(
    x: torch.Tensor,
    t: torch.Tensor,
    weight: torch.Tensor | None,
    rule: str,
    params: tuple[float, ...],
) -> torch.Tensor:
    """Per-position loss (float32 for half-precision input) through the fused autograd function."""
    want_grad = x.requires_grad and torch.is_grad_enabled()
    loss: torch.Tensor = apply_positional(_SoftmaxRows, x, t, weight, rule, params, want_grad)[0]
    return loss
