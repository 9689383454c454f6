"""Information theory for losses: entropy, cross entropy, KL divergence, log-sum-exp.

Every function accepts a NumPy array (or anything :func:`numpy.asarray` takes)
or a torch tensor, and returns the same kind: a tensor stays on its device and
keeps its autograd graph. Distributions lie along ``dim`` (the last axis by
default) and are checked: entries must be finite, in ``[0, 1]``, and sum to 1
within a tolerance that suits their dtype. The convention ``0 · log 0 = 0`` holds
everywhere, so distributions with zeros are fine.

Logarithms are natural (nats) unless ``base`` is given: ``base=2`` gives bits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ._checks import check_bool, check_int, check_number

__all__ = [
    "binary_entropy",
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "log_softmax",
    "logsumexp",
    "softmax",
]

Array = np.ndarray | torch.Tensor


# ---------------------------------------------------------------------------
# helpers


def _as_array(x: Any, name: str) -> Array:
    """A floating tensor or array; integers and lists are converted."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        return x if x.is_floating_point() else x.to(torch.get_default_dtype())
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - asarray accepts nearly anything
        raise TypeError(f"{name} must be an array or a tensor: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)


def _same_kind(a: Array, b: Array, names: tuple[str, str]) -> None:
    if isinstance(a, torch.Tensor) != isinstance(b, torch.Tensor):
        raise TypeError(f"{names[0]} and {names[1]} must both be tensors or both be arrays")
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _check_dim(x: Array, dim: int) -> int:
    dim = check_int(dim, "dim")
    if x.ndim == 0:
        raise ValueError("a distribution needs at least one dimension, got a scalar")
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"dim {dim} is out of range for an input with {x.ndim} dimension(s)")
    return dim


def _log_base(base: float | None) -> float:
    if base is None:
        return 1.0
    base = check_number(base, "base", above=0.0)
    if base == 1:
        raise ValueError(f"base must be a positive number other than 1, or None, got {base}")
    return math.log(base)


def _eps(x: Array) -> float:
    if isinstance(x, torch.Tensor):
        return float(torch.finfo(x.dtype).eps)
    return float(np.finfo(x.dtype).eps)


def _check_distribution(p: Array, name: str, dim: int) -> None:
    """Finite, within [0, 1], and summing to 1 along ``dim`` (tolerance scaled to dtype and size)."""
    if p.shape[dim] == 0:
        raise ValueError(f"{name} has no outcomes along dim {dim}")
    if isinstance(p, torch.Tensor):
        pt = p.detach().to(torch.float64)
        finite, low, high = bool(torch.isfinite(pt).all()), float(pt.min()), float(pt.max())
        worst = float((pt.sum(dim) - 1).abs().max())
    else:
        pn = p.astype(np.float64)
        finite, low, high = bool(np.isfinite(pn).all()), float(pn.min()), float(pn.max())
        worst = float(np.abs(pn.sum(axis=dim) - 1).max())
    if not finite:
        raise ValueError(f"{name} must be finite (it holds nan or inf)")
    if low < 0:
        raise ValueError(f"{name} must not be negative, got a minimum of {low}")
    if high > 1:
        raise ValueError(f"{name} must not exceed 1, got a maximum of {high}")
    tol = max(1e-6, 4 * _eps(p) * p.shape[dim])
    if worst > tol:
        raise ValueError(f"{name} must sum to 1 along dim {dim}: off by {worst:.3g} (tolerance {tol:.1g})")


def _xlogy(x: Array, y: Array) -> Array:
    """``x * log(y)`` with ``0 * log(anything) = 0``."""
    if isinstance(x, torch.Tensor):
        xlogy: torch.Tensor = torch.special.xlogy(x, y)
        return xlogy
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(np.where(x == 0, 1, y))
    result: np.ndarray = np.where(x == 0, 0, out)
    return result


def _sum(x: Array, dim: int) -> Array:
    return x.sum(dim) if isinstance(x, torch.Tensor) else x.sum(axis=dim)


# ---------------------------------------------------------------------------
# entropies


def entropy(p: Any, *, dim: int = -1, base: float | None = None) -> Array:
    r"""Shannon entropy of the distribution(s) ``p`` along ``dim``.

    .. math:: H(p) = -\sum_k p_k \log p_k, \qquad 0 \log 0 = 0

    Parameters
    ----------
    p:
        Probabilities, non-negative and summing to 1 along ``dim``.
    dim:
        The axis that holds the outcomes.
    base:
        Base of the logarithm: ``None`` (natural, nats) or e.g. ``2`` (bits).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The entropy, with ``dim`` removed; the same kind as ``p``.

    Examples
    --------
    >>> float(entropy([0.5, 0.5]))
    0.6931471805599453
    >>> float(entropy([0.5, 0.5], base=2))
    1.0
    >>> float(entropy([1.0, 0.0]))
    0.0
    """
    p = _as_array(p, "p")
    dim = _check_dim(p, dim)
    scale = _log_base(base)
    _check_distribution(p, "p", dim)
    h = 0.0 - _sum(_xlogy(p, p), dim)  # 0.0 - x: no negative zero
    return h / scale if scale != 1.0 else h


