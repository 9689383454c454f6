"""The by-hand update rules of :mod:`companion.optim.rules` as ``torch.optim.Optimizer`` subclasses.

Each class takes the same hyperparameters, with the same defaults, as the
``torch.optim`` optimizer it mirrors, keeps ``param_groups``, ``state``,
``state_dict()`` and ``zero_grad()`` from ``torch.optim.Optimizer``, and calls
one rule per parameter in :meth:`~ReferenceOptimizer.step`. Drop one into a
training loop in place of its torch twin and, in float64, the loop computes
the same numbers.

``REFERENCES`` maps each torch optimizer class to its reference.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch

from . import rules

__all__ = [
    "REFERENCES",
    "ReferenceAdadelta",
    "ReferenceAdagrad",
    "ReferenceAdam",
    "ReferenceAdamW",
    "ReferenceAdamax",
    "ReferenceNAdam",
    "ReferenceOptimizer",
    "ReferenceRAdam",
    "ReferenceRMSprop",
    "ReferenceRprop",
    "ReferenceSGD",
]


def _keywords(rule: Callable[..., None], **overrides: Any) -> dict[str, Any]:
    """The rule's keyword-only hyperparameters with their defaults, ``overrides`` replacing some."""
    keywords = {n: p for n, p in inspect.signature(rule).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(overrides) - set(keywords))
    if unknown:
        raise TypeError(f"{rule.__name__} has no hyperparameter(s) {unknown}")
    defaults = {n: p.default for n, p in keywords.items() if p.default is not inspect.Parameter.empty}
    return {**defaults, **overrides}


def _check_state_shapes(state: Any, param: torch.Tensor) -> None:
    """``ValueError`` if a state buffer (from ``load_state_dict``, say) does not have the parameter's shape."""
    if not isinstance(state, dict):
        return  # the rule itself refuses it
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
            raise ValueError(
                f"state[{key!r}] has shape {tuple(value.shape)} but its parameter has shape {tuple(param.shape)}: "
                "was a state_dict loaded for other parameters?"
            )


class ReferenceOptimizer(torch.optim.Optimizer):
    """Base class: an optimizer that applies a by-hand ``rule`` to every parameter with a gradient.

    Subclasses set ``rule`` (a function of :mod:`companion.optim.rules`) and
    ``hyperparameters`` (every keyword of the rule with its default, read from the
    rule's signature, with the torch class's defaults where they differ). Parameters without a gradient are skipped, as in
    ``torch.optim``.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = ReferenceSGD([w], lr=0.5)
    >>> (w**2).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([0., 0.])
    """

    rule: ClassVar[Callable[..., None]]
    hyperparameters: ClassVar[dict[str, Any]]

    def __init__(self, params: Iterable[Any], **hyperparameters: Any) -> None:
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unknown hyperparameter(s) {unknown}; "
                f"it takes {sorted(self.hyperparameters)}"
            )
        super().__init__(params, {**self.hyperparameters, **hyperparameters})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group, checking its hyperparameters with a dry run of the rule on a throwaway tensor."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        scratch = torch.zeros(1, dtype=torch.float64)
        try:
            type(self).rule(scratch, torch.zeros_like(scratch), {}, **{k: group[k] for k in self.hyperparameters})
        except Exception:
            self.param_groups.pop()  # a refused group leaves the optimizer as it was
            raise

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Update every parameter that has a gradient; return ``closure()`` if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = {k: group[k] for k in self.hyperparameters}
            for p in group["params"]:
                if p.grad is not None:
                    _check_state_shapes(self.state[p], p)
                    type(self).rule(p, p.grad, self.state[p], **hyper)
        return loss


class ReferenceSGD(ReferenceOptimizer):
    """``torch.optim.SGD`` by hand: see :func:`~companion.optim.rules.sgd_step`."""

    rule = rules.sgd_step
    # the rule has no default learning rate; torch.optim.SGD's is 1e-3
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.sgd_step, lr=1e-3)


class ReferenceAdam(ReferenceOptimizer):
    """``torch.optim.Adam`` by hand: see :func:`~companion.optim.rules.adam_step`."""

    rule = rules.adam_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.adam_step)


class ReferenceAdamW(ReferenceOptimizer):
    """``torch.optim.AdamW`` by hand: Adam with decoupled weight decay, default 0.01."""

    rule = rules.adam_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(
        rules.adam_step, weight_decay=1e-2, decoupled_weight_decay=True
    )


class ReferenceAdamax(ReferenceOptimizer):
    """``torch.optim.Adamax`` by hand: see :func:`~companion.optim.rules.adamax_step`."""

    rule = rules.adamax_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.adamax_step)


class ReferenceNAdam(ReferenceOptimizer):
    """``torch.optim.NAdam`` by hand: see :func:`~companion.optim.rules.nadam_step`."""

    rule = rules.nadam_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.nadam_step)


class ReferenceRAdam(ReferenceOptimizer):
    """``torch.optim.RAdam`` by hand: see :func:`~companion.optim.rules.radam_step`."""

    rule = rules.radam_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.radam_step)


class ReferenceRMSprop(ReferenceOptimizer):
    """``torch.optim.RMSprop`` by hand: see :func:`~companion.optim.rules.rmsprop_step`."""

    rule = rules.rmsprop_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.rmsprop_step)


class ReferenceAdagrad(ReferenceOptimizer):
    """``torch.optim.Adagrad`` by hand: see :func:`~companion.optim.rules.adagrad_step`."""

    rule = rules.adagrad_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.adagrad_step)


class ReferenceAdadelta(ReferenceOptimizer):
    """``torch.optim.Adadelta`` by hand: see :func:`~companion.optim.rules.adadelta_step`."""

    rule = rules.adadelta_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.adadelta_step)


class ReferenceRprop(ReferenceOptimizer):
    """``torch.optim.Rprop`` by hand: see :func:`~companion.optim.rules.rprop_step`."""

    rule = rules.rprop_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.rprop_step)


#: Each ``torch.optim`` class that has a by-hand reference, and that reference.
REFERENCES: dict[type[torch.optim.Optimizer], type[ReferenceOptimizer]] = {
    torch.optim.SGD: ReferenceSGD,
    torch.optim.Adam: ReferenceAdam,
    torch.optim.AdamW: ReferenceAdamW,
    torch.optim.Adamax: ReferenceAdamax,
    torch.optim.NAdam: ReferenceNAdam,
    torch.optim.RAdam: ReferenceRAdam,
    torch.optim.RMSprop: ReferenceRMSprop,
    torch.optim.Adagrad: ReferenceAdagrad,
    torch.optim.Adadelta: ReferenceAdadelta,
    torch.optim.Rprop: ReferenceRprop,
}
