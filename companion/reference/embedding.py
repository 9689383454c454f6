"""By-hand references of the embedding (metric-learning) losses of ``torch.nn``.

* :func:`cosine_embedding_loss` (``nn.CosineEmbeddingLoss``): similar pairs should point
  the same way, dissimilar pairs should have a cosine below ``margin``;
* :func:`triplet_margin_loss` (``nn.TripletMarginLoss``): an anchor must be closer to a
  positive than to a negative, by ``margin``, in the p-norm distance;
* :func:`triplet_margin_with_distance_loss` (``nn.TripletMarginWithDistanceLoss``): the
  same with any distance function.

:func:`pairwise_distance` is the distance the triplet losses use by default, written out
(torch's ``F.pairwise_distance``). No torch loss function is called.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .._checks import (
    check_bool,
    check_callable,
    check_floating,
    check_number,
    check_reduction,
    check_same_shape,
    check_shape,
    check_sign_target,
    check_tensor,
    reduce,
)

__all__ = [
    "cosine_embedding_loss",
    "pairwise_distance",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

#: Added to each squared norm in :func:`cosine_embedding_loss`, as torch does.
COSINE_EPS = 1e-12


def pairwise_distance(x1: torch.Tensor, x2: torch.Tensor, p: float = 2.0, eps: float = 1e-6) -> torch.Tensor:
    r"""The p-norm distance between matching rows, over the last dimension.

    .. math::

        d(x_1, x_2) = \Bigl(\sum_k \lvert x_{1,k} - x_{2,k} + \varepsilon\rvert^p\Bigr)^{1/p}

    Like torch, ``eps`` is added to each difference (not to the norm), so the
    distance of a point to itself is :math:`\varepsilon D^{1/p}`, not 0, and
    the distance is not quite symmetric. ``p = inf`` takes the largest absolute
    difference.

    Examples
    --------
    >>> pairwise_distance(torch.tensor([[1.0]]), torch.tensor([[2.0]]), p=1, eps=0.0)
    tensor([1.])
    """
    check_floating(x1, "x1")
    check_floating(x2, "x2")
    p = check_number(p, "p", above=0.0, finite=False)  # inf: the maximum norm
    eps = check_number(eps, "eps", low=0.0)
    diff = torch.abs(x1 - x2 + eps)
    if math.isinf(p):
        return diff.amax(dim=-1)
    return (diff**p).sum(dim=-1) ** (1.0 / p)


def cosine_embedding_loss(
    input1: torch.Tensor,
    input2: torch.Tensor,
    target: torch.Tensor,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Cosine-similarity loss for pairs labelled similar (``1``) or dissimilar (``-1``).

    .. math::

        \cos_n = \frac{\sum_k x_{1,nk} x_{2,nk}}
                      {\sqrt{\bigl(\lVert x_{1,n}\rVert^2 + \epsilon\bigr)
                             \bigl(\lVert x_{2,n}\rVert^2 + \epsilon\bigr)}},
        \qquad
        \ell_n = \begin{cases}
            1 - \cos_n, & y_n = 1,\\
            \max(0,\; \cos_n - \text{margin}), & y_n = -1,
        \end{cases}

    with :math:`\epsilon = 10^{-12}` as in torch (other target values give 0).
    ``'mean'`` divides by the number of pairs ``N``.

    Parameters
    ----------
    input1, input2:
        Embeddings of shape ``(N, D)`` (or ``(D,)`` for one pair).
    target:
        Shape ``(N,)`` (or ``()``), values ``1`` or ``-1``.
    margin:
        Cosine below which a dissimilar pair costs nothing; in ``[-1, 1]``.

    Examples
    --------
    >>> x1 = torch.tensor([[0.3, 0.5, 0.7], [0.3, 0.5, 0.7]])
    >>> x2 = torch.tensor([[0.1, 0.3, 0.5], [0.1, 0.3, 0.5]])
    >>> cosine_embedding_loss(x1, x2, torch.tensor([1.0, -1.0]), reduction="none")
    tensor([0.0167, 0.9833])
    """
    reduction = check_reduction(reduction)
    check_floating(input1, "input1")
    check_floating(input2, "input2")
    margin = check_number(margin, "margin", low=-1.0, high=1.0)
    target = check_sign_target(target, "target", input1)
    check_same_shape(input1, input2, "input1", "input2")
    if target.dim() > 1 or input1.dim() != target.dim() + 1:
        raise ValueError(
            "expected target of shape (N,) with inputs (N, D), or target () with inputs (D,); got "
            f"target {tuple(target.shape)} and inputs {tuple(input1.shape)}"
        )
    check_shape(target, "target", tuple(input1.shape[:-1]))
    dot = (input1 * input2).sum(dim=-1)
    norms = torch.sqrt(((input1 * input1).sum(dim=-1) + COSINE_EPS) * ((input2 * input2).sum(dim=-1) + COSINE_EPS))
    cos = dot / norms
    zero = torch.zeros_like(cos)
    loss = torch.where(target == 1, 1 - cos, zero) + torch.where(target == -1, torch.clamp(cos - margin, min=0), zero)
    return reduce(loss, reduction)


