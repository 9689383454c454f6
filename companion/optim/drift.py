"""How far torch's ``foreach`` and ``fused`` optimizer kernels drift from the for-loop one.

:func:`implementation_drift` runs one optimizer class several times on the same
deterministic problem, once per implementation (``foreach=False``, ``foreach=True``,
``fused=True`` and the by-hand reference of ``companion.optim.REFERENCES``), and
reports how far apart the final parameters are.
"""

from __future__ import annotations

from typing import Any

import torch

from .._checks import check_choice, check_instance, check_int
from .reference import REFERENCES

__all__ = ["IMPLEMENTATIONS", "implementation_drift"]

#: the implementations compared, in the order of the result's keys
IMPLEMENTATIONS = ("for-loop", "foreach", "fused", "reference")
_DTYPES = (torch.float32, torch.bfloat16, torch.float64)


def _final_params(
    opt_cls: type, impl: str, dtype: torch.dtype, steps: int, seed: int, hyper: dict[str, Any]
) -> torch.Tensor:
    """The flattened parameters (in float64) after ``steps`` steps of one implementation."""
    g = torch.Generator().manual_seed(seed)
    start, target = torch.randn(2, 256, generator=g, dtype=torch.float64)
    curvature = (torch.rand(256, generator=g, dtype=torch.float64) + 0.1).to(dtype)
    target = target.to(dtype)
    noise = (0.3 * torch.randn(steps, 256, generator=g, dtype=torch.float64)).to(dtype)
    param = start.to(dtype).requires_grad_()
    switch = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    opt = REFERENCES[opt_cls]([param], **hyper) if impl == "reference" else opt_cls([param], **hyper, **switch[impl])
    with torch.no_grad():
        for k in range(steps):
            # gradient of sum(c/2 (p - t)^2) plus a fixed noise sequence, in the parameter's dtype
            param.grad = torch.addcmul(noise[k], curvature, param - target)
            opt.step()
    final: torch.Tensor = param.detach().double()
    return final


def implementation_drift(
    opt_cls: type, dtype: torch.dtype = torch.float32, steps: int = 1000, *, seed: int = 0, **hyperparameters: Any
) -> dict[tuple[str, str], float]:
    r"""The relative gap between the final parameters of every pair of implementations.

    Each implementation runs ``steps`` steps on the same problem, a noisy diagonal
    quadratic in 256 parameters: the gradient at
    step :math:`k` is :math:`c\odot(\theta-\theta^\ast) + n_k`, computed in ``dtype``, with a fixed
    noise sequence :math:`n_k` (drawn in float64 and rounded to ``dtype``).
    The gap between two runs :math:`a` and :math:`b` is

    .. math:: \frac{\max_i |\theta^a_i - \theta^b_i|}{\max_i |\theta^a_i|}.

    The runs compute on one thread (``torch.set_num_threads(1)``, the caller's setting restored
    afterwards): for 256 numbers more threads only add overhead, the fused CPU kernels most.

    Parameters
    ----------
    opt_cls : type
        A ``torch.optim`` optimizer with ``foreach`` and ``fused`` switches and a reference in
        ``companion.optim.REFERENCES`` (``SGD``, ``Adam``, ``AdamW``, ``Adagrad`` on CPU).
    dtype : torch.dtype
        The parameters' dtype: ``torch.float32``, ``torch.bfloat16`` or ``torch.float64``.
    steps : int
        Optimizer steps per run (at least 1).
    seed : int
        Seed of the problem (start, optimum, curvatures, noise).
    **hyperparameters
        Passed to every implementation (``lr``, ``momentum``, ...).

    Returns
    -------
    dict
        ``{(a, b): gap}`` for every pair ``a`` before ``b`` in :data:`IMPLEMENTATIONS`.

    Examples
    --------
    >>> gaps = implementation_drift(torch.optim.Adam, torch.float64, steps=20, lr=0.01)
    >>> gaps["for-loop", "foreach"] < 1e-14 and gaps["for-loop", "reference"] < 1e-14
    True
    """
    opt_cls = check_instance(opt_cls, "opt_cls", type, "a torch.optim optimizer class")  # type: ignore[assignment]
    if opt_cls not in REFERENCES:
        raise ValueError(f"opt_cls must be a torch.optim optimizer with a reference, got {opt_cls!r}")
    dtype = check_choice(dtype, "dtype", _DTYPES)  # type: ignore[assignment]
    steps = check_int(steps, "steps", low=1)
    seed = check_int(seed, "seed", low=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 256 numbers: threads only add overhead (and the fused CPU kernels suffer most)
    try:
        final = {impl: _final_params(opt_cls, impl, dtype, steps, seed, hyperparameters) for impl in IMPLEMENTATIONS}
    finally:
        torch.set_num_threads(threads)
    gaps = {}
    for i, a in enumerate(IMPLEMENTATIONS):
        for b in IMPLEMENTATIONS[i + 1 :]:
            gaps[a, b] = ((final[a] - final[b]).abs().max() / final[a].abs().max()).item()
    return gaps
