"""By-hand reference implementations of the ``torch.nn`` losses.

One function per loss, named and parametrized like its ``torch.nn.functional``
counterpart, written from the formula with elementary tensor operations only
(no torch loss function is called). Teaching code: readable first, exact in
float64.

* :mod:`~companion.reference.classification`: ``cross_entropy``, ``nll_loss``,
  ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``;
* :mod:`~companion.reference.likelihood`: ``kl_div``, ``poisson_nll_loss``,
  ``gaussian_nll_loss``;
* :mod:`~companion.reference.regression`: ``l1_loss``, ``mse_loss``, ``smooth_l1_loss``,
  ``huber_loss``, and the metrics ``rmse``, ``mape``, ``msle``;
* :mod:`~companion.reference.margin`: the margin and ranking losses;
* :mod:`~companion.reference.embedding`: the losses on pairs and triplets of embeddings;
* :mod:`~companion.reference.ctc`: ``ctc_loss``;
* :mod:`~companion.reference.adaptive`: ``adaptive_log_softmax_with_loss``;
* :mod:`~companion.reference.linear_ce`: ``linear_cross_entropy``.

Arguments are checked like the production losses' (see ``book/api.md``): class-index targets of
any integer dtype are converted, never wrapped, ±1 targets converted before negation. NaN policy:
predictions are not inspected (NaN in, NaN out, as in torch); the values a function checks
(probability inputs and targets, ``var``, the metrics' inputs) reject NaN with ``ValueError``.
"""

from __future__ import annotations

from .adaptive import (
    ASMOutput,
    adaptive_log_prob,
    adaptive_log_softmax_with_loss,
    adaptive_parameters,
    adaptive_predict,
)
from .classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_sigmoid,
    log_softmax,
    nll_loss,
)
from .ctc import ctc_alpha, ctc_loss, extended_targets
from .embedding import (
    cosine_embedding_loss,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .likelihood import gaussian_nll_loss, kl_div, poisson_nll_loss
from .linear_ce import linear_cross_entropy
from .margin import (
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from .regression import huber_loss, l1_loss, mape, mse_loss, msle, rmse, smooth_l1_loss

__all__: list[str] = [
    "ASMOutput",
    "adaptive_log_prob",
    "adaptive_log_softmax_with_loss",
    "adaptive_parameters",
    "adaptive_predict",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_alpha",
    "ctc_loss",
    "extended_targets",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "log_sigmoid",
    "log_softmax",
    "mape",
    "margin_ranking_loss",
    "mse_loss",
    "msle",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "pairwise_distance",
    "poisson_nll_loss",
    "rmse",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
