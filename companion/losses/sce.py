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
from ._common import check_class_targets, check_number, compute_dtype, reduce_class_loss

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

    With :math:`\log p_y = x_y - \operatorname{logsumexp}_k x_k`,

    .. math::

        \ell = \alpha \bigl(-\log p_y\bigr) + \beta \bigl(-A\,(1 - p_y)\bigr),
        \qquad 1 - p_y = -\operatorname{expm1}(\log p_y).

    ``expm1`` gives :math:`1 - p_y` without subtracting two numbers near 1, and
    no one-hot or clamped-label matrix is built: besides the log-softmax of the
    logits, memory is :math:`O(N)`. The official code also clamps :math:`p` at
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

    dtype = compute_dtype(input.dtype)
    x = logits.to(dtype)
    log_py = x.gather(1, t.unsqueeze(1)).squeeze(1) - torch.logsumexp(x, dim=1)
    loss = alpha * -log_py + (beta * A) * torch.expm1(log_py)   # -A (1 - p_y) = A expm1(log p_y)
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
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
        self.ignore_index = ignore_index
        self.reduction = check_reduction(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sce_loss(input, target, self.alpha, self.beta, self.A, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, A={self.A:.4f}, "
            f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"
        )
