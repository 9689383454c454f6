r"""By-hand references of the likelihood losses for classes of ``torch.nn``.

* :func:`cross_entropy` (``nn.CrossEntropyLoss``): softmax cross entropy from logits, with
  class-index or probability targets, class weights, ``ignore_index`` and label smoothing;
* :func:`nll_loss` (``nn.NLLLoss``): the negative log-likelihood of the target class, given
  log-probabilities;
* :func:`binary_cross_entropy` (``nn.BCELoss``): binary cross entropy from probabilities;
* :func:`binary_cross_entropy_with_logits` (``nn.BCEWithLogitsLoss``): binary cross entropy
  from logits, with a weight for the positive class.

Each function has the name, parameters and defaults of its ``torch.nn.functional``
counterpart, without the deprecated ``size_average`` and ``reduce``. The arguments that
torch places after a deprecated one are keyword-only here, so a call written for torch's
positional order cannot pass a deprecated flag in their place. No torch loss function (and
no ``F.log_softmax`` or ``F.logsigmoid``) is called: the log-probabilities come from
:func:`log_softmax` and :func:`log_sigmoid` below, two lines each.

What ``reduction='mean'`` divides by differs between these losses, and is part of each
docstring: a *weighted* mean over the kept items for class-index targets, a plain mean over
the items (not over the classes) for probability targets, and over every element for the
binary losses, whatever their weights.
"""

from __future__ import annotations

import torch

from .._checks import (
    check_broadcasts,
    check_floating,
    check_index_dtype,
    check_int,
    check_number,
    check_reduction,
    check_same_shape,
    check_shape,
    check_tensor,
    reduce,
    require_class_indices,
    require_probabilities,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "log_sigmoid",
    "log_softmax",
    "nll_loss",
]

#: ``binary_cross_entropy`` clamps each log at this value, as torch does, so that a
#: probability of exactly 0 or 1 gives a finite loss (at most 100 per element).
LOG_CLAMP = -100.0


