r"""Focal loss (Lin et al., 2017): cross entropy that turns down the loss of easy examples.

For a binary label :math:`y \in \{0, 1\}` and the predicted probability
:math:`p = \sigma(x)` of the positive class, write :math:`p_t = p` when
:math:`y = 1` and :math:`p_t = 1 - p` when :math:`y = 0`. The focal loss is

.. math::

    \mathrm{FL} = -\alpha_t \, (1 - p_t)^{\gamma} \, \log p_t,
    \qquad \alpha_t = \alpha y + (1 - \alpha)(1 - y).

:math:`(1 - p_t)^\gamma` is the *modulating factor*: close to 0 for examples the
model already gets right with confidence, close to 1 for the ones it gets
wrong. :math:`\gamma = 0` gives (weighted) binary cross entropy back.

Everything is computed from logits in log space:

* :math:`\log p = \log\sigma(x)` and :math:`\log(1 - p) = \log\sigma(-x)`
  (``F.logsigmoid``), never ``log(sigmoid(x))`` or ``1 - sigmoid(x)``;
* the modulating factor is :math:`\exp(\gamma \log(1 - p_t))` with
  :math:`\log(1 - p_t) = \log\sigma(\mp x)`, so it is exact where :math:`1 - p_t`
  is far below the float's resolution near 1, and its gradient stays finite for
  :math:`0 < \gamma < 1`, where :math:`\frac{d}{du}u^\gamma` is infinite at
  :math:`u = 0`: a naive ``(1 - p_t) ** gamma`` rounds :math:`1 - p_t` to 0
  at logits of about 17 (float32) and its gradient is then NaN.

Three functions and two modules:

* :func:`sigmoid_focal_loss` / :class:`FocalLoss`: binary and multi-label, from logits;
* :func:`softmax_focal_loss` / :class:`SoftmaxFocalLoss`: multi-class, from logits and class indices;
* :func:`binary_focal_loss_from_probs`: the same binary loss from probabilities, as the
  source articles write it; less accurate, kept for comparison.

Half-precision inputs (float16, bfloat16) are computed in float32 and the loss
is returned in the input's dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_floating, check_reduction, check_same_shape, reduce
from ._common import check_alpha, check_class_targets, check_gamma, check_number, compute_dtype, reduce_class_loss

__all__ = [
    "FocalLoss",
    "SoftmaxFocalLoss",
    "binary_focal_loss_from_probs",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
]


def _check_binary(input: torch.Tensor, target: torch.Tensor, input_name: str = "input") -> None:
    check_floating(input, input_name)
    check_floating(target, "target")
    check_same_shape(input, target, input_name, "target")
    if target.numel() and not bool(((target >= 0) & (target <= 1)).all()):
        raise ValueError("target must hold values in [0, 1] (probabilities of the positive class)")


def _power(log_base: torch.Tensor, usable: torch.Tensor, gamma: float) -> torch.Tensor:
    """``base ** gamma`` as ``exp(gamma * log_base)`` where ``usable``, 0 elsewhere (where ``base`` is 0).

    Both branches of the ``where`` are finite, so no NaN reaches the gradient;
    at ``base == 0`` the gradient is taken as 0 (for gamma < 1 the true
    derivative there is infinite).
    """
    safe_log = torch.where(usable, log_base, torch.zeros_like(log_base))
    return torch.where(usable, torch.exp(gamma * safe_log), torch.zeros_like(log_base))


def _binary_modulator(y: torch.Tensor, log_p: torch.Tensor, log_q: torch.Tensor, gamma: float) -> torch.Tensor:
    """:math:`|y - p|^\\gamma` from ``log_p = log p`` and ``log_q = log(1 - p)``."""
    hard = (y == 0) | (y == 1)
    # hard labels: |y - p| is 1 - p (y = 1) or p (y = 0), whose logs we already have
    log_hard = torch.where(y == 1, log_q, log_p)
    if bool(hard.all()):  # the usual case; log-sigmoids are finite for finite logits
        return torch.exp(gamma * log_hard)
    # soft labels: y - p = y (1 - p) - (1 - y) p, with 1 - p taken from log(1 - p)
    diff = y * torch.exp(log_q) - (1 - y) * torch.exp(log_p)
    nonzero = diff != 0
    log_soft = torch.log(torch.where(nonzero, diff.abs(), torch.ones_like(diff)))
    log_base = torch.where(hard, log_hard, log_soft)
    return _power(log_base, hard | nonzero, gamma)


def sigmoid_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary (or multi-label) focal loss from logits.

    With :math:`\log p = \log\sigma(x)` and :math:`\log(1-p) = \log\sigma(-x)`,

    .. math::

        \ell = \alpha_t \, |y - p|^{\gamma} \,
               \bigl(-y \log p - (1 - y) \log(1 - p)\bigr),
        \qquad \alpha_t = \alpha y + (1 - \alpha)(1 - y).

    For a hard label :math:`|y - p| = 1 - p_t`, which is the focal loss of Lin et
    al. (and of ``torchvision.ops.sigmoid_focal_loss``). For a soft label
    :math:`y \in (0, 1)` this function uses :math:`|y - p|` (as the quality focal
    loss of Li et al., 2020, does), which is 0 at :math:`p = y`, so the loss is
    still minimized by predicting :math:`p = y`; torchvision and Keras use
    :math:`1 - p_t = y(1-p) + (1-y)p` there, which is not 0 at :math:`p = y` and
    pulls predictions toward 0 or 1. With :math:`\gamma = 0` the factor is 1
    (also at :math:`p = y`) and the loss is the :math:`\alpha_t`-weighted binary
    cross entropy with logits.

    Parameters
    ----------
    input:
        Logits, any shape, floating point.
    target:
        Same shape as ``input``, values in [0, 1].
    alpha:
        Weight of the positive class in [0, 1] (the negative class gets
        ``1 - alpha``); ``None`` weights both classes by 1. Lin et al. use 0.25.
    gamma:
        Focusing parameter, a number >= 0 (Lin et al. use 2).
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns
    -------
    torch.Tensor
        The loss, in the dtype of ``input``.

    Examples
    --------
    >>> x = torch.tensor([2.0, -1.0, 0.0])
    >>> y = torch.tensor([1.0, 1.0, 0.0])
    >>> sigmoid_focal_loss(x, y, alpha=None, gamma=2.0, reduction="none")
    tensor([0.0018, 0.7019, 0.1733])
    >>> sigmoid_focal_loss(x, y, alpha=None, gamma=0.0, reduction="none")  # BCE with logits
    tensor([0.1269, 1.3133, 0.6931])
    """
    reduction = check_reduction(reduction)
    alpha = check_alpha(alpha)
    gamma = check_gamma(gamma)
    _check_binary(input, target)

    dtype = compute_dtype(input.dtype)
    x, y = input.to(dtype), target.to(dtype)
    log_p, log_q = F.logsigmoid(x), F.logsigmoid(-x)
    loss = -(y * log_p + (1 - y) * log_q)
    if gamma != 0:
        loss = _binary_modulator(y, log_p, log_q, gamma) * loss
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return reduce(loss, reduction).to(input.dtype)


