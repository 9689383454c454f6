"""``companion.optim``: optimizers, by hand and in action.

* :mod:`~companion.optim.ewma`: :func:`ewma`, the exponentially weighted
  moving average behind momentum, RMSprop and Adam, with optional bias
  correction;
* :mod:`~companion.optim.rules`: the update rule of each main ``torch.optim``
  optimizer written from its formula (``sgd_step``, ``adam_step``, ...,
  ``lbfgs_step`` for L-BFGS, which works on all parameters at once);
* :mod:`~companion.optim.reference`: those rules as ``torch.optim.Optimizer``
  subclasses (``ReferenceSGD``, ``ReferenceAdam``, ...), and ``REFERENCES``,
  which maps each torch optimizer to its reference;
* :mod:`~companion.optim.trajectory`: :func:`trajectory`, which runs an
  optimizer on a function of one tensor and records its path, and the test
  function :func:`rosenbrock`.
"""

from __future__ import annotations

from .ewma import ewma
from .reference import (
    REFERENCES,
    ReferenceAdadelta,
    ReferenceAdafactor,
    ReferenceAdagrad,
    ReferenceAdam,
    ReferenceAdamax,
    ReferenceAdamW,
    ReferenceASGD,
    ReferenceLBFGS,
    ReferenceMuon,
    ReferenceNAdam,
    ReferenceOptimizer,
    ReferenceRAdam,
    ReferenceRMSprop,
    ReferenceRprop,
    ReferenceSGD,
    ReferenceSparseAdam,
)
from .rules import (
    adadelta_step,
    adafactor_step,
    adagrad_step,
    adam_step,
    adamax_step,
    asgd_step,
    lbfgs_step,
    muon_step,
    nadam_step,
    newton_schulz,
    radam_step,
    rmsprop_step,
    rprop_step,
    sgd_step,
    sparse_adam_step,
)
from .trajectory import Trajectory, rosenbrock, trajectory

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
    "Trajectory",
    "adadelta_step",
    "adafactor_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "asgd_step",
    "ewma",
    "lbfgs_step",
    "muon_step",
    "nadam_step",
    "newton_schulz",
    "radam_step",
    "rmsprop_step",
    "rprop_step",
    "rosenbrock",
    "sgd_step",
    "sparse_adam_step",
    "trajectory",
]