def cross_entropy(p: Any, q: Any, *, dim: int = -1, base: float | None = None) -> Array:
    r"""Cross entropy of ``q`` relative to ``p``: the average code length of ``p`` under a code built for ``q``.

    .. math:: H(p, q) = -\sum_k p_k \log q_k = H(p) + D_{\mathrm{KL}}(p \,\|\, q)

    An outcome with :math:`p_k = 0` contributes nothing, whatever :math:`q_k`;
    one with :math:`p_k > 0` and :math:`q_k = 0` makes the cross entropy ``inf``.

    Examples
    --------
    >>> float(cross_entropy([1.0, 0.0], [0.25, 0.75]))  # -log 0.25
    1.3862943611198906
    >>> float(cross_entropy([0.5, 0.5], [1.0, 0.0]))
    inf
    """
    p, q = _as_array(p, "p"), _as_array(q, "q")
    _same_kind(p, q, ("p", "q"))
    dim = _check_dim(p, dim)
    scale = _log_base(base)
    _check_distribution(p, "p", dim)
    _check_distribution(q, "q", dim)
    h = 0.0 - _sum(_xlogy(p, q), dim)
    return h / scale if scale != 1.0 else h


def kl_divergence(p: Any, q: Any, *, dim: int = -1, base: float | None = None) -> Array:
    r"""Kullback–Leibler divergence (relative entropy) of ``q`` from ``p``.

    .. math:: D_{\mathrm{KL}}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k} = H(p, q) - H(p) \ge 0

    Zero exactly when ``p == q``; not symmetric in ``p`` and ``q``. Rounding can
    push the computed sum a few ulps below zero when ``p`` and ``q`` nearly
    agree; such results are returned as ``0``.

    Examples
    --------
    >>> p, q = [0.9, 0.1], [0.5, 0.5]
    >>> round(float(kl_divergence(p, q)), 6), round(float(kl_divergence(q, p)), 6)
    (0.368064, 0.510826)
    """
    p, q = _as_array(p, "p"), _as_array(q, "q")
    _same_kind(p, q, ("p", "q"))
    dim = _check_dim(p, dim)
    scale = _log_base(base)
    _check_distribution(p, "p", dim)
    _check_distribution(q, "q", dim)
    d = _sum(_xlogy(p, p) - _xlogy(p, q), dim)
    d = d.clamp_min(0) if isinstance(d, torch.Tensor) else np.maximum(d, 0)
    return d / scale if scale != 1.0 else d


def binary_entropy(p: Any, *, base: float | None = None) -> Array:
    r"""Entropy of a Bernoulli variable with success probability ``p``, element-wise.

    .. math:: H_b(p) = -p \log p - (1 - p) \log (1 - p)

    Its maximum, :math:`\log 2 \approx 0.6931` nats (1 bit), is at :math:`p = 1/2`.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(binary_entropy([0.0, 0.1, 0.5, 1.0]), 4)
    array([0.    , 0.3251, 0.6931, 0.    ])
    """
    p = _as_array(p, "p")
    scale = _log_base(base)
    n = p.numel() if isinstance(p, torch.Tensor) else p.size
    low, high = (float(p.min()), float(p.max())) if n else (0.0, 0.0)
    if not (0.0 <= low and high <= 1.0):  # also false for nan
        raise ValueError(f"p must be a probability in [0, 1], got values from {low} to {high}")
    h = 0.0 - (_xlogy(p, p) + _xlogy(1 - p, 1 - p))
    return h / scale if scale != 1.0 else h


# ---------------------------------------------------------------------------
# log-sum-exp and friends


def logsumexp(x: Any, *, dim: int = -1, keepdim: bool = False) -> Array:
    r"""``log(sum(exp(x)))`` along ``dim``, computed without overflow or underflow.

    .. math:: \log \sum_i e^{x_i} = m + \log \sum_i e^{x_i - m}, \qquad m = \max_i x_i

    After the shift every exponent is at most 0, so nothing overflows, and the
    largest term is exactly 1, so the sum cannot underflow to 0. A slice that is
    all ``-inf`` gives ``-inf``; one that holds ``+inf`` gives ``+inf``.

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))  # the naive form overflows to inf
    1000.6931471805599
    >>> float(logsumexp([-1000.0, -1000.0]))  # ... or underflows to -inf
    -999.3068528194401
    """
    x = _as_array(x, "x")
    dim = _check_dim(x, dim)
    keepdim = check_bool(keepdim, "keepdim")
    if isinstance(x, torch.Tensor):
        m = x.detach().amax(dim, keepdim=True)
        m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
        total_t = torch.exp(x - m).sum(dim, keepdim=True)
        # an all -inf slice: log(0) = -inf, taken from a where so that its gradient is 0, not 0/0
        some = total_t != 0  # NaN stays NaN
        out = torch.where(some, m + torch.log(torch.where(some, total_t, torch.ones_like(total_t))), -torch.inf)
        return out if keepdim else out.squeeze(dim)
    top = np.max(x, axis=dim, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        total: np.ndarray = top + np.log(np.exp(x - top).sum(axis=dim, keepdims=True))
    return total if keepdim else np.squeeze(total, axis=dim)


def log_softmax(x: Any, *, dim: int = -1) -> Array:
    r"""Logarithm of the softmax of ``x`` along ``dim``, computed stably.

    .. math:: \log \operatorname{softmax}(x)_i = x_i - \log \sum_j e^{x_j}

    Examples
    --------
    >>> import numpy as np
    >>> log_softmax([1000.0, 0.0])  # exp(1000) would overflow
    array([    0., -1000.])
    """
    arr = _as_array(x, "x")
    dim = _check_dim(arr, dim)
    return arr - logsumexp(arr, dim=dim, keepdim=True)


def softmax(x: Any, *, dim: int = -1) -> Array:
    r"""Softmax of ``x`` along ``dim``: :math:`e^{x_i} / \sum_j e^{x_j}`, via :func:`log_softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(softmax([1000.0, 0.0]), 4)  # exp(1000) alone would overflow
    array([1., 0.])
    """
    z = log_softmax(x, dim=dim)
    return z.exp() if isinstance(z, torch.Tensor) else np.exp(z)
