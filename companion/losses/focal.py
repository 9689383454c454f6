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

from .._checks import (
    check_floating,
    check_reduction,
    check_same_device,
    check_same_shape,
    reduce,
    require,
    require_probabilities,
)
from ._common import (
    check_alpha,
    check_class_targets,
    check_gamma,
    check_ignore_index,
    check_number,
    compute_dtype,
    reduce_class_loss,
)
from ._fused import binary_focal, probs_focal, softmax_rows

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
    require_probabilities(target, "target", " (probabilities of the positive class)")


def _power(log_base: torch.Tensor, usable: torch.Tensor, gamma: float) -> torch.Tensor:
    """``base ** gamma`` as ``exp(gamma * log_base)`` where ``usable``, 0 elsewhere (where ``base`` is 0).

    Both branches of the ``where`` are finite, so no NaN reaches the gradient;
    at ``base == 0`` the gradient is taken as 0 (for gamma < 1 the true
    derivative there is infinite).
    """
    safe_log = torch.where(usable, log_base, torch.zeros_like(log_base))
    return torch.where(usable, torch.exp(gamma * safe_log), torch.zeros_like(log_base))


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
    cross entropy with logits. Hard and soft labels take the same code path, at the
    same cost.

    **Implementation.** One fused forward pass computes the loss and its closed-form
    gradient (see :func:`companion.losses._fused.binary_focal_terms` for the derivation)
    and keeps only that gradient for backward: 4 bytes per element in float32, 2 in
    bfloat16, beyond the inputs. It works under ``torch.compile(fullgraph=True)`` and
    ``torch.func`` (``grad``, ``vmap``, ``jacrev``), and second derivatives are exact.
    Half-precision inputs are computed in float32 and the loss and gradient are
    returned in the input's dtype.

    **Bad values.** A target outside [0, 1] (or NaN) raises ``ValueError`` on the
    CPU. On an accelerator the same check is a device-side assertion
    (``torch._assert_async``): no host-device synchronisation, and the failure shows
    at the next synchronisation as a device error. Under ``torch.compile`` it is traced
    into the graph and raises ``RuntimeError`` with the same message. Logits are not
    checked: NaN logits give a NaN loss, as in torch.

    **alpha, compared with other libraries.** Here ``alpha`` weights the positive
    class and ``1 - alpha`` the negative one, as in ``torchvision.ops.sigmoid_focal_loss``
    (where ``alpha=-1`` switches it off; here ``alpha=None``) and kornia's
    ``binary_focal_loss_with_logits`` (``alpha=None`` there too). Keras'
    ``BinaryFocalCrossentropy(alpha=0.25)`` applies ``alpha`` only with
    ``apply_class_balancing=True``; without it Keras' loss is this one with
    ``alpha=None``.

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

    return binary_focal(input, target, alpha, gamma, reduction)


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
    eps = check_number(eps, "eps", above=0.0, below=0.5)
    _check_binary(probs, target, "probs")
    require_probabilities(probs, "probs", "; pass logits to sigmoid_focal_loss instead")
    return probs_focal(probs, target, alpha, gamma, eps, reduction)


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
        require(lambda a: torch.isfinite(a) & (a >= 0), alpha, "alpha must hold finite class weights >= 0")
        return alpha
    return check_alpha(alpha)


