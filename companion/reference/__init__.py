"""By-hand reference implementations of the ``torch.nn`` losses.

One function per loss, named and parametrized like its ``torch.nn.functional``
counterpart, written from the formula with elementary tensor operations only
(no torch loss function is called). Teaching code: readable first, exact in
float64.
"""

from __future__ import annotations

__all__: list[str] = []
