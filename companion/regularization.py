"""Weight penalties, the parameters they should apply to, and the L1 proximal step.

The objective a model minimizes is often the data loss plus a penalty on its
weights, :math:`J(w) = L(w) + \\lambda R(w)`. This module provides the two
classic penalties, a way to split a model's parameters into those that should
be penalized (weights of linear and convolutional layers) and those that
should not (biases, normalization scales and shifts), optimizer parameter
groups built from that split, and the soft-thresholding step that makes L1
regularization produce exact zeros.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from ._checks import check_bool, check_floating, check_instance, check_number

__all__ = [
    "NO_DECAY_MODULES",
    "decay_parameters",
    "l1_penalty",
    "l2_penalty",
    "param_groups",
    "prox_l1_",
]

Params = nn.Module | torch.Tensor | Iterable[torch.Tensor]

#: Module types whose parameters are not penalized by :func:`decay_parameters`:
#: normalization layers (their scale and shift set the size of activations, and
#: shrinking them toward 0 is not a sensible prior) and embeddings.
NO_DECAY_MODULES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.Embedding,
    nn.EmbeddingBag,
)


def _check_weight(weight: float, name: str = "weight") -> float:
    return check_number(weight, name, low=0.0)


def _tensors(params: Params) -> list[torch.Tensor]:
    """The tensors a penalty applies to: a module's decayed weights, or the given tensors."""
    tensors: list[torch.Tensor]
    if isinstance(params, nn.Module):
        tensors = list(decay_parameters(params)[0])
    elif isinstance(params, torch.Tensor):
        tensors = [params]
    else:
        try:
            tensors = list(params)
        except TypeError:
            raise TypeError(
                f"params must be a module, a tensor or an iterable of tensors, got {type(params).__name__}"
            ) from None
    if not tensors:
        raise ValueError("params is empty: there is nothing to penalize")
    for i, t in enumerate(tensors):
        check_floating(t, f"params[{i}]")
    return tensors


def l1_penalty(params: Params, weight: float = 1.0) -> torch.Tensor:
    r"""The L1 penalty :math:`\lambda \sum_i |w_i|`.

    Parameters
    ----------
    params:
        An ``nn.Module`` (its weights as chosen by :func:`decay_parameters`:
        no biases, no normalization or embedding parameters), a tensor, or an
        iterable of tensors.
    weight:
        The coefficient :math:`\lambda \ge 0`.

    Returns
    -------
    torch.Tensor
        A scalar that carries gradients to the parameters.

    Examples
    --------
    >>> import torch
    >>> l1_penalty([torch.tensor([1.0, -2.0]), torch.tensor([0.5])], weight=0.1)
    tensor(0.3500)
    """
    weight = _check_weight(weight)
    return weight * torch.stack([t.abs().sum() for t in _tensors(params)]).sum()


def l2_penalty(params: Params, weight: float = 1.0, *, half: bool = True) -> torch.Tensor:
    r"""The L2 penalty :math:`\frac{\lambda}{2} \sum_i w_i^2` (or :math:`\lambda \sum_i w_i^2` with ``half=False``).

    With the default ``half=True`` the gradient of the penalty is
    :math:`\lambda w`, which is exactly what an optimizer's
    ``weight_decay=λ`` adds to the gradient in ``torch.optim.SGD`` and
    ``torch.optim.Adam``. Keras' ``regularizers.L2(l2=λ)`` has no factor
    :math:`\frac12`: it is ``half=False``, and matches ``weight_decay=2λ``.

    Parameters
    ----------
    params:
        An ``nn.Module`` (its decayed weights, see :func:`decay_parameters`), a
        tensor, or an iterable of tensors.
    weight:
        The coefficient :math:`\lambda \ge 0`.
    half:
        Include the factor :math:`\frac12`.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([3.0, 4.0])
    >>> l2_penalty(w, weight=0.1), l2_penalty(w, weight=0.1, half=False)
    (tensor(1.2500), tensor(2.5000))
    """
    weight = _check_weight(weight)
    half = check_bool(half, "half")
    factor = 0.5 * weight if half else weight
    return factor * torch.stack([t.pow(2).sum() for t in _tensors(params)]).sum()


def decay_parameters(
    module: nn.Module, no_decay_modules: tuple[type[nn.Module], ...] = NO_DECAY_MODULES
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Split a module's trainable parameters into those to penalize and those to leave alone.

    A parameter is penalized when it is a ``weight`` with at least two
    dimensions (the weight matrix of a linear layer, the kernel of a
    convolution, ...) of a module that is not an instance of
    ``no_decay_modules``. Biases, the scales and shifts of normalization
    layers and embeddings are not. Judging by module type and shape, not by
    the parameter's name, is what keeps a ``BatchNorm`` scale (named
    ``weight``) out of the penalty. Each parameter appears exactly once, even
    when modules share it; frozen parameters (``requires_grad=False``) appear
    in neither list.

    Returns
    -------
    tuple[list, list]
        The parameters to penalize and the others, each in the order of
        ``module.parameters()``.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))
    >>> decay, no_decay = decay_parameters(net)
    >>> [tuple(p.shape) for p in decay], [tuple(p.shape) for p in no_decay]
    ([(8, 4), (1, 8)], [(8,), (8,), (8,), (1,)])
    """
    check_instance(module, "module", nn.Module, "an nn.Module")
    penalize: set[int] = set()
    for sub in module.modules():
        if isinstance(sub, no_decay_modules):
            continue
        for name, p in sub.named_parameters(recurse=False):
            if name == "weight" and p.ndim >= 2:
                penalize.add(id(p))
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for p in module.parameters():  # parameters() already skips shared duplicates
        if not p.requires_grad:
            continue
        (decay if id(p) in penalize else no_decay).append(p)
    return decay, no_decay


def param_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups: ``weight_decay`` on the weights, none on everything else.

    Pass the result to any ``torch.optim`` optimizer in place of
    ``module.parameters()``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> opt = torch.optim.SGD(param_groups(net, weight_decay=1e-4), lr=0.1)
    >>> [(len(g["params"]), g["weight_decay"]) for g in opt.param_groups]
    [(2, 0.0001), (2, 0.0)]
    """
    weight_decay = _check_weight(weight_decay, "weight_decay")
    decay, no_decay = decay_parameters(module)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


@torch.no_grad()
def prox_l1_(params: Params, threshold: float) -> None:
    r"""Soft-threshold parameters in place: the proximal step of the L1 penalty.

    .. math:: w \leftarrow \operatorname{sign}(w)\,\max(|w| - t,\; 0)

    After a gradient step of size :math:`\eta` on the data loss alone, calling
    this with :math:`t = \eta\lambda` completes one step of proximal gradient
    descent (ISTA) on :math:`L(w) + \lambda\|w\|_1`. Unlike a subgradient step
    on the penalty, which makes small weights oscillate around zero, it sets
    them to exactly zero.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([0.3, -0.05, 0.02, -1.0])
    >>> prox_l1_(w, 0.1)
    >>> w
    tensor([ 0.2000,  0.0000,  0.0000, -0.9000])
    """
    threshold = _check_weight(threshold, "threshold")
    for t in _tensors(params):
        t.copy_(t.sign() * (t.abs() - threshold).clamp_min(0) + 0.0)  # + 0.0: no negative zeros
