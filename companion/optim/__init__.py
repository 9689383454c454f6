"""``companion.optim``: optimizers, by hand and in action.

* :mod:`~companion.optim.ewma`: :func:`ewma`, the exponentially weighted
  moving average behind momentum, RMSprop and Adam, with optional bias
  correction;
* :mod:`~companion.optim.rules`: the update rule of each main ``torch.optim``
  optimizer written from its formula (``sgd_step``, ``adam_step``, ...);
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
    ReferenceAdagrad,
    ReferenceAdam,
    ReferenceAdamax,
    ReferenceAdamW,
    ReferenceNAdam,
    ReferenceOptimizer,
    ReferenceRAdam,
    ReferenceRMSprop,
    ReferenceRprop,
    ReferenceSGD,
)
from .rules import (
    adadelta_step,
    adagrad_step,
    adam_step,
    adamax_step,
    nadam_step,
    radam_step,
    rmsprop_step,
    rprop_step,
    sgd_step,
)
from .trajectory import Trajectory, rosenbrock, trajectory

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
    "Trajectory",
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "ewma",
    "nadam_step",
    "radam_step",
    "rmsprop_step",
    "rprop_step",
    "rosenbrock",
    "sgd_step",
    "trajectory",
]