def _check_triplet(
    anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float, swap: bool
) -> tuple[float, bool]:
    check_tensor(anchor, "anchor")
    check_tensor(positive, "positive")
    check_tensor(negative, "negative")
    check_same_shape(anchor, positive, "anchor", "positive")
    check_same_shape(anchor, negative, "anchor", "negative")
    return check_number(margin, "margin", above=0.0), check_bool(swap, "swap")


def triplet_margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Triplet loss: the anchor must be closer to the positive than to the negative by ``margin``.

    With :math:`d` the :func:`pairwise_distance` (p-norm, ``eps`` added to each difference),

    .. math::

        \ell_n = \max\bigl(0,\; d(a_n, p_n) - d(a_n, n_n) + \text{margin}\bigr).

    With ``swap=True`` the negative distance is :math:`\min\bigl(d(a_n, n_n), d(p_n, n_n)\bigr)`
    (the harder of the two, Balntas et al. 2016). ``'mean'`` divides by the number
    of triplets ``N``.

    Examples
    --------
    >>> a, pos, neg = torch.tensor([[1.0]]), torch.tensor([[2.0]]), torch.tensor([[0.5]])
    >>> triplet_margin_loss(a, pos, neg, margin=1.0, p=1)
    tensor(1.5000)
    """
    reduction = check_reduction(reduction)
    margin, swap = _check_triplet(anchor, positive, negative, margin, swap)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = torch.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    loss = torch.clamp(margin + d_pos - d_neg, min=0)
    return reduce(loss, reduction)


def triplet_margin_with_distance_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    *,
    distance_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Triplet loss with any distance function (default: :func:`pairwise_distance`, p = 2).

    .. math::

        \ell_n = \max\bigl(0,\; \delta(a_n, p_n) - \delta(a_n, n_n) + \text{margin}\bigr),

    with :math:`\delta(a_n, n_n)` replaced by :math:`\min(\delta(a_n, n_n), \delta(p_n, n_n))`
    when ``swap=True``. ``'mean'`` divides by the number of triplets. A popular
    choice of :math:`\delta` is the cosine distance :math:`1 - \cos(u, v)`.

    Examples
    --------
    >>> a, pos, neg = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 0.0]])
    >>> l1 = lambda u, v: (u - v).abs().sum(dim=-1)
    >>> triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1)
    tensor(0.)
    """
    reduction = check_reduction(reduction)
    if distance_function is not None:
        check_callable(distance_function, "distance_function")
    margin, swap = _check_triplet(anchor, positive, negative, margin, swap)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, distance(positive, negative))
    loss = torch.clamp(margin + d_pos - d_neg, min=0)
    return reduce(loss, reduction)
