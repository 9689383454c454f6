"""``companion``: the tested package behind *Loss Functions, Regularization and
Optimization in PyTorch (and Keras)*.

The top level gathers what every notebook of the book needs first:

* :func:`setup` seeds every random number generator in use, switches on
  deterministic algorithms and quiets framework logs;
* :func:`device` picks the ``torch.device`` the notebooks compute on;
* :func:`show` prints tensors, arrays and numbers the same way whichever device
  computed them;
* :func:`show_source` prints the source of a package object, so that a page
  showing package code is re-checked whenever the package changes.
"""

from __future__ import annotations

from . import info
from ._version import __version__
from .display import fmt, show, show_source
from .runtime import device, quiet, setup

__all__ = [
    "__version__",
    "device",
    "fmt",
    "info",
    "quiet",
    "setup",
    "show",
    "show_source",
]