def _class_weights(
    alpha: float | torch.Tensor | None, t: torch.Tensor, keep: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """Per-position weight: alpha_t (or the scalar alpha) where the target counts, 0 where it is ignored."""
    weight = keep.to(dtype)
    if isinstance(alpha, torch.Tensor):
        return alpha.to(device=t.device, dtype=dtype)[t] * weight
    if alpha is not None:
        return weight * alpha
    return weight


def _soft_focal(
    logits: torch.Tensor, probs: torch.Tensor, alpha: float | torch.Tensor | None, gamma: float
) -> torch.Tensor:
    r"""Per-position :math:`-\sum_k \alpha_k q_k (1 - p_k)^\gamma \log p_k` for class probabilities ``q``.

    Plain autograd (this path serves soft labels and label smoothing, not the fused kernel);
    :math:`1 - p_k = -\operatorname{expm1}(\log p_k)`, and a class with :math:`q_k = 0`
    contributes exactly 0 even where :math:`\log p_k = -\infty`.
    """
    dtype = compute_dtype(logits.dtype)
    log_p = torch.log_softmax(logits.to(dtype), dim=1)
    term = -log_p
    if gamma != 0:
        rest = -torch.expm1(log_p)
        usable = rest > 0
        term = _power(torch.log(torch.where(usable, rest, torch.ones_like(rest))), usable, gamma) * term
    q = probs.to(dtype)
    if isinstance(alpha, torch.Tensor):
        q = q * alpha.to(device=q.device, dtype=dtype).view(1, -1, *([1] * (q.dim() - 2)))
    elif alpha is not None:
        q = q * alpha
    counted = q != 0
    return torch.where(counted, q * torch.where(counted, term, torch.zeros_like(term)), torch.zeros_like(term)).sum(1)


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | torch.Tensor | None = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Multi-class focal loss from logits, with class-index or class-probability targets.

    .. math::

        \ell = -\alpha_t \, (1 - p_t)^{\gamma} \log p_t

    for the probability :math:`p_t` of the target class :math:`t`.
    :math:`1 - p_t`, the total probability of the *other* classes, is summed from
    their softmax entries, never formed as ``1 - p_t``, and
    :math:`\log p_t = \operatorname{log1p}(-(1 - p_t))` where :math:`p_t > 1/2`: both
    keep their relative accuracy when :math:`p_t` rounds to 1 (where
    ``x_t - logsumexp(x)`` would be 0), and the gradient stays finite for
    :math:`0 < \gamma < 1`. With two classes it is :func:`sigmoid_focal_loss` of
    :math:`x_1 - x_0`.

    **Implementation.** For class-index targets one fused forward pass computes the
    loss and its closed-form gradient :math:`w\,(\mathrm{softmax}(x) - e_t)` with
    :math:`w = \alpha_t (1-p_t)^\gamma \bigl(1 + \gamma\,p_t\,(-\log p_t)/(1-p_t)\bigr)`
    in one logits-sized buffer, which is all it keeps for backward (as
    ``F.cross_entropy`` keeps its log-softmax); see
    :func:`companion.losses._fused.softmax_row_terms`. It works under
    ``torch.compile(fullgraph=True)`` and ``torch.func``; second derivatives are exact.

    **Soft targets and label smoothing**, as ``F.cross_entropy`` takes them: a
    floating ``target`` of the same shape as ``input`` holds class probabilities
    :math:`q` (mixup, distillation), and the loss is
    :math:`-\sum_k \alpha_k q_k (1 - p_k)^\gamma \log p_k`; ``label_smoothing``
    :math:`\varepsilon` replaces a class index by
    :math:`q = (1 - \varepsilon)\,e_t + \varepsilon / C`. With ``gamma=0`` and no
    ``alpha`` both equal ``F.cross_entropy`` exactly. These paths use plain autograd.

    ``alpha`` is ``None`` (weight 1), a number in [0, 1] that scales every term,
    or a tensor of ``C`` class weights :math:`\alpha_c \ge 0`, of which each
    position takes :math:`\alpha_t`. ``'mean'`` divides the sum by the number of
    positions whose target is not ``ignore_index``, also with class weights
    (``nn.CrossEntropyLoss(weight=...)`` divides by the sum of the weights
    instead); with every position ignored it is NaN, as in torch.
    torchvision has no multi-class focal loss; kornia's ``focal_loss`` takes a
    scalar ``alpha`` that multiplies every class (as a number here) or a tensor of
    class weights (as a tensor here); Keras' ``CategoricalFocalCrossentropy(alpha=0.25)``
    multiplies every term by ``alpha``, as a number here does.

    **Bad values.** A class index outside ``[0, C)`` that is not ``ignore_index``,
    and a probability target outside [0, 1], raise ``ValueError`` on the CPU; on an
    accelerator and under ``torch.compile`` they are device-side assertions, as in
    :func:`sigmoid_focal_loss` (torch's own ``F.cross_entropy`` behaves the same way).

    Parameters
    ----------
    input:
        Logits of shape ``(N, C)``, ``(N, C, d_1, ..., d_K)`` or ``(C,)``.
    target:
        Class indices in ``[0, C)`` of shape ``(N,)``, ``(N, d_1, ..., d_K)`` or ``()``,
        positions equal to ``ignore_index`` contributing 0; or class probabilities of
        the shape of ``input``.
    alpha, gamma, ignore_index, reduction:
        As described above; ``gamma >= 0``.
    label_smoothing:
        :math:`\varepsilon` in [0, 1] (class-index targets only, as in torch).

    Examples
    --------
    >>> x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    >>> t = torch.tensor([0, 1])
    >>> softmax_focal_loss(x, t, gamma=0.0, reduction="none")  # cross entropy
    tensor([0.2395, 2.1698])
    >>> softmax_focal_loss(x, t, gamma=2.0, reduction="none")
    tensor([0.0109, 1.7026])
    >>> soft = torch.tensor([[0.8, 0.1, 0.1], [0.0, 0.5, 0.5]])
    >>> softmax_focal_loss(x, soft, gamma=2.0, reduction="none")
    tensor([0.3663, 0.8534])
    """
    reduction = check_reduction(reduction)
    gamma = check_gamma(gamma)
    label_smoothing = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    alpha = _check_class_alpha(alpha, None)
    if isinstance(target, torch.Tensor) and target.is_floating_point():
        return _soft_target_focal(input, target, alpha, gamma, reduction, label_smoothing)
    logits, t, keep, unbatched = check_class_targets(input, target, ignore_index)
    n_classes = logits.shape[1]
    alpha = _check_class_alpha(alpha, n_classes)
    dtype = compute_dtype(input.dtype)
    if label_smoothing > 0:
        probs = F.one_hot(t, n_classes).movedim(-1, 1).to(dtype) * (1 - label_smoothing) + label_smoothing / n_classes
        loss = _soft_focal(logits, probs, alpha, gamma)
    else:
        loss = softmax_rows(logits, t, _class_weights(alpha, t, keep, dtype), "focal", (gamma,))
    return reduce_class_loss(loss, keep, reduction, unbatched).to(input.dtype)


def _soft_target_focal(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | torch.Tensor | None,
    gamma: float,
    reduction: str,
    label_smoothing: float,
) -> torch.Tensor:
    check_floating(input, "input")
    if target.shape != input.shape:
        raise TypeError(
            f"target must hold integer class indices, or class probabilities of the shape of input "
            f"{tuple(input.shape)}; got dtype {target.dtype} and shape {tuple(target.shape)}"
        )
    if input.dim() == 0:
        raise ValueError("input must have shape (N, C, ...) or (C,), got a 0-dimensional tensor")
    check_same_device((input, "input"), (target, "target"))
    if label_smoothing > 0:
        raise ValueError("label_smoothing applies to class-index targets; smooth probability targets beforehand")
    unbatched = input.dim() == 1
    logits = input.unsqueeze(0) if unbatched else input
    probs = target.unsqueeze(0) if unbatched else target
    if logits.shape[1] < 2:
        raise ValueError(f"input must hold logits of at least 2 classes in dimension 1, got {logits.shape[1]}")
    alpha = _check_class_alpha(alpha, logits.shape[1])
    require_probabilities(probs, "target", " (class probabilities)")
    loss = _soft_focal(logits, probs, alpha, gamma)
    if unbatched:
        loss = loss[0]
    return reduce(loss, reduction).to(input.dtype)


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
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        alpha = _check_class_alpha(alpha, None)
        if isinstance(alpha, torch.Tensor):
            self.register_buffer("alpha", alpha.detach().clone())
        else:
            self.alpha = alpha  # type: ignore[assignment]
        self.gamma = check_gamma(gamma)
        self.ignore_index = check_ignore_index(ignore_index)
        self.reduction = check_reduction(reduction)
        self.label_smoothing = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(
            input, target, self.alpha, self.gamma, self.ignore_index, self.reduction, self.label_smoothing
        )

    def extra_repr(self) -> str:
        alpha = "tensor" if isinstance(self.alpha, torch.Tensor) else self.alpha
        smoothing = f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return (
            f"alpha={alpha}, gamma={self.gamma}, ignore_index={self.ignore_index}, "
            f"reduction={self.reduction!r}{smoothing}"
        )
