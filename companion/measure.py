"""Machine-independent measures of one step of computation: memory, operations, time.

A training step's *largest new tensor* and its *floating-point operation count*
depend only on the shapes involved, not on the processor, so a page can print
them exactly; its wall-clock time depends on the machine and is only compared.
The loss catalogue uses these to weigh the adaptive softmax and the chunked
linear cross entropy against a full softmax.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

from ._checks import check_int

__all__ = ["LargestTensor", "best_seconds", "flops", "largest_tensor_bytes", "new_tensors"]


class LargestTensor(TorchDispatchMode):
    """Record the largest tensor with *new* storage that any operation returns, and count the large ones.

    Views and in-place results share an input's storage and are not counted, so
    the record is the largest allocation the operations themselves make.
    ``largest`` is its size in bytes; ``count`` is how many new tensors had at
    least ``min_numel`` elements.
    """

    def __init__(self, min_numel: int = 1) -> None:
        super().__init__()
        self.min_numel = check_int(min_numel, "min_numel", low=1)
        self.largest = 0
        self.count = 0

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        given = {t.untyped_storage().data_ptr() for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in given:
                self.largest = max(self.largest, t.untyped_storage().nbytes())
                self.count += t.numel() >= self.min_numel
        return out


def _check_step(step: Callable[[], object]) -> None:
    if not callable(step):
        raise TypeError(f"step must be a callable taking no arguments, got {type(step).__name__}")


def largest_tensor_bytes(step: Callable[[], object]) -> int:
    """The largest new tensor, in bytes, that any operation creates while ``step()`` runs.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(1000)
    >>> largest_tensor_bytes(lambda: (x * 2).sum())  # the product: 1000 float32 values
    4000
    """
    _check_step(step)
    mode = LargestTensor()
    with mode:
        step()
    return mode.largest


def new_tensors(step: Callable[[], object], min_numel: int) -> int:
    """How many new tensors of at least ``min_numel`` elements the operations create while ``step()`` runs.

    Views and in-place results are not new tensors. With ``min_numel`` the size of a
    step's input, this counts its full-size temporaries: each one is a pass over fresh
    memory.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(1000)
    >>> new_tensors(lambda: (x * 2).mul_(3).view(10, 100).sum(), 1000)  # only the product is new
    1
    """
    _check_step(step)
    mode = LargestTensor(min_numel)
    with mode:
        step()
    return mode.count


def flops(step: Callable[[], object]) -> int:
    """The floating-point operations that torch's ``FlopCounterMode`` counts while ``step()`` runs.

    The counter covers matrix products and convolutions (forward and backward),
    which dominate a model's cost; element-wise operations count as 0.

    Examples
    --------
    >>> import torch
    >>> a, b = torch.ones(4, 5), torch.ones(5, 3)
    >>> flops(lambda: a @ b)  # 2 * 4 * 5 * 3
    120
    """
    _check_step(step)
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def best_seconds(step: Callable[[], object], repeats: int = 3) -> float:
    """The shortest wall-clock time, in seconds, of ``repeats`` runs of ``step()``.

    The minimum is the least disturbed by other work on the machine; the value
    still depends on the machine, so compare it, do not print it.
    """
    _check_step(step)
    repeats = check_int(repeats, "repeats", low=1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)
