r"""By-hand reference of the fused linear layer + cross entropy (``nn.LinearCrossEntropyLoss``).

``F.linear_cross_entropy(input, linear_weight, target)`` is the cross entropy of the
logits :math:`z = W x + b` that a final ``nn.Linear`` would produce, computed without
keeping a separate logits tensor around. For a language model with a vocabulary of
:math:`C` words those logits are an :math:`N \times C` matrix, often the largest tensor
of the whole training step; processing the batch in chunks of rows (torch's
``options=LinearCrossEntropyOptions(...)``) keeps only one chunk's logits in memory at
a time. The value of the loss does not depend on the chunking.

The cross entropy itself is written out here (no torch loss function is called), with
every option of ``F.cross_entropy``: class weights, ``ignore_index``, label smoothing,
class-index or class-probability targets, and K-dimensional outputs.
"""

from __future__ import annotations

from typing import Any

import torch

from .._checks import (
    check_floating,
    check_index_dtype,
    check_int,
    check_number,
    check_optional_floating,
    check_reduction,
    check_tensor,
    require_class_indices,
)

__all__ = ["linear_cross_entropy"]


def _row_losses(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    ignore_index: int,
    label_smoothing: float,
    probabilities: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position losses and the weights a ``'mean'`` divides by, for logits ``(n, C, *d)``."""
    n_classes = logits.shape[1]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    w = torch.ones(n_classes, dtype=log_p.dtype, device=log_p.device) if weight is None else weight.to(log_p.dtype)
    w_c = w.reshape(1, n_classes, *([1] * (logits.dim() - 2)))  # broadcast over (n, C, *d)
    eps = label_smoothing
    if probabilities:
        q = target * (1 - eps) + eps / n_classes
        loss = -(w_c * q * log_p).sum(dim=1)
        return loss, torch.ones_like(loss)  # 'mean' divides by positions
    keep = target != ignore_index
    y = torch.where(keep, target, torch.zeros_like(target))
    nll = -w[y] * log_p.gather(1, y.unsqueeze(1)).squeeze(1)  # -w_y log p_y
    smooth = -(w_c * log_p).sum(dim=1)  # -sum_c w_c log p_c
    loss = (1 - eps) * nll + (eps / n_classes) * smooth
    zero = torch.zeros_like(loss)
    return torch.where(keep, loss, zero), torch.where(keep, w[y], zero)


def linear_cross_entropy(
    input: torch.Tensor,
    linear_weight: torch.Tensor,
    target: torch.Tensor,
    *,
    linear_bias: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> torch.Tensor:
    r"""Cross entropy of the logits ``input @ linear_weight.T + linear_bias``, written out.

    With logits :math:`z_n = W x_n + b`, :math:`\log p_n = z_n - \operatorname{logsumexp}(z_n)`,
    smoothing :math:`\varepsilon` and class weights :math:`w` (all ones by default):

    * class-index targets :math:`y_n` (positions with :math:`y_n` = ``ignore_index``,
      -100 by default, contribute 0):

      .. math::

          \ell_n = (1 - \varepsilon)\,\bigl(-w_{y_n}\log p_{n,y_n}\bigr)
                   + \frac{\varepsilon}{C}\Bigl(-\sum_c w_c \log p_{n,c}\Bigr),

      and ``'mean'`` divides :math:`\sum_n \ell_n` by :math:`\sum_n w_{y_n}` over the
      positions not ignored (their count when there are no weights);
    * class-probability targets :math:`q_n` (same shape as the logits):

      .. math::

          \ell_n = -\sum_c w_c \Bigl((1-\varepsilon)\, q_{n,c} + \frac{\varepsilon}{C}\Bigr) \log p_{n,c},

      and ``'mean'`` divides by the number of positions (not by the weights).

    ``'sum'`` adds the :math:`\ell_n`; ``'none'`` returns them.

    Parameters
    ----------
    input:
        Features, shape ``(N, D)`` or ``(D,)``.
    linear_weight:
        Shape ``(C, D)``, or ``(C, d_1, ..., d_K, D)`` for logits of shape ``(N, C, d_1, ..., d_K)``.
    target:
        Class indices of shape ``(N, d_1, ..., d_K)`` (``()`` for one input), or
        probabilities with the logits' shape.
    linear_bias:
        Optional, shape ``(C, d_1, ..., d_K)``.
    weight, reduction, ignore_index, label_smoothing:
        As in ``F.cross_entropy``; ``ignore_index=None`` means -100 and is the only
        value allowed with probability targets.
    options:
        torch's ``LinearCrossEntropyOptions``. Here only its ``batch_chunk_size`` is
        used, to compute the logits chunk by chunk; it changes memory, never the value.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> W = torch.tensor([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    >>> linear_cross_entropy(x, W, torch.tensor([0, 2]), reduction="none")
    tensor([0.2395, 2.2395])
    """
    reduction = check_reduction(reduction)
    check_floating(input, "input")
    check_floating(linear_weight, "linear_weight")
    check_tensor(target, "target")
    check_optional_floating(linear_bias, "linear_bias")
    check_optional_floating(weight, "weight")
    label_smoothing = check_number(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index")
    if input.dim() not in (1, 2):
        raise ValueError(f"input must have shape (N, D) or (D,), got {tuple(input.shape)}")
    if linear_weight.dim() < 2 or linear_weight.shape[-1] != input.shape[-1]:
        raise ValueError(f"linear_weight must have shape (C, ..., {input.shape[-1]}), got {tuple(linear_weight.shape)}")
    n_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if out_features and input.dim() == 1:
        raise ValueError("a K-dimensional linear_weight needs batched input (N, D)")
    if linear_bias is not None and tuple(linear_bias.shape) != (n_classes, *out_features):
        raise ValueError(f"linear_bias must have shape {(n_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ValueError(f"weight must have shape ({n_classes},), got {tuple(weight.shape)}")

    unbatched = input.dim() == 1
    x = input.unsqueeze(0) if unbatched else input
    logits_shape = (x.shape[0], n_classes, *out_features)
    probabilities = tuple(target.shape) == (logits_shape[1:] if unbatched else logits_shape)
    if probabilities and ignore_index is not None:
        raise ValueError("ignore_index cannot be given when target holds class probabilities")
    if not probabilities and tuple(target.shape) != (() if unbatched else (x.shape[0], *out_features)):
        raise ValueError(
            f"target must hold class indices of shape {(x.shape[0], *out_features)} or probabilities of "
            f"shape {logits_shape}, got {tuple(target.shape)}"
        )
    ignore = -100 if ignore_index is None else ignore_index
    if probabilities:
        check_floating(target, "target")
    else:
        target = check_index_dtype(target, "target")
        require_class_indices(target, "target", n_classes, ignore)
    y = target.unsqueeze(0) if unbatched else target

    W = linear_weight.reshape(-1, x.shape[1])  # (C * prod(d), D)
    b = None if linear_bias is None else linear_bias.reshape(-1)
    chunk = getattr(options, "batch_chunk_size", None) or max(x.shape[0], 1)
    losses, norms = [], []
    for start in range(0, max(x.shape[0], 1), chunk):
        rows = slice(start, start + chunk)
        logits = x[rows] @ W.T  # only this chunk's logits exist
        if b is not None:
            logits = logits + b
        logits = logits.reshape(-1, *logits_shape[1:])
        loss, norm = _row_losses(logits, y[rows], weight, ignore, label_smoothing, probabilities)
        losses.append(loss)
        norms.append(norm)
    loss, norm = torch.cat(losses), torch.cat(norms)

    if reduction == "mean":
        return loss.sum() / norm.sum()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss
