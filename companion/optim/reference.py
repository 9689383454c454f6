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
    "ReferenceASGD",
    "ReferenceAdadelta",
    "ReferenceAdafactor",
    "ReferenceAdagrad",
    "ReferenceAdam",
    "ReferenceAdamW",
    "ReferenceAdamax",
    "ReferenceLBFGS",
    "ReferenceMuon",
    "ReferenceNAdam",
    "ReferenceOptimizer",
    "ReferenceRAdam",
    "ReferenceRMSprop",
    "ReferenceRprop",
    "ReferenceSGD",
    "ReferenceSparseAdam",
]


def _keywords(rule: Callable[..., object], **overrides: Any) -> dict[str, Any]:
    """The rule's keyword-only hyperparameters with their defaults, ``overrides`` replacing some."""
    keywords = {n: p for n, p in inspect.signature(rule).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(overrides) - set(keywords))
    if unknown:
        raise TypeError(f"{rule.__name__} has no hyperparameter(s) {unknown}")
    defaults = {n: p.default for n, p in keywords.items() if p.default is not inspect.Parameter.empty}
    return {**defaults, **overrides}


def _check_state_shapes(
    state: Any, param: torch.Tensor, expected: Callable[[str, torch.Tensor], tuple[int, ...]]
) -> None:
    """``ValueError`` if a state buffer (from ``load_state_dict``, say) does not have the shape ``expected`` says.

    ``expected(key, param)`` is the shape of buffer ``key``: the parameter's own for every
    optimizer but Adafactor, whose factored second moments are a column and a row.
    """
    if not isinstance(state, dict):
        return  # the rule itself refuses it
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        shape = expected(key, param)
        if tuple(value.shape) != shape:
            what = "its parameter has shape" if shape == tuple(param.shape) else "its parameter needs"
            raise ValueError(
                f"state[{key!r}] has shape {tuple(value.shape)} but {what} {shape}: "
                "was a state_dict loaded for other parameters?"
            )


class ReferenceOptimizer(torch.optim.Optimizer):
    """Base class: an optimizer that applies a by-hand ``rule`` to every parameter with a gradient.

    Subclasses set ``rule`` (a function of :mod:`companion.optim.rules`) and
    ``hyperparameters`` (every keyword of the rule with its default, read from the
    rule's signature, with the torch class's defaults where they differ). Parameters without a
    gradient are skipped, as in ``torch.optim``.

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
        try:
            self._dry_run({k: group[k] for k in self.hyperparameters})
        except Exception:
            self.param_groups.pop()  # a refused group leaves the optimizer as it was
            raise

    def _dry_run(self, hyper: dict[str, Any]) -> None:
        """Run the rule once on scratch tensors: its argument checks are the optimizer's."""
        scratch = torch.zeros(1, dtype=torch.float64)
        type(self).rule(scratch, torch.zeros_like(scratch), {}, **hyper)

    def _state_shape(self, key: str, param: torch.Tensor) -> tuple[int, ...]:
        """The shape of the state buffer ``key`` of ``param``: the parameter's own."""
        return tuple(param.shape)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = {k: group[k] for k in self.hyperparameters}
            for p in group["params"]:
                if p.grad is not None:
                    _check_state_shapes(self.state[p], p, self._state_shape)
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


class ReferenceASGD(ReferenceOptimizer):
    """``torch.optim.ASGD`` by hand: see :func:`~companion.optim.rules.asgd_step`.

    The averaged parameters are ``optimizer.state[p]["ax"]``, as in torch.
    """

    rule = rules.asgd_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.asgd_step)


class ReferenceSparseAdam(ReferenceOptimizer):
    """``torch.optim.SparseAdam`` by hand: see :func:`~companion.optim.rules.sparse_adam_step`.

    For parameters whose gradients are sparse, such as ``nn.Embedding(..., sparse=True)``'s weight.
    """

    rule = rules.sparse_adam_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.sparse_adam_step)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of dense parameters (their gradients are the sparse ones)."""
        params = param_group["params"]
        for p in [params] if isinstance(params, torch.Tensor) else list(params):
            if isinstance(p, torch.Tensor) and p.is_sparse:
                raise ValueError("SparseAdam takes dense parameters (with sparse gradients), got a sparse parameter")
        super().add_param_group(param_group)

    def _dry_run(self, hyper: dict[str, Any]) -> None:
        scratch = torch.zeros(1, dtype=torch.float64)
        type(self).rule(scratch, torch.zeros_like(scratch).to_sparse(), {}, **hyper)


class ReferenceAdafactor(ReferenceOptimizer):
    """``torch.optim.Adafactor`` by hand: see :func:`~companion.optim.rules.adafactor_step`."""

    rule = rules.adafactor_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.adafactor_step)

    def _state_shape(self, key: str, param: torch.Tensor) -> tuple[int, ...]:
        """A matrix's second moment is factored: ``row_var`` is a column, ``col_var`` a row."""
        shape = tuple(param.shape)
        if param.dim() > 1 and key == "row_var":
            return (*shape[:-1], 1)
        if param.dim() > 1 and key == "col_var":
            return (*shape[:-2], 1, shape[-1])
        return shape


class ReferenceMuon(ReferenceOptimizer):
    """``torch.optim.Muon`` by hand: see :func:`~companion.optim.rules.muon_step`. Two-dimensional parameters only."""

    rule = rules.muon_step
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.muon_step)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of matrices; any other shape is an error, as in torch."""
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            if p.ndim != 2:
                raise ValueError(f"Muon updates two-dimensional parameters only, got shape {tuple(p.shape)}")

    def _dry_run(self, hyper: dict[str, Any]) -> None:
        scratch = torch.zeros(2, 2, dtype=torch.float64)
        type(self).rule(scratch, torch.zeros_like(scratch), {}, **hyper)


class ReferenceLBFGS(ReferenceOptimizer):
    """``torch.optim.LBFGS`` by hand: see :func:`~companion.optim.rules.lbfgs_step`.

    One parameter group; ``step`` needs a closure. The state lives under the
    first parameter, as in torch, so the ``state_dict()`` of either loads into the other.
    """

    rule = rules.lbfgs_step  # type: ignore[assignment]
    hyperparameters: ClassVar[dict[str, Any]] = _keywords(rules.lbfgs_step)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """LBFGS has a single group: a second one is an error, as in torch.

        ``max_eval=None`` is stored as ``max_iter * 5 // 4``, as torch stores it, so
        that torch's LBFGS can load this optimizer's ``state_dict``.
        """
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)
        group = self.param_groups[0]
        if group["max_eval"] is None:
            group["max_eval"] = group["max_iter"] * 5 // 4

    def _dry_run(self, hyper: dict[str, Any]) -> None:
        scratch = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        rules.lbfgs_step([scratch], lambda: (scratch.grad is None) * scratch.sum(), {}, **hyper)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Up to ``max_iter`` L-BFGS iterations; ``closure`` (required) recomputes the loss and gradients."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that recomputes the loss and its gradients")
        params = self.param_groups[0]["params"]
        hyper = {k: self.param_groups[0][k] for k in self.hyperparameters}
        return rules.lbfgs_step(params, closure, self.state[params[0]], **hyper)


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
    torch.optim.ASGD: ReferenceASGD,
    torch.optim.SparseAdam: ReferenceSparseAdam,
    torch.optim.LBFGS: ReferenceLBFGS,
    torch.optim.Adafactor: ReferenceAdafactor,
    torch.optim.Muon: ReferenceMuon,
}
