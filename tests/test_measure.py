"""companion.measure: the largest new tensor, the operation count and the best time of a step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from companion.measure import best_seconds, flops, largest_tensor_bytes, new_tensors


def test_largest_tensor_counts_new_storage_only() -> None:
    x = torch.ones(1000)
    assert largest_tensor_bytes(lambda: x.view(10, 100)) == 0  # a view allocates nothing
    assert largest_tensor_bytes(lambda: x.mul_(1.0)) == 0  # nor does an in-place op
    assert largest_tensor_bytes(lambda: torch.cat([x, x])) == 8000
    assert largest_tensor_bytes(lambda: x.double()) == 8000


def test_new_tensors_counts_large_new_storage_only() -> None:
    x = torch.ones(1000)
    assert new_tensors(lambda: x.view(10, 100), 1000) == 0
    assert new_tensors(lambda: x.mul_(1.0), 1000) == 0
    assert new_tensors(lambda: (x * 2, x[:10] * 2, torch.cat([x, x])), 1000) == 2  # the slice's product is small
    assert new_tensors(lambda: (x * 2, x[:10] * 2), 10) == 2
    with pytest.raises(ValueError, match="min_numel"):
        new_tensors(lambda: None, 0)


def test_largest_tensor_sees_the_backward_pass() -> None:
    lin = nn.Linear(50, 400, bias=False)
    h = torch.randn(32, 50)

    def step() -> None:
        lin(h).square().sum().backward()

    # the (32, 400) output and its gradient; the (400, 50) weight gradient is 20 000 values
    assert largest_tensor_bytes(step) == 4 * 400 * 50


def test_flops_of_a_linear_layer_forward_and_backward() -> None:
    lin = nn.Linear(6, 7, bias=False)
    h = torch.randn(5, 6, requires_grad=True)
    assert flops(lambda: lin(h)) == 2 * 5 * 6 * 7
    # backward: the input's gradient and the weight's gradient, one product each
    assert flops(lambda: lin(h).sum().backward()) == 3 * 2 * 5 * 6 * 7


def test_best_seconds_is_a_minimum_and_checks_its_arguments() -> None:
    calls: list[int] = []
    assert best_seconds(lambda: calls.append(1), repeats=4) >= 0
    assert len(calls) == 4
    with pytest.raises(ValueError, match="repeats"):
        best_seconds(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="callable"):
        flops(42)  # type: ignore[arg-type]
