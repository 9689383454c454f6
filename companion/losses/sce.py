r"""Symmetric cross entropy (Wang et al., 2019): cross entropy plus its reverse, for noisy labels.

Cross entropy :math:`H(q, p) = -\sum_k q_k \log p_k` compares the label
distribution :math:`q` (one-hot) with the prediction :math:`p`. The *reverse*
cross entropy swaps them, :math:`H(p, q) = -\sum_k p_k \log q_k`, which needs
:math:`\log 0` for the classes a one-hot label rules out. Setting
:math:`\log 0 = A` (a negative constant) gives

.. math::

    \mathrm{RCE} = -\sum_{k \ne y} p_k \, A = -A \, (1 - p_y),

a bounded loss (at most :math:`-A`) that a few wrong labels cannot blow up.
Symmetric cross entropy is :math:`\alpha\,\mathrm{CE} + \beta\,\mathrm{RCE}`.

The official code of the paper clamps the one-hot label to :math:`[10^{-4}, 1]`
before taking its log, which is :math:`A = \ln 10^{-4} \approx -9.21`, the
default here. (:math:`-4` is the base-10 logarithm of :math:`10^{-4}`.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_reduction
from ._common import check_class_targets, check_ignore_index, check_number, compute_dtype, reduce_class_loss
from ._fused import softmax_rows

__all__ = ["SCELoss", "sce_loss"]

#: ``A`` of the paper's official code: the log of the clamp value 1e-4 of the one-hot label.
DEFAULT_A = math.log(1e-4)


def _check_weights(alpha: float, beta: float, A: float) -> tuple[float, float, float]:
    return (
        check_number(alpha, "alpha", low=0.0),
        check_number(beta, "beta", low=0.0),
        check_number(A, "A", high=0.0),
    )


def sce_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.1,
    beta: float = 1.0,
    A: float = DEFAULT_A,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Symmetric cross entropy from logits and class indices.

    .. math::

        \ell = \alpha \bigl(-\log p_y\bigr) + \beta \bigl(-A\,(1 - p_y)\bigr).

    :math:`1 - p_y` is summed from the other classes' softmax entries, and
    :math:`-\log p_y = -\operatorname{log1p}(-(1 - p_y))` where :math:`p_y > 1/2`, so
    both terms keep their relative accuracy when :math:`p_y` rounds to 1 (at logits
    ``[20, 0, -20]`` in float32 the loss is 2.06e-9, not 0). No one-hot or
    clamped-label matrix is built.

    **Implementation.** One fused forward pass computes the loss and its closed-form
    gradient :math:`(\alpha - \beta A\,p_y)\,(\mathrm{softmax}(x) - e_y)` in one
    logits-sized buffer, all that is kept for backward (see
    :func:`companion.losses._fused.softmax_row_terms`); it works under
    ``torch.compile(fullgraph=True)`` and ``torch.func``, and second derivatives are
    exact. A class index outside ``[0, C)`` (not ``ignore_index``) raises
    ``ValueError`` on the CPU and is a device-side assertion on an accelerator and
    under ``torch.compile``, as in :func:`~companion.losses.focal.softmax_focal_loss`.

    The official code also clamps :math:`p` at
    :math:`10^{-7}` before the reverse term, which changes it by at most
    :math:`(C - 1) \cdot 10^{-7} \cdot |A|`; this function does not.

    Parameters
    ----------
    input:
        Logits of shape ``(N, C)``, ``(N, C, d_1, ..., d_K)`` or ``(C,)``.
    target:
        Class indices in ``[0, C)``, shape ``(N,)``, ``(N, d_1, ..., d_K)`` or ``()``.
    alpha:
        Weight of the cross entropy, >= 0 (the paper uses 0.1 on CIFAR-10).
    beta:
        Weight of the reverse cross entropy, >= 0 (1.0 on CIFAR-10).
    A:
        The value given to :math:`\log 0`, <= 0.
    ignore_index:
        Positions with this target contribute 0; ``'mean'`` divides by the
        number of the other positions (NaN when there are none, as in torch).
    reduction:
        ``'none'`` | ``'mean'`` | ``'sum'``.

    Examples
    --------
    >>> x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    >>> t = torch.tensor([0, 1])
    >>> sce_loss(x, t, alpha=1.0, beta=0.0, reduction="none")  # cross entropy
    tensor([0.2395, 2.1698])
    >>> sce_loss(x, t, alpha=0.0, beta=1.0, A=-4.0, reduction="none")  # -A (1 - p_y)
    tensor([0.8521, 3.5432])
    """
    reduction = check_reduction(reduction)
    alpha, beta, A = _check_weights(alpha, beta, A)
    logits, t, keep, unbatched = check_class_targets(input, target, ignore_index)

    weight = keep.to(compute_dtype(input.dtype))
    loss = softmax_rows(logits, t, weight, "sce", (alpha, beta, A))
    return reduce_class_loss(loss, keep, reduction, unbatched).to(input.dtype)


class SCELoss(nn.Module):
    r"""Module form of :func:`sce_loss`.

    Examples
    --------
    >>> loss_fn = SCELoss(alpha=0.1, beta=1.0)
    >>> loss_fn(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0]))
    tensor(1.9859)
    """

    def __init__(
        self,
        alpha: float = 0.1,
        beta: float = 1.0,
        A: float = DEFAULT_A,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.alpha, self.beta, self.A = _check_weights(alpha, beta, A)
        self.ignore_index = check_ignore_index(ignore_index)
        self.reduction = check_reduction(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sce_loss(input, target, self.alpha, self.beta, self.A, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, A={self.A:.4f}, "
            f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"
        )