def log_softmax(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    r"""Log-probabilities of a softmax: :math:`\log p_c = x_c - \log \sum_k e^{x_k}`.

    The largest logit :math:`m` is subtracted first,
    :math:`\log p_c = (x_c - m) - \log \sum_k e^{x_k - m}`: no exponential
    overflows, and the log-probability of the top class, close to 0, is not
    the difference of two large numbers.

    Examples
    --------
    >>> log_softmax(torch.tensor([[1.0, 2.0], [1.0, 3.0]]))
    tensor([[-1.3133, -0.3133],
            [-2.1269, -0.1269]])
    >>> log_softmax(torch.tensor([[0.0, 1000.0]]))  # exp(1000) would overflow
    tensor([[-1000.,     0.]])
    """
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted - torch.logsumexp(shifted, dim=dim, keepdim=True)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    r"""Log of the sigmoid without overflow: :math:`\log \sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`.

    Computed as :math:`x - \log(1 + e^{x})` for :math:`x < 0` and :math:`-\log(1 + e^{-x})`
    otherwise, which is the same number and has the right gradient :math:`\sigma(-x)` at 0.

    Examples
    --------
    >>> log_sigmoid(torch.tensor([-200.0, 0.0, 200.0]))
    tensor([-200.0000,   -0.6931,    0.0000])
    """
    # two smooth branches, each fed only its own side of 0, so that the gradient is
    # sigma(-x) everywhere (1/2 at x = 0; |x| and clamp have no useful derivative there)
    # and the unused branch never overflows into a NaN gradient
    negative = x < 0
    low = torch.where(negative, x, torch.zeros_like(x))
    high = torch.where(negative, torch.zeros_like(x), x)
    return torch.where(negative, low - torch.log1p(torch.exp(low)), 0.0 - torch.log1p(torch.exp(-high)))


# --- shared checks ---------------------------------------------------------------


def _check_ignore_index(ignore_index: int) -> int:
    return check_int(ignore_index, "ignore_index")


def _batched(input: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``input`` with a batch dimension (``(C,)`` becomes ``(1, C)``), and whether it had none."""
    if input.dim() == 0:
        raise ValueError("input must have shape (N, C, d1, ...) or (C,), got a 0-dimensional tensor")
    return (input.unsqueeze(0), True) if input.dim() == 1 else (input, False)


def _class_weight(weight: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """The class weights as a tensor of shape ``(C,)`` (ones when ``weight`` is None)."""
    n_classes = x.shape[1]
    if weight is None:
        return torch.ones(n_classes, dtype=x.dtype, device=x.device)
    check_floating(weight, "weight")
    check_shape(weight, "weight", (n_classes,), ", one weight per class")
    return weight


def _class_indices(target: torch.Tensor, x: torch.Tensor, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Check class indices against logits ``x`` of shape ``(N, C, d1, ...)``.

    Returns the indices with ignored positions replaced by 0 (safe to ``gather``)
    and the mask of the positions that count.
    """
    target = check_index_dtype(target, "target")
    expected = (x.shape[0], *x.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"target must have shape {expected} for input of shape {tuple(x.shape)}, got {tuple(target.shape)}"
        )
    keep = target != ignore_index
    require_class_indices(target, "target", x.shape[1], ignore_index)
    return torch.where(keep, target, torch.zeros_like(target)), keep


def _pick(log_p: torch.Tensor, safe: torch.Tensor) -> torch.Tensor:
    """``log_p[n, target[n, ...], ...]``: the log-probability of each position's target class."""
    return log_p.gather(1, safe.unsqueeze(1)).squeeze(1)


def _finish(loss: torch.Tensor, divisor: torch.Tensor | int, reduction: str, unbatched: bool) -> torch.Tensor:
    """'sum' adds, 'mean' divides the sum by ``divisor``, 'none' returns per-position losses."""
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / divisor
    return loss[0] if unbatched else loss


# --- the losses ------------------------------------------------------------------


def nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of the target class, from log-probabilities.

    For position :math:`n` with target class :math:`y_n` and class weights :math:`w`,

    .. math::

        \ell_n = -\,w_{y_n}\, x_{n, y_n}, \qquad
        \text{'mean'} = \frac{\sum_n \ell_n}{\sum_{n \text{ kept}} w_{y_n}},

    where the kept positions are those whose target is not ``ignore_index``;
    the others give :math:`\ell_n = 0` and count neither in the sum nor in the
    divisor. ``'mean'`` is a *weighted* mean: it
    divides by the summed weights of the kept targets, not by the number of
    positions; with every position ignored (or every kept weight 0) that is
    :math:`0 / 0` = NaN, as in torch. ``'sum'`` adds the :math:`\ell_n`;
    ``'none'`` returns them with the target's shape.

    The function only picks and negates entries of ``input``: it is the cross
    entropy only when ``input`` holds log-probabilities (for example
    :func:`log_softmax` of logits).

    Parameters
    ----------
    input:
        Log-probabilities of shape ``(N, C)``, ``(N, C, d1, ..., dK)`` or ``(C,)``.
    target:
        Class indices in ``[0, C)`` (or ``ignore_index``), integer tensor of shape
        ``(N,)``, ``(N, d1, ..., dK)`` or ``()``. (Torch asks for int64 or uint8;
        this reference takes any integer dtype.)
    weight:
        One weight per class, shape ``(C,)``; ``None`` weights every class by 1.
    ignore_index:
        A target value that is skipped.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]])  # not log-probabilities: just picked
    >>> t = torch.tensor([0, 1, 1])
    >>> nll_loss(x, t, reduction="none")
    tensor([-1., -3., -3.])
    >>> nll_loss(x, t, weight=torch.tensor([1.0, 2.0]))  # (-1 - 6 - 6) / (1 + 2 + 2)
    tensor(-2.6000)
    """
    reduction = check_reduction(reduction)
    ignore_index = _check_ignore_index(ignore_index)
    check_floating(input, "input")
    check_tensor(target, "target")
    x, unbatched = _batched(input)
    safe, keep = _class_indices(target.unsqueeze(0) if unbatched else target, x, ignore_index)
    w = _class_weight(weight, x)

    w_y = torch.where(keep, w[safe], torch.zeros((), dtype=w.dtype, device=w.device))
    loss = torch.where(keep, -w_y * _pick(x, safe), torch.zeros((), dtype=x.dtype, device=x.device))
    return _finish(loss, w_y.sum(), reduction, unbatched)


def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Softmax cross entropy from logits, for class-index or probability targets.

    With :math:`\log p_{n,c} = x_{n,c} - \log\sum_k e^{x_{n,k}}` (:func:`log_softmax`
    over dimension 1), :math:`C` classes, class weights :math:`w` and label
    smoothing :math:`\varepsilon`:

    *Class-index targets* (integer ``target``):

    .. math::

        \ell_n = (1 - \varepsilon)\,\bigl(-w_{y_n} \log p_{n, y_n}\bigr)
                 + \frac{\varepsilon}{C} \sum_{c} \bigl(-w_c \log p_{n,c}\bigr),
        \qquad
        \text{'mean'} = \frac{\sum_n \ell_n}{\sum_{n \text{ kept}} w_{y_n}}.

    Positions whose target is ``ignore_index`` give 0 and leave the divisor. The divisor is the summed
    weight of the kept *targets*, also for the smoothing term; NaN when nothing
    is kept, as in torch.

    *Probability targets* (floating ``target`` of the input's shape), smoothed
    to :math:`q_{n,c} = (1 - \varepsilon)\, t_{n,c} + \varepsilon / C`:

    .. math::

        \ell_n = -\sum_c w_c\, q_{n,c} \log p_{n,c},
        \qquad
        \text{'mean'} = \frac{1}{N'} \sum_n \ell_n,

    where :math:`N'` is the number of positions (``N * d1 * ... * dK``): here the
    weights do **not** enter the divisor. ``ignore_index`` does not apply to
    probability targets (torch raises an error when one is given; so does this
    function).

    ``'sum'`` adds the :math:`\ell_n`; ``'none'`` returns them with shape
    ``(N, d1, ..., dK)`` (``()`` for an unbatched input).

    Parameters
    ----------
    input:
        Logits of shape ``(N, C)``, ``(N, C, d1, ..., dK)`` or ``(C,)``.
    target:
        Class indices (integer, shape ``(N, d1, ..., dK)``) or class probabilities
        (floating, the shape of ``input``).
    weight:
        One weight per class, shape ``(C,)``.
    ignore_index:
        A class-index target value that is skipped.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    label_smoothing:
        :math:`\varepsilon \in [0, 1]`.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]])
    >>> t = torch.tensor([0, 1, 1])
    >>> cross_entropy(x, t, reduction="none")
    tensor([1.3133, 0.1269, 0.1269])
    >>> cross_entropy(x, t, weight=torch.tensor([1.0, 2.0]))  # (1.3133 + 2 * 0.1269 * 2) / 5
    tensor(0.3642)
    """
    reduction = check_reduction(reduction)
    ignore_index = _check_ignore_index(ignore_index)
    eps = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    check_floating(input, "input")
    check_tensor(target, "target")
    x, unbatched = _batched(input)
    n_classes = x.shape[1]
    w = _class_weight(weight, x)
    w_c = w.view(1, n_classes, *([1] * (x.dim() - 2)))  # broadcasts over (N, C, d1, ...)
    log_p = log_softmax(x, dim=1)

    if target.is_floating_point():
        if ignore_index != -100:
            raise ValueError("ignore_index applies to class-index targets only, not to probability targets")
        check_same_shape(input, target)
        t = target.unsqueeze(0) if unbatched else target
        q = (1 - eps) * t + eps / n_classes
        loss = -(w_c * q * log_p).sum(dim=1)
        return _finish(loss, loss.numel(), reduction, unbatched)

    safe, keep = _class_indices(target.unsqueeze(0) if unbatched else target, x, ignore_index)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    w_y = torch.where(keep, w[safe], zero)
    picked = -w_y * _pick(log_p, safe)  # the weighted NLL of the target class
    picked = torch.where(keep, picked, zero)
    if eps == 0:  # no smoothing term: a class of logit -inf (log p = -inf) must not give 0 * inf = NaN
        spread = torch.zeros_like(picked)
    else:
        spread = torch.where(keep, -(w_c * log_p).sum(dim=1), zero)  # the same for every class, summed
    if reduction == "mean":  # each term over the target weights: 0/0 = NaN when they sum to 0, as in torch
        total = w_y.sum()
        return (1 - eps) * (picked.sum() / total) + (eps / n_classes) * (spread.sum() / total)
    return _finish((1 - eps) * picked + (eps / n_classes) * spread, 1, reduction, unbatched)


def binary_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary cross entropy between probabilities ``input`` and targets in [0, 1].

    .. math::

        \ell_i = -\,w_i\,\bigl(y_i \max(\log x_i, -100)
                 + (1 - y_i) \max(\log(1 - x_i), -100)\bigr),
        \qquad
        \text{'mean'} = \frac{1}{M} \sum_i \ell_i,

    where :math:`M` is the number of elements of ``input``: the weights do **not**
    enter the divisor (unlike :func:`cross_entropy` with class weights). Torch
    clamps each log at -100, so a probability of exactly 0 or 1 on the wrong
    side costs 100 instead of infinity; this reference does the same.
    :math:`\log(1 - x)` is computed as ``log1p(-x)``, accurate for small
    :math:`x`.

    Parameters
    ----------
    input:
        Probabilities in [0, 1], any shape.
    target:
        Same shape as ``input``, values in [0, 1].
    weight:
        Weights that broadcast to the shape of ``input`` (for example one per
        column).
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Examples
    --------
    >>> p = torch.tensor([0.9, 0.2, 1.0])
    >>> binary_cross_entropy(p, torch.tensor([1.0, 0.0, 0.0]), reduction="none")
    tensor([  0.1054,   0.2231, 100.0000])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    require_probabilities(input, "input")
    require_probabilities(target, "target")
    log_p = torch.clamp(torch.log(input), min=LOG_CLAMP)
    log_q = torch.clamp(torch.log1p(-input), min=LOG_CLAMP)  # log(1 - p)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        check_floating(weight, "weight")
        check_broadcasts(weight, "weight", input.shape, "input")
        loss = weight * loss
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Binary cross entropy from logits, with an optional weight of the positive class.

    .. math::

        \ell_{i} = -\,w_i\,\bigl(p_c\, y_i \log \sigma(x_i) + (1 - y_i) \log \sigma(-x_i)\bigr),
        \qquad
        \text{'mean'} = \frac{1}{M} \sum_i \ell_i,

    with :math:`\log\sigma` from :func:`log_sigmoid` (never :math:`\log` of a
    rounded sigmoid), :math:`p_c` the ``pos_weight`` of the element's class
    :math:`c` (the last dimension) and :math:`M` the number of elements; neither
    weight enters the divisor. ``pos_weight`` > 1 raises the cost of missed
    positives (a class with 100 positives and 300 negatives might use 3).

    Parameters
    ----------
    input:
        Logits, any shape; in multi-label problems ``(N, C)``.
    target:
        Same shape as ``input``, values in [0, 1].
    weight:
        Weights that broadcast to the shape of ``input``.
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.
    pos_weight:
        Weights of the positive term that broadcast to the shape of ``input``,
        usually one per class: shape ``(C,)``, matching the last dimension.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 2.0]])
    >>> y = torch.tensor([[1.0, 0.0]])
    >>> binary_cross_entropy_with_logits(x, y, reduction="none")
    tensor([[0.3133, 2.1269]])
    >>> binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=torch.tensor([3.0, 3.0]))
    tensor([[0.9398, 2.1269]])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    check_floating(target, "target")
    check_same_shape(input, target)
    positive = -target * log_sigmoid(input)
    if pos_weight is not None:
        check_floating(pos_weight, "pos_weight")
        check_broadcasts(pos_weight, "pos_weight", input.shape, "input")
        positive = pos_weight * positive
    loss = positive - (1 - target) * log_sigmoid(-input)
    if weight is not None:
        check_floating(weight, "weight")
        check_broadcasts(weight, "weight", input.shape, "input")
        loss = weight * loss
    return reduce(loss, reduction)
