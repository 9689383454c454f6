"""By-hand references of the margin losses of ``torch.nn``.

Ranking, two-class and multi-label losses that ask a score to beat another score
by a *margin*:

* :func:`margin_ranking_loss` (``nn.MarginRankingLoss``): rank ``x1`` above or below ``x2``;
* :func:`hinge_embedding_loss` (``nn.HingeEmbeddingLoss``): small distances for similar
  pairs, distances of at least ``margin`` for dissimilar ones;
* :func:`soft_margin_loss` (``nn.SoftMarginLoss``): the logistic loss for labels in ``{-1, 1}``;
* :func:`multilabel_soft_margin_loss` (``nn.MultiLabelSoftMarginLoss``): one logistic
  loss per class, averaged over the classes;
* :func:`multilabel_margin_loss` (``nn.MultiLabelMarginLoss``): every target class must
  beat every non-target class by 1;
* :func:`multi_margin_loss` (``nn.MultiMarginLoss``): the multi-class hinge loss.

Each function has the name, parameters and defaults of its ``torch.nn.functional``
counterpart, without the deprecated ``size_average`` and ``reduce``; ``reduction``
is keyword-only so that a call written for torch's positional order cannot pass a
deprecated flag as the reduction by mistake. No torch loss function is called.
"""

from __future__ import annotations

import torch

from .._checks import (
    check_floating,
    check_index_dtype,
    check_int,
    check_ndim,
    check_number,
    check_reduction,
    check_same_shape,
    check_shape,
    check_sign_target,
    reduce,
    require_class_indices,
)
from .classification import log_sigmoid

__all__ = [
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
]


