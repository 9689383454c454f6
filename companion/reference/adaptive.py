r"""By-hand reference of the adaptive softmax (``nn.AdaptiveLogSoftmaxWithLoss``).

The adaptive softmax (Grave et al., 2017) makes a softmax over a large vocabulary
cheap by exploiting that a few frequent classes account for most targets. The classes
are sorted by frequency and cut into a *shortlist* :math:`[0, c_0)` and clusters
:math:`[c_0, c_1), \dots, [c_{K-1}, c_K = V)`. A *head* classifier scores the
shortlist classes plus one entry per cluster; each cluster has a *tail* classifier
(a down-projection to a smaller dimension, then the cluster's classes). The
probability of a class is

.. math::

    p(c \mid x) = \begin{cases}
        p_{\text{head}}(c \mid x), & c < c_0,\\
        p_{\text{head}}(\text{cluster } k \mid x)\; p_k(c \mid x), & c_{k-1} \le c < c_k,
    \end{cases}

so a frequent class costs one small matrix product, and the tail of cluster
:math:`k` only runs for the examples whose target lies in it.

``nn.AdaptiveLogSoftmaxWithLoss`` is a module without a functional form; the
functions below take its weights (see :func:`adaptive_parameters`) and compute the
same ``output``, ``loss``, ``log_prob`` and ``predict`` by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import torch

from .._checks import check_floating, check_index_dtype, require_class_indices

__all__ = [
    "ASMOutput",
    "adaptive_log_prob",
    "adaptive_log_softmax_with_loss",
    "adaptive_parameters",
    "adaptive_predict",
]

TailWeights = Sequence[tuple[torch.Tensor, torch.Tensor]]


class ASMOutput(NamedTuple):
    """What the adaptive softmax returns: the target log-probabilities and the loss."""

    output: torch.Tensor
    loss: torch.Tensor


def adaptive_parameters(module: torch.nn.AdaptiveLogSoftmaxWithLoss) -> dict[str, Any]:
    """The weights of an ``nn.AdaptiveLogSoftmaxWithLoss``, as keyword arguments for this module's functions.

    Returns ``head_weight`` (``(c_0 + K, D)``), ``head_bias`` (or ``None``),
    ``tail_weights`` (one ``(projection, output)`` pair per cluster, shapes
    ``(D_k, D)`` and ``(c_k - c_{k-1}, D_k)``) and ``cutoffs`` (the module's
    ``cutoffs`` attribute, which ends with the number of classes).

    Examples
    --------
    >>> asm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs=[4, 8], div_value=2.0)
    >>> w = adaptive_parameters(asm)
    >>> tuple(w["head_weight"].shape), [tuple(p.shape) + tuple(o.shape) for p, o in w["tail_weights"]], w["cutoffs"]
    ((6, 16), [(8, 16, 4, 8), (4, 16, 2, 4)], [4, 8, 10])
    """
    tails = []
    for cluster in module.tail:  # each an nn.Sequential(projection, output) of nn.Linear layers
        proj, out = (cast(torch.nn.Linear, layer) for layer in cast(torch.nn.Sequential, cluster))
        tails.append((proj.weight, out.weight))
    return {
        "head_weight": module.head.weight,
        "head_bias": module.head.bias,
        "tail_weights": tails,
        "cutoffs": list(module.cutoffs),
    }


def _log_softmax(z: torch.Tensor) -> torch.Tensor:
    return z - torch.logsumexp(z, dim=-1, keepdim=True)


def _check(
    input: torch.Tensor, head_weight: torch.Tensor, tail_weights: TailWeights, cutoffs: Sequence[int]
) -> list[int]:
    """Validate the weights; return the cluster boundaries ending with the number of classes."""
    check_floating(input, "input")
    check_floating(head_weight, "head_weight")
    if len(tail_weights) == 0:
        raise ValueError("tail_weights must hold one (projection, output) pair per cluster, got none")
    ends = [int(c) for c in cutoffs]
    if len(ends) == len(tail_weights):  # the constructor's cutoffs: append the number of classes
        ends.append(ends[-1] + tail_weights[-1][1].shape[0])
    if len(ends) != len(tail_weights) + 1 or not ends or ends != sorted(set(ends)) or ends[0] <= 0:
        raise ValueError(f"cutoffs must be increasing positive ints, one more than the tails: got {list(cutoffs)}")
    shortlist = ends[0]
    if head_weight.shape != (shortlist + len(tail_weights), input.shape[-1]):
        raise ValueError(
            f"head_weight must have shape ({shortlist + len(tail_weights)}, {input.shape[-1]}), "
            f"got {tuple(head_weight.shape)}"
        )
    for k, (proj, out) in enumerate(tail_weights):
        if proj.shape[1] != input.shape[-1] or out.shape != (ends[k + 1] - ends[k], proj.shape[0]):
            raise ValueError(
                f"tail_weights[{k}] do not fit input size {input.shape[-1]} and cluster {ends[k]}..{ends[k + 1]}"
            )
    return ends


def _head_log_prob(input: torch.Tensor, head_weight: torch.Tensor, head_bias: torch.Tensor | None) -> torch.Tensor:
    logits = input @ head_weight.T
    if head_bias is not None:
        logits = logits + head_bias
    return _log_softmax(logits)


def adaptive_log_softmax_with_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    head_weight: torch.Tensor,
    tail_weights: TailWeights,
    cutoffs: Sequence[int],
    head_bias: torch.Tensor | None = None,
) -> ASMOutput:
    r"""Log-probability of each target under the adaptive softmax, and the mean loss.

    With :math:`h = \log\operatorname{softmax}(W_h x + b_h)` over the shortlist and the
    cluster entries, and for cluster :math:`k` the tail
    :math:`t_k = \log\operatorname{softmax}(O_k P_k x)`,

    .. math::

        \text{output}_n = \begin{cases}
            h_{y_n}, & y_n < c_0,\\
            h_{c_0 + k - 1} + t_{k,\, y_n - c_{k-1}}, & c_{k-1} \le y_n < c_k,
        \end{cases}
        \qquad
        \text{loss} = -\frac{1}{N}\sum_{n=1}^{N} \text{output}_n .

    The module has no ``reduction``: the loss is always the mean over the batch.
    A tail runs only on the rows whose target falls in its cluster.

    Parameters
    ----------
    input:
        Features, shape ``(N, D)`` (or ``(D,)`` with a 0-d ``target``).
    target:
        Class indices in ``[0, V)``, shape ``(N,)``.
    head_weight, tail_weights, cutoffs, head_bias:
        The module's weights, as returned by :func:`adaptive_parameters`. ``cutoffs``
        may be the constructor's list or the module's attribute (which ends with ``V``).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> asm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8], div_value=2.0)
    >>> x, y = torch.randn(5, 8), torch.tensor([0, 3, 5, 9, 8])
    >>> out, loss = adaptive_log_softmax_with_loss(x, y, **adaptive_parameters(asm))
    >>> bool(torch.allclose(out, asm(x, y).output)), bool(torch.allclose(loss, asm(x, y).loss))
    (True, True)
    """
    ends = _check(input, head_weight, tail_weights, cutoffs)
    target = check_index_dtype(target, "target")
    if target.dim() > 1 or input.dim() != target.dim() + 1 or target.shape != input.shape[:-1]:
        raise ValueError(
            f"expected target (N,) with input (N, D), or target () with input (D,); got target "
            f"{tuple(target.shape)} and input {tuple(input.shape)}"
        )
    require_class_indices(target, "target", ends[-1])
    unbatched = input.dim() == 1
    x, y = (input.unsqueeze(0), target.reshape(1)) if unbatched else (input, target)

    shortlist = ends[0]
    head_lp = _head_log_prob(x, head_weight, head_bias)  # (N, c_0 + K)
    head_index = y.clone()  # which head entry each row needs
    tail_part = torch.zeros(y.shape, dtype=head_lp.dtype, device=head_lp.device)
    for k, (proj, out) in enumerate(tail_weights):
        low, high = ends[k], ends[k + 1]
        rows = ((y >= low) & (y < high)).nonzero().flatten()
        if rows.numel() == 0:
            continue
        head_index[rows] = shortlist + k
        tail_lp = _log_softmax(x[rows] @ proj.T @ out.T)  # only this cluster's rows
        tail_part = tail_part.index_put((rows,), tail_lp.gather(1, (y[rows] - low)[:, None])[:, 0])
    output = head_lp.gather(1, head_index[:, None])[:, 0] + tail_part
    loss = -output.mean()
    return ASMOutput(output[0] if unbatched else output, loss)


def adaptive_log_prob(
    input: torch.Tensor,
    head_weight: torch.Tensor,
    tail_weights: TailWeights,
    cutoffs: Sequence[int],
    head_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Log-probabilities of all ``V`` classes, shape ``(N, V)`` (the module's ``log_prob``).

    Shortlist classes take their head log-probability; the classes of cluster
    :math:`k` take :math:`h_{c_0 + k - 1} + t_k`. Every tail runs on every row, so
    this costs as much as a full softmax: use it for evaluation, not training.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> asm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8], div_value=2.0)
    >>> lp = adaptive_log_prob(torch.randn(3, 8), **adaptive_parameters(asm))
    >>> lp.shape, lp.exp().sum(dim=1)
    (torch.Size([3, 10]), tensor([1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>))
    """
    ends = _check(input, head_weight, tail_weights, cutoffs)
    head_lp = _head_log_prob(input, head_weight, head_bias)
    shortlist = ends[0]
    parts = [head_lp[..., :shortlist]]
    for k, (proj, out) in enumerate(tail_weights):
        cluster_lp = head_lp[..., shortlist + k : shortlist + k + 1]
        parts.append(cluster_lp + _log_softmax(input @ proj.T @ out.T))
    return torch.cat(parts, dim=-1)


def adaptive_predict(
    input: torch.Tensor,
    head_weight: torch.Tensor,
    tail_weights: TailWeights,
    cutoffs: Sequence[int],
    head_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """The most probable class of each row: ``adaptive_log_prob(...).argmax(-1)`` (the module's ``predict``).

    torch takes a shortcut: when the head's best entry is a shortlist class, that
    class is the answer, because any class of a cluster has a probability at most
    that of its cluster's head entry, which lost to the shortlist class. Only the
    other rows run the tails. The answer is the same.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> asm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8], div_value=2.0)
    >>> x = torch.randn(6, 8)
    >>> bool(torch.equal(adaptive_predict(x, **adaptive_parameters(asm)), asm.predict(x)))
    True
    """
    return adaptive_log_prob(input, head_weight, tail_weights, cutoffs, head_bias).argmax(dim=-1)