def binary_focal_loss_from_probs(
    probs: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    eps: float = 1e-7,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""The binary focal loss from probabilities :math:`p` (after a sigmoid), as the sources write it.

    .. math::

        \ell = \alpha_t \, |y - \hat p|^{\gamma} \,
               \bigl(-y \log \hat p - (1 - y) \log(1 - \hat p)\bigr),
        \qquad \hat p = \min(\max(p, \varepsilon), 1 - \varepsilon).

    The same loss as :func:`sigmoid_focal_loss` of the logit of ``probs``, but
    less accurate: once a sigmoid has produced ``probs``, every probability
    within about ``6e-8`` of 1 (float32; logits above about 17) is already
    rounded to 1, and the clamp then holds the loss at a floor instead of
    letting it fall toward 0, with zero gradient. Prefer
    :func:`sigmoid_focal_loss` for training.

    Parameters
    ----------
    probs:
        Probabilities of the positive class, any shape.
    target:
        Same shape, values in [0, 1].
    alpha, gamma, reduction:
        As in :func:`sigmoid_focal_loss`.
    eps:
        Clamp for ``probs``, in (0, 0.5); it keeps :math:`\log` finite.

    Examples
    --------
    >>> p = torch.tensor([0.9, 0.1, 0.5, 0.5])     # two easy and two hard examples
    >>> y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    >>> binary_focal_loss_from_probs(p, y, alpha=0.75, reduction="none")
    tensor([0.0008, 0.0003, 0.1300, 0.0433])
    """
    reduction = check_reduction(reduction)
    alpha = check_alpha(alpha)
    gamma = check_gamma(gamma)
    eps = check_number(eps, "eps", low=0.0, high=0.5)
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps}")
    _check_binary(probs, target, "probs")
    if probs.numel() and not bool(((probs >= 0) & (probs <= 1)).all()):
        raise ValueError("probs must hold probabilities in [0, 1]; pass logits to sigmoid_focal_loss instead")

    dtype = compute_dtype(probs.dtype)
    p = probs.to(dtype).clamp(eps, 1 - eps)
    y = target.to(dtype)
    loss = -(y * torch.log(p) + (1 - y) * torch.log1p(-p))
    if gamma != 0:
        diff = y - p
        nonzero = diff != 0
        log_base = torch.log(torch.where(nonzero, diff.abs(), torch.ones_like(diff)))
        loss = _power(log_base, nonzero, gamma) * loss
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return reduce(loss, reduction).to(probs.dtype)


def _check_class_alpha(alpha: float | torch.Tensor | None, n_classes: int | None) -> float | torch.Tensor | None:
    if alpha is None:
        return None
    if isinstance(alpha, torch.Tensor):
        if not alpha.is_floating_point():
            raise TypeError(
                f"alpha must be a float, or a floating-point tensor of class weights, got dtype {alpha.dtype}"
            )
        if alpha.dim() != 1 or (n_classes is not None and alpha.shape[0] != n_classes):
            want = f"({n_classes},)" if n_classes is not None else "(C,)"
            raise ValueError(
                f"alpha must be a 1-D tensor of shape {want}, one weight per class, got {tuple(alpha.shape)}"
            )
        if alpha.numel() and not bool((torch.isfinite(alpha) & (alpha >= 0)).all()):
            raise ValueError("alpha must hold finite class weights >= 0")
        return alpha
    return check_alpha(alpha)


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | torch.Tensor | None = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-class focal loss from logits and class indices.

    .. math::

        \ell = -\alpha_t \, (1 - p_t)^{\gamma} \log p_t

    for the probability :math:`p_t` of the target class :math:`t`. Writing
    :math:`z = x_t - \operatorname{logsumexp}_{k \ne t} x_k` (the log-odds of the
    target class against all the others together), :math:`p_t = \sigma(z)`, so

    .. math::

        \log p_t = \log\sigma(z), \qquad \log(1 - p_t) = \log\sigma(-z),

    the same log-space computation as :func:`sigmoid_focal_loss` with label 1.
    :math:`1 - p_t`, the total probability of the *other* classes, is thus never
    formed as ``1 - p_t``: both terms keep their relative accuracy when
    :math:`p_t` rounds to 1 (where ``x_t - logsumexp(x)`` would be 0), and the
    gradient stays finite for :math:`0 < \gamma < 1`. This costs one temporary
    copy of the logits (the target entries masked), the size of the input; no
    one-hot matrix is built. With two classes it is exactly
    :func:`sigmoid_focal_loss` of :math:`x_1 - x_0`.

    ``alpha`` is ``None`` (weight 1), a number in [0, 1] that scales every term,
    or a tensor of ``C`` class weights :math:`\alpha_c \ge 0`, of which each
    position takes :math:`\alpha_t`. ``'mean'`` divides the sum by the number of
    positions whose target is not ``ignore_index``, also with class weights
    (``nn.CrossEntropyLoss(weight=...)`` divides by the sum of the weights
    instead); with every position ignored it is NaN, as in torch.

    Parameters
    ----------
    input:
        Logits of shape ``(N, C)``, ``(N, C, d_1, ..., d_K)`` or ``(C,)``.
    target:
        Class indices in ``[0, C)`` of shape ``(N,)``, ``(N, d_1, ..., d_K)`` or ``()``;
        positions equal to ``ignore_index`` contribute 0.
    alpha, gamma, ignore_index, reduction:
        As described above; ``gamma >= 0``.

    Examples
    --------
    >>> x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    >>> t = torch.tensor([0, 1])
    >>> softmax_focal_loss(x, t, gamma=0.0, reduction="none")  # cross entropy
    tensor([0.2395, 2.1698])
    >>> softmax_focal_loss(x, t, gamma=2.0, reduction="none")
    tensor([0.0109, 1.7026])
    """
    reduction = check_reduction(reduction)
    gamma = check_gamma(gamma)
    alpha = _check_class_alpha(alpha, None)
    logits, t, keep, unbatched = check_class_targets(input, target, ignore_index)
    alpha = _check_class_alpha(alpha, logits.shape[1])

    dtype = compute_dtype(input.dtype)
    x = logits.to(dtype)
    idx = t.unsqueeze(1)
    others = torch.logsumexp(x.scatter(1, idx, float("-inf")), dim=1)  # log of the other classes' mass, unnormalized
    z = x.gather(1, idx).squeeze(1) - others                          # p_t = sigmoid(z)
    loss = -F.logsigmoid(z)
    if gamma != 0:
        loss = torch.exp(gamma * F.logsigmoid(-z)) * loss
    if isinstance(alpha, torch.Tensor):
        loss = alpha.to(device=x.device, dtype=dtype)[t] * loss
    elif alpha is not None:
        loss = alpha * loss
    return reduce_class_loss(loss, keep, reduction, unbatched).to(input.dtype)


class FocalLoss(nn.Module):
    r"""Module form of :func:`sigmoid_focal_loss` (binary / multi-label focal loss from logits).

    Examples
    --------
    >>> loss_fn = FocalLoss(alpha=0.25, gamma=2.0)
    >>> loss_fn(torch.tensor([3.0, -3.0]), torch.tensor([1.0, 1.0]))
    tensor(0.3458)
    """

    def __init__(self, alpha: float | None = 0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__()
        self.alpha = check_alpha(alpha)
        self.gamma = check_gamma(gamma)
        self.reduction = check_reduction(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sigmoid_focal_loss(input, target, self.alpha, self.gamma, self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


class SoftmaxFocalLoss(nn.Module):
    r"""Module form of :func:`softmax_focal_loss`; a tensor ``alpha`` is kept as a buffer (it follows ``.to()``).

    Examples
    --------
    >>> loss_fn = SoftmaxFocalLoss(gamma=2.0)
    >>> loss_fn(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0]))
    tensor(0.0109)
    """

    alpha: torch.Tensor | None

    def __init__(
        self,
        alpha: float | torch.Tensor | None = None,
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        alpha = _check_class_alpha(alpha, None)
        if isinstance(alpha, torch.Tensor):
            self.register_buffer("alpha", alpha.detach().clone())
        else:
            self.alpha = alpha  # type: ignore[assignment]
        self.gamma = check_gamma(gamma)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
        self.ignore_index = ignore_index
        self.reduction = check_reduction(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(input, target, self.alpha, self.gamma, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        alpha = "tensor" if isinstance(self.alpha, torch.Tensor) else self.alpha
        return f"alpha={alpha}, gamma={self.gamma}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"