def margin_ranking_loss(
    input1: torch.Tensor,
    input2: torch.Tensor,
    target: torch.Tensor,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Ranking loss for a pair of scores: ``target = 1`` wants ``input1`` ranked higher.

    .. math::

        \ell_n = \max\bigl(0,\; -y_n\,(x_{1,n} - x_{2,n}) + \text{margin}\bigr),
        \qquad y_n \in \{1, -1\}.

    ``'mean'`` divides the sum of the :math:`\ell_n` by the number of elements,
    ``'sum'`` adds them, ``'none'`` returns them with the inputs' shape.

    Parameters
    ----------
    input1, input2:
        Scores, floating tensors of the same shape.
    target:
        ``1`` or ``-1`` per element, same shape as the scores (torch broadcasts
        tensors of the same number of dimensions; this reference asks for equal
        shapes, so that a ``(3, 1)`` score against a ``(3,)`` target cannot turn
        into a silent ``(3, 3)`` matrix).
    margin:
        How far the preferred score must lead before the loss is zero.
    reduction:
        ``'none'``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> x1, x2 = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 2.0])
    >>> margin_ranking_loss(x1, x2, torch.tensor([1.0, 1.0, -1.0]), reduction="none")
    tensor([1., 0., 1.])
    """
    reduction = check_reduction(reduction)
    check_floating(input1, "input1")
    check_floating(input2, "input2")
    margin = check_number(margin, "margin")
    target = check_sign_target(target, "target", input1)
    check_same_shape(input1, input2, "input1", "input2")
    check_same_shape(input1, target, "input1", "target")
    loss = torch.clamp(-target * (input1 - input2) + margin, min=0)
    return reduce(loss, reduction)


def hinge_embedding_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    margin: float = 1.0,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Hinge loss on a distance: pull similar pairs together, push dissimilar ones past ``margin``.

    ``input`` is usually a distance between two embeddings (for example an L1
    distance) and ``target`` says whether the pair is similar (``1``) or not (``-1``):

    .. math::

        \ell_n = \begin{cases}
            x_n, & y_n = 1,\\
            \max(0,\; \text{margin} - x_n), & y_n = -1.
        \end{cases}

    Like torch, a target that is neither ``1`` nor ``-1`` gets both terms
    (:math:`x_n + \max(0, \text{margin} - x_n)`). ``'mean'`` divides by the number
    of elements.

    Examples
    --------
    >>> hinge_embedding_loss(torch.tensor([1.0, 0.8, 0.5]), torch.tensor([1, 1, -1]), reduction="none")
    tensor([1.0000, 0.8000, 0.5000])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    margin = check_number(margin, "margin")
    target = check_sign_target(target, "target", input)
    check_same_shape(input, target)
    pull = torch.where(target != -1, input, torch.zeros_like(input))
    push = torch.where(target != 1, torch.clamp(margin - input, min=0), torch.zeros_like(input))
    return reduce(pull + push, reduction)


def soft_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Logistic loss for labels in ``{-1, 1}``, element by element.

    .. math::

        \ell_i = \log\bigl(1 + e^{-y_i x_i}\bigr) = \max(0, z_i) + \log\bigl(1 + e^{-\lvert z_i\rvert}\bigr),
        \qquad z_i = -y_i x_i .

    ``'mean'`` divides the sum by the number of elements (every element of
    every sample counts once). The second form keeps the loss finite where
    torch's ``log1p(exp(z))`` overflows (``z`` above about 88 in float32, 709 in
    float64) and equals it everywhere else.

    Examples
    --------
    >>> soft_margin_loss(torch.tensor([0.3, 0.7]), torch.tensor([-1.0, 1.0]), reduction="none")
    tensor([0.8544, 0.4032])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    target = check_sign_target(target, "target", input)
    check_same_shape(input, target)
    z = -target * input
    loss = -log_sigmoid(-z)  # log(1 + e^z) = max(0, z) + log(1 + e^{-|z|}), never overflows
    return reduce(loss, reduction)


def multilabel_soft_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-label one-versus-all logistic loss, averaged over the ``C`` classes.

    For a sample with scores :math:`x \in \mathbb{R}^C` and 0/1 labels :math:`y`:

    .. math::

        \ell_n = -\frac{1}{C} \sum_{c=1}^{C} w_c \Bigl[ y_c \log\sigma(x_c)
                 + (1 - y_c) \log\sigma(-x_c) \Bigr].

    Each sample's loss is already divided by ``C``; ``'mean'`` then divides the
    sum over samples by the number of samples ``N``, ``'sum'`` adds them.

    Parameters
    ----------
    input:
        Scores (logits), shape ``(N, C)`` (or ``(C,)``).
    target:
        Labels, 0 or 1 (soft labels in between are allowed), same shape.
    weight:
        Optional per-class weight of shape ``(C,)``.

    Examples
    --------
    >>> x, y = torch.tensor([[0.3, 0.7, 0.8]]), torch.tensor([[0.0, 1.0, 1.0]])
    >>> multilabel_soft_margin_loss(x, y, reduction="none")
    tensor([0.5429])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    target = check_sign_target(target, "target", input, allow_bool=True)  # 0/1 labels, as input's dtype
    check_same_shape(input, target)
    check_ndim(input, "input", (1, 2), "(C,) or (N, C)")
    logsigmoid = torch.nn.functional.logsigmoid
    per_class = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        check_floating(weight, "weight")
        check_shape(weight, "weight", tuple(input.shape[-1:]), ", one weight per class")
        per_class = per_class * weight
    loss = per_class.sum(dim=-1) / max(input.shape[-1], 1)
    return reduce(loss, reduction)


def multilabel_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-label hinge loss: every target class must beat every other class by 1.

    ``target`` lists the target classes of a sample as indices, padded with ``-1``
    (only the indices before the first ``-1`` count). With :math:`J` the listed
    targets and :math:`\bar J` the classes not listed,

    .. math::

        \ell_n = \frac{1}{C} \sum_{j \in J} \sum_{i \in \bar J}
                 \max\bigl(0,\; 1 - (x_{j} - x_{i})\bigr).

    A class listed twice is counted twice, like in torch. Each sample's loss is
    divided by the number of classes ``C``; ``'mean'`` then divides by ``N``.

    Parameters
    ----------
    input:
        Scores, shape ``(N, C)`` or ``(C,)``.
    target:
        Integer class indices in ``[-1, C)``, same shape as ``input``.

    Examples
    --------
    >>> x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> multilabel_margin_loss(x, torch.tensor([[0, 3, -1, -1]]), reduction="none")
    tensor([0.8500])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    target = check_index_dtype(target, "target")
    check_same_shape(input, target)
    check_ndim(input, "input", (1, 2), "(C,) or (N, C)")
    n_classes = input.shape[-1]
    require_class_indices(target, "target", n_classes, ignore_index=-1)  # -1 is the padding
    x = input.reshape(-1, n_classes)  # (N, C)
    y = target.reshape(-1, n_classes)
    listed = torch.cumprod((y != -1).long(), dim=1).bool()  # positions before the first -1
    index = torch.where(listed, y, torch.zeros_like(y))  # -1 padding -> a harmless 0
    # class c is a target of sample n if it is listed at some valid position
    is_target = ((index[:, :, None] == torch.arange(n_classes, device=x.device)) & listed[:, :, None]).any(dim=1)
    x_target = x.gather(1, index)  # x_j for each listed position
    hinge = torch.clamp(1 - (x_target[:, :, None] - x[:, None, :]), min=0)  # (N, positions, C)
    mask = listed[:, :, None] & ~is_target[:, None, :]
    loss = (hinge * mask).sum(dim=(1, 2)) / n_classes
    if input.dim() == 1:
        loss = loss[0]
    return reduce(loss, reduction)


def multi_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: torch.Tensor | None = None,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-class hinge loss: the target class must beat each other class by ``margin``.

    For a sample with scores :math:`x \in \mathbb{R}^C` and class :math:`y`:

    .. math::

        \ell_n = \frac{1}{C} \sum_{i \ne y} w_y \max\bigl(0,\; \text{margin} - x_y + x_i\bigr)^p,
        \qquad p \in \{1, 2\}.

    The class weight :math:`w_y` multiplies after the power. Each sample's loss
    is divided by ``C``; ``'mean'`` then divides by ``N`` (not by the weights).

    Examples
    --------
    >>> x = torch.tensor([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]])
    >>> multi_margin_loss(x, torch.tensor([1, 2]), reduction="none")
    tensor([0.8000, 0.7000])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    target = check_index_dtype(target, "target")
    p = check_int(p, "p", low=1, high=2)
    margin = check_number(margin, "margin")
    check_ndim(input, "input", (1, 2), "(C,) or (N, C)")
    check_shape(target, "target", tuple(input.shape[:-1]))
    n_classes = input.shape[-1]
    require_class_indices(target, "target", n_classes)
    x = input.reshape(-1, n_classes)
    y = target.reshape(-1, 1)
    x_y = x.gather(1, y)  # (N, 1)
    hinge = torch.clamp(margin - x_y + x, min=0) ** p  # (N, C)
    if weight is not None:
        check_floating(weight, "weight")
        check_shape(weight, "weight", (n_classes,), ", one weight per class")
        hinge = hinge * weight[y]
    not_target = torch.ones_like(hinge, dtype=torch.bool).scatter(1, y, False)
    loss = (hinge * not_target).sum(dim=1) / n_classes
    if input.dim() == 1:
        loss = loss[0]
    return reduce(loss, reduction)
