"""The sweep's registry: one valid call of every public function and class of ``companion``.

``tests/test_sweep.py`` walks the package (every public module's ``__all__``) and looks each
callable up here by its defining module and name. A new public function without an entry
fails the sweep, with a message saying to add one: the entry is one valid call (the
arguments, made fresh for every case), from which the generic argument probes are derived
(numbers, NumPy scalars, flags, reductions), plus the hand-written edge and bad-input cases
of ``tests/test_sweep.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

Args = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass
class Entry:
    """One valid call of a public callable, and what the generic probes may assume about it."""

    call: Callable[[], Args]
    #: parameters the generic probes leave alone, with the reason
    skip: dict[str, str] = field(default_factory=dict)
    #: known defects in modules this change does not own, by probe (``"param-label"`` or ``"label"``): xfail
    xfail: dict[str, str] = field(default_factory=dict)
    #: hyperparameters with defaults that the signature does not show (``**hyperparameters``)
    defaults: dict[str, Any] | None = None


def a(*args: Any, **kwargs: Any) -> Callable[[], Args]:
    """A call factory; tensors are rebuilt for every case by the lambdas that use it."""
    return lambda: (args, kwargs)


def _x() -> torch.Tensor:
    return torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=torch.float64)


def _y01() -> torch.Tensor:
    return torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.float64)


def _ypm() -> torch.Tensor:
    return torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]], dtype=torch.float64)


def _t() -> torch.Tensor:
    return torch.tensor([0, 2])


def _p() -> torch.Tensor:
    return torch.tensor([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]], dtype=torch.float64)


def _asm() -> dict[str, Any]:
    torch.manual_seed(0)
    from companion.reference import adaptive_parameters

    module = nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2], div_value=2.0).double()
    return adaptive_parameters(module)


def _loader() -> Any:
    from torch.utils.data import DataLoader, TensorDataset

    x = torch.linspace(-1, 1, 8).unsqueeze(1)
    return DataLoader(TensorDataset(x, 2 * x), batch_size=4)


def _fit_args() -> Args:
    torch.manual_seed(0)
    net = nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return (net, nn.MSELoss(), opt, _loader()), {"epochs": 1, "device": "cpu"}


def _opt_args() -> Args:
    return ([torch.zeros(2, requires_grad=True)],), {}


def _rule_args(**kw: Any) -> Callable[[], Args]:
    return lambda: ((torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), {}), dict(kw))


def _sparse_rule_args() -> Args:
    grad = torch.sparse_coo_tensor([[1]], [[2.0, -2.0]], (3, 2), dtype=torch.float64, check_invariants=True)
    return (torch.zeros(3, 2, dtype=torch.float64), grad, {}), {}


def _lbfgs_args() -> Args:
    x = torch.tensor([3.0, -1.0], dtype=torch.float64, requires_grad=True)

    def closure() -> torch.Tensor:
        x.grad = None
        loss = (x**2).sum()
        loss.backward()
        return loss

    return ([x], closure, {}), {"max_iter": 2}


def _range_test_args() -> Args:
    torch.manual_seed(0)
    net = nn.Linear(1, 1)
    x = torch.linspace(-1, 1, 8).unsqueeze(1)
    data = [(x[:4], 2 * x[:4]), (x[4:], 2 * x[4:])]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return (net, nn.functional.mse_loss, opt, data), {"start_lr": 1e-4, "end_lr": 1e-2, "num_steps": 4}


def _schedules() -> list[Any]:
    from companion import schedules

    return [schedules.exponential_lr_schedule(1.0, 0.5), schedules.constant_lr_schedule(1.0, 0.5, total_iters=2)]


def _lengths_ctc() -> Args:
    lp = torch.randn(5, 1, 4, dtype=torch.float64).log_softmax(2)
    return (lp, torch.tensor([[1, 2]]), [5], [2]), {}


def registry() -> dict[str, Entry]:
    """Every public callable by ``module.qualname``, with one valid call."""
    x, y01, ypm, t = _x, _y01, _ypm, _t
    emb = lambda: torch.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=torch.float64)  # noqa: E731
    emb2 = lambda: torch.tensor([[0.0, 1.0], [0.5, 1.0]], dtype=torch.float64)  # noqa: E731
    r = {
        # --- top level, display, runtime
        "companion.display.fmt": Entry(a(1.5)),
        "companion.display.show": Entry(a(1.5)),
        "companion.display.show_source": Entry(lambda: ((_x,), {})),
        "companion.runtime.setup": Entry(a(0)),
        "companion.runtime.device": Entry(a()),
        "companion.runtime.quiet": Entry(a()),
        "companion.runtime.Captured": Entry(a()),
        # --- distributed (no process group here: each loss is its single-process mean)
        "companion.distributed.global_mean": Entry(lambda: ((x().sum(), 4.0), {})),
        "companion.distributed.global_cross_entropy": Entry(lambda: ((x(), t()), {})),
        "companion.distributed.global_sigmoid_focal_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.distributed.global_sce_loss": Entry(lambda: ((x(), t()), {})),
        "companion.distributed.is_distributed": Entry(a()),
        "companion.distributed.world_size": Entry(a()),
        "companion.distributed.rank": Entry(a()),
        "companion.distributed.free_port": Entry(a()),
        "companion.distributed.run_torchrun": Entry(
            # one worker that does nothing: the valid call starts a real (one-process) job
            a(str(Path(__file__).with_name("sweep_noop_job.py")), nproc_per_node=1),
            skip={
                "nproc_per_node": "a valid value starts a real job; tests/test_distributed.py runs them",
                "timeout": "a valid value starts a real job; tests/test_distributed.py runs them",
            },
        ),
        # --- info
        "companion.info.entropy": Entry(lambda: ((_p(),), {})),
        "companion.info.cross_entropy": Entry(lambda: ((_p(), _p()), {})),
        "companion.info.kl_divergence": Entry(lambda: ((_p(), _p()), {})),
        "companion.info.binary_entropy": Entry(lambda: ((torch.tensor([0.0, 0.3, 1.0]),), {})),
        "companion.info.logsumexp": Entry(lambda: ((x(),), {})),
        "companion.info.log_softmax": Entry(lambda: ((x(),), {})),
        "companion.info.softmax": Entry(lambda: ((x(),), {})),
        # --- production losses
        "companion.losses.focal.sigmoid_focal_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.losses.focal.binary_focal_loss_from_probs": Entry(lambda: ((_p(), y01()), {})),
        "companion.losses.focal.softmax_focal_loss": Entry(lambda: ((x(), t()), {})),
        "companion.losses.focal.FocalLoss": Entry(a()),
        "companion.losses.focal.SoftmaxFocalLoss": Entry(a()),
        "companion.losses.sce.sce_loss": Entry(lambda: ((x(), t()), {})),
        "companion.losses.sce.SCELoss": Entry(a()),
        "companion.losses.log_cosh.log_cosh": Entry(lambda: ((x(),), {})),
        "companion.losses.log_cosh.log_cosh_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.losses.log_cosh.LogCoshLoss": Entry(a()),
        # --- references: classification and likelihood
        "companion.reference.classification.cross_entropy": Entry(lambda: ((x(), t()), {})),
        "companion.reference.classification.nll_loss": Entry(lambda: ((x().log_softmax(1), t()), {})),
        "companion.reference.classification.binary_cross_entropy": Entry(lambda: ((_p(), y01()), {})),
        "companion.reference.classification.binary_cross_entropy_with_logits": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.classification.log_softmax": Entry(lambda: ((x(),), {})),
        "companion.reference.classification.log_sigmoid": Entry(lambda: ((x(),), {})),
        "companion.reference.likelihood.kl_div": Entry(lambda: ((_p().log(), _p()), {})),
        "companion.reference.likelihood.poisson_nll_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.likelihood.gaussian_nll_loss": Entry(lambda: ((x(), y01(), 1.0), {})),
        # --- references: regression and metrics
        "companion.reference.regression.l1_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.regression.mse_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.regression.smooth_l1_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.regression.huber_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.regression.rmse": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.regression.mape": Entry(lambda: ((x(), y01() + 1), {})),
        "companion.reference.regression.msle": Entry(lambda: ((x().abs(), y01()), {})),
        # --- references: margin and embedding
        "companion.reference.margin.margin_ranking_loss": Entry(lambda: ((x(), y01(), ypm()), {})),
        "companion.reference.margin.hinge_embedding_loss": Entry(lambda: ((x().abs(), ypm()), {})),
        "companion.reference.margin.soft_margin_loss": Entry(lambda: ((x(), ypm()), {})),
        "companion.reference.margin.multilabel_soft_margin_loss": Entry(lambda: ((x(), y01()), {})),
        "companion.reference.margin.multilabel_margin_loss": Entry(
            lambda: ((x(), torch.tensor([[0, -1, 0], [2, 1, -1]])), {})
        ),
        "companion.reference.margin.multi_margin_loss": Entry(lambda: ((x(), t()), {})),
        "companion.reference.embedding.pairwise_distance": Entry(lambda: ((emb(), emb2()), {})),
        "companion.reference.embedding.cosine_embedding_loss": Entry(
            lambda: ((emb(), emb2(), torch.tensor([1.0, -1.0])), {})
        ),
        "companion.reference.embedding.triplet_margin_loss": Entry(
            lambda: ((emb(), emb2(), emb2() + 1), {}), skip={"p": "a real norm order whose default is the int 2"}
        ),
        "companion.reference.embedding.triplet_margin_with_distance_loss": Entry(
            lambda: ((emb(), emb2(), emb2() + 1), {})
        ),
        # --- references: CTC, adaptive softmax, linear cross entropy
        "companion.reference.ctc.ctc_loss": Entry(_lengths_ctc),
        "companion.reference.ctc.ctc_alpha": Entry(
            lambda: ((torch.randn(3, 4, dtype=torch.float64).log_softmax(1), torch.tensor([1, 2])), {})
        ),
        "companion.reference.ctc.extended_targets": Entry(lambda: ((torch.tensor([1, 2]),), {})),
        "companion.reference.adaptive.adaptive_parameters": Entry(
            lambda: ((nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2]),), {})
        ),
        "companion.reference.adaptive.adaptive_log_softmax_with_loss": Entry(
            lambda: (
                (torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 3, 5])),
                {k: v for k, v in _asm().items() if k in ("head_weight", "tail_weights", "cutoffs", "head_bias")},
            )
        ),
        "companion.reference.adaptive.adaptive_log_prob": Entry(
            lambda: (
                (torch.randn(3, 4, dtype=torch.float64),),
                {k: v for k, v in _asm().items() if k in ("head_weight", "tail_weights", "cutoffs", "head_bias")},
            )
        ),
        "companion.reference.adaptive.adaptive_predict": Entry(
            lambda: (
                (torch.randn(3, 4, dtype=torch.float64),),
                {k: v for k, v in _asm().items() if k in ("head_weight", "tail_weights", "cutoffs", "head_bias")},
            )
        ),
        "companion.reference.adaptive.ASMOutput": Entry(lambda: ((torch.zeros(1), torch.zeros(())), {})),
        "companion.reference.linear_ce.linear_cross_entropy": Entry(
            lambda: ((x(), torch.eye(3, dtype=torch.float64), t()), {})
        ),
        # --- regularization
        "companion.regularization.l1_penalty": Entry(lambda: ((x(),), {})),
        "companion.regularization.l2_penalty": Entry(lambda: ((x(),), {})),
        "companion.regularization.decay_parameters": Entry(lambda: ((nn.Linear(2, 2),), {})),
        "companion.regularization.param_groups": Entry(lambda: ((nn.Linear(2, 2), 0.1), {})),
        "companion.regularization.prox_l1_": Entry(lambda: ((x(), 0.1), {})),
        # --- optim
        "companion.optim.ewma.ewma": Entry(lambda: ((np.ones(4), 0.5), {})),
        "companion.optim.trajectory.rosenbrock": Entry(lambda: ((torch.tensor([0.5, 0.5]),), {})),
        "companion.optim.trajectory.trajectory": Entry(
            lambda: ((lambda v: (v**2).sum(), [1.0], torch.optim.SGD, 2), {"lr": 0.1})
        ),
        "companion.optim.trajectory.Trajectory": Entry(lambda: ((torch.zeros(1), torch.zeros(1)), {})),
        "companion.optim.rules.sgd_step": Entry(_rule_args(lr=0.1)),
        "companion.optim.rules.adam_step": Entry(_rule_args()),
        "companion.optim.rules.adamax_step": Entry(_rule_args()),
        "companion.optim.rules.nadam_step": Entry(_rule_args()),
        "companion.optim.rules.radam_step": Entry(_rule_args()),
        "companion.optim.rules.rmsprop_step": Entry(_rule_args()),
        "companion.optim.rules.adagrad_step": Entry(_rule_args()),
        "companion.optim.rules.adadelta_step": Entry(_rule_args()),
        "companion.optim.rules.rprop_step": Entry(_rule_args()),
        "companion.optim.rules.asgd_step": Entry(_rule_args()),
        "companion.optim.rules.sparse_adam_step": Entry(_sparse_rule_args),
        "companion.optim.rules.adafactor_step": Entry(
            lambda: ((torch.ones(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64), {}), {})
        ),
        "companion.optim.rules.muon_step": Entry(
            lambda: ((torch.zeros(2, 3, dtype=torch.float64), torch.eye(2, 3, dtype=torch.float64), {}), {})
        ),
        "companion.optim.rules.newton_schulz": Entry(lambda: ((torch.eye(2, 3, dtype=torch.float64),), {})),
        "companion.optim.rules.lbfgs_step": Entry(_lbfgs_args),
        # --- measures of one step
        "companion.measure.LargestTensor": Entry(a()),
        "companion.measure.largest_tensor_bytes": Entry(lambda: ((lambda: torch.ones(3) * 2,), {})),
        "companion.measure.new_tensors": Entry(lambda: ((lambda: torch.ones(3) * 2, 3), {})),
        "companion.measure.flops": Entry(lambda: ((lambda: torch.ones(2, 3) @ torch.ones(3, 2),), {})),
        "companion.measure.best_seconds": Entry(lambda: ((lambda: None,), {"repeats": 2})),
        # --- learning-rate range test
        "companion.lr_finder.lr_range_test": Entry(_range_test_args),
        "companion.lr_finder.suggest_lr": Entry(a(np.geomspace(1e-4, 1.0, 5), np.array([2.0, 1.5, 1.0, 1.2, 3.0]))),
        "companion.lr_finder.RangeTest": Entry(a(np.ones(3), np.ones(3), np.ones(3), False, 1e-3, "valley")),
        # --- training
        "companion.training.accuracy": Entry(lambda: ((x(), t()), {})),
        "companion.training.EarlyStopping": Entry(a(2)),
        "companion.training.batch_loader": Entry(
            lambda: ((torch.utils.data.TensorDataset(torch.arange(6.0), torch.arange(6)), 4), {"shuffle": True})
        ),
        "companion.training.fit": Entry(_fit_args),
        "companion.training.evaluate": Entry(lambda: ((nn.Linear(1, 1), _loader(), nn.MSELoss()), {"device": "cpu"})),
        "companion.training.predict": Entry(lambda: ((nn.Linear(1, 1), _loader()), {"device": "cpu"})),
        # --- schedules (closed forms of torch's schedulers)
        "companion.schedules.step_lr": Entry(a(np.arange(4), 1.0, step_size=2)),
        "companion.schedules.multistep_lr": Entry(a(np.arange(4), 1.0, milestones=[2])),
        "companion.schedules.exponential_lr": Entry(a(np.arange(4), 1.0, gamma=0.5)),
        "companion.schedules.cosine_annealing_lr": Entry(a(np.arange(4), 1.0, T_max=4)),
        "companion.schedules.cosine_warm_restarts_lr": Entry(a(np.arange(4), 1.0, T_0=2)),
        "companion.schedules.linear_lr": Entry(a(np.arange(4), 1.0)),
        "companion.schedules.polynomial_lr": Entry(a(np.arange(4), 1.0)),
        "companion.schedules.cyclic_lr": Entry(a(np.arange(4), 0.1, 0.5, step_size_up=2)),
        "companion.schedules.one_cycle_lr": Entry(a(np.arange(4), 1.0, total_steps=5)),
        "companion.schedules.warmup_cosine": Entry(a(np.arange(4), 1.0, total_steps=6, warmup_steps=2)),
        "companion.schedules.constant_lr": Entry(a(np.arange(4), 1.0)),
        "companion.schedules.lambda_lr": Entry(a(np.arange(4), 1.0, lambda t: 0.5**t)),
        "companion.schedules.multiplicative_lr": Entry(a(np.arange(4), 1.0, lambda t: 0.5)),
        "companion.schedules.swa_lr": Entry(a(np.arange(4), 1.0, 0.2, anneal_epochs=2)),
        "companion.schedules.reduce_lr_on_plateau": Entry(a([1.0, 1.0, 0.5], 1.0, patience=1)),
        "companion.schedules.ReduceLROnPlateau": Entry(a(1.0)),
        "companion.schedules.step_lr_schedule": Entry(a(1.0, step_size=2)),
        "companion.schedules.multistep_lr_schedule": Entry(a(1.0, milestones=[2])),
        "companion.schedules.exponential_lr_schedule": Entry(a(1.0, gamma=0.5)),
        "companion.schedules.constant_lr_schedule": Entry(a(1.0)),
        "companion.schedules.cosine_annealing_lr_schedule": Entry(a(1.0, T_max=4)),
        "companion.schedules.cosine_warm_restarts_lr_schedule": Entry(a(1.0, T_0=2)),
        "companion.schedules.linear_lr_schedule": Entry(a(1.0)),
        "companion.schedules.polynomial_lr_schedule": Entry(a(1.0)),
        "companion.schedules.cyclic_lr_schedule": Entry(a(0.1, 0.5, step_size_up=2)),
        "companion.schedules.one_cycle_lr_schedule": Entry(a(1.0, total_steps=5)),
        "companion.schedules.swa_lr_schedule": Entry(a(1.0, 0.2, anneal_epochs=2)),
        "companion.schedules.warmup_cosine_schedule": Entry(a(1.0, total_steps=6, warmup_steps=2)),
        "companion.schedules.lambda_lr_schedule": Entry(a(1.0, lambda t: 0.5**t)),
        "companion.schedules.multiplicative_lr_schedule": Entry(a(1.0, lambda t: 0.5)),
        "companion.schedules.Schedule": Entry(a(lambda t: 0.1 * np.ones(t.shape), 0.1, "constant")),
        "companion.schedules.sequential_schedule": Entry(
            lambda: ((_schedules(), [2]), {}),
        ),
        "companion.schedules.chained_schedule": Entry(lambda: ((_schedules(),), {})),
        "companion.schedules.warmup_cosine_scheduler": Entry(
            lambda: ((torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), 6, 2), {}),
        ),
        "companion.schedules.lr_curve": Entry(a(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2), 3)),
        # --- keras
        "companion.keras.focal.binary_focal_loss": Entry(
            lambda: ((np.array([[1.0], [0.0]]), np.array([[0.7], [0.2]], dtype="float32")), {})
        ),
        "companion.keras.focal.BinaryFocalLoss": Entry(a()),
        "companion.keras.sce.symmetric_cross_entropy": Entry(
            lambda: ((np.array([0, 1]), np.array([[0.7, 0.3], [0.2, 0.8]], dtype="float32")), {})
        ),
        "companion.keras.sce.SymmetricCrossEntropy": Entry(a()),
    }
    from companion.optim import reference as optim_reference

    for name in optim_reference.__all__:
        cls = getattr(optim_reference, name)
        if isinstance(cls, type) and name != "ReferenceOptimizer":
            r[f"companion.optim.reference.{name}"] = Entry(_opt_args, defaults=dict(cls.hyperparameters))
    r["companion.optim.reference.ReferenceMuon"] = Entry(  # two-dimensional parameters only
        lambda: (([torch.zeros(2, 2, requires_grad=True)],), {}),
        defaults=dict(optim_reference.ReferenceMuon.hyperparameters),
    )
    r["companion.optim.reference.ReferenceOptimizer"] = Entry(
        lambda: ((), {}), skip={"*": "an abstract base: its subclasses are swept"}
    )
    # --- companion.optim.drift: implementation drift of foreach/fused kernels -------------------
    r["companion.optim.drift.implementation_drift"] = Entry(
        lambda: ((torch.optim.SGD, torch.float32, 3), {"lr": 0.1, "momentum": 0.9}),
    )
    # --- end optim.drift ------------------------------------------------------------------------
    return r
