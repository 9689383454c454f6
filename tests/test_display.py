from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import fmt, show, show_source


def test_tensor_prints_without_autograd_or_device_noise() -> None:
    w = torch.tensor([0.25, -1.0], requires_grad=True)
    y = (w * 3).sum()
    assert "grad_fn" in repr(y)
    assert fmt(y) == "tensor(-2.2500)"


def test_values_are_rounded_at_fixed_precision() -> None:
    t = torch.tensor([1.31326175, 0.12692801, 0.12692805])
    assert fmt(t) == "tensor([1.3133, 0.1269, 0.1269])"
    assert fmt(t, precision=2) == "tensor([1.31, 0.13, 0.13])"


def test_last_bit_differences_print_the_same() -> None:
    # Two float32 results that differ only in their last bits, as a CPU and a GPU reduction may.
    x = torch.tensor([0.123456], dtype=torch.float32)
    y = torch.nextafter(x, torch.tensor([1.0]))
    assert not torch.equal(x, y)
    assert fmt(x) == fmt(y)


def test_negative_zero_prints_as_zero() -> None:
    assert fmt(torch.tensor([-1e-9, 1e-9])) == "tensor([0., 0.])"
    assert fmt(-1e-9) == "0.0000"
    assert fmt(np.array([-1e-9, 0.5])) == "array([0.0000, 0.5000])"


def test_non_default_dtypes_keep_their_name() -> None:
    assert fmt(torch.tensor([0.5], dtype=torch.float64)) == "tensor([0.5000], dtype=torch.float64)"
    assert fmt(torch.tensor([1.0, 2.0], dtype=torch.bfloat16) / 3) == "tensor([0.3340, 0.6680], dtype=torch.bfloat16)"
    assert fmt(torch.tensor([], dtype=torch.float64)) == "tensor([], dtype=torch.float64)"
    assert fmt(torch.arange(3)) == "tensor([0, 1, 2])"
    assert fmt(torch.tensor([True, False])) == "tensor([ True, False])"


def test_non_finite_values_survive() -> None:
    assert fmt(torch.tensor([float("nan"), float("inf"), -float("inf")])) == "tensor([nan, inf, -inf])"
    assert fmt(math.nan) == "nan"


def test_scalars_containers_and_strings() -> None:
    assert fmt(np.float32(0.25)) == "0.2500"
    assert fmt(3) == "3"
    assert fmt(True) == "True"
    assert fmt([0.5, (2,), "x"]) == "[0.5000, (2,), x]"
    assert fmt({"loss": torch.tensor(0.0184)}) == "{loss: tensor(0.0184)}"


@pytest.mark.parametrize("precision", [-1, 16, 2.0, True])
def test_bad_precision_is_rejected(precision: object) -> None:
    with pytest.raises((TypeError, ValueError), match="precision"):
        fmt(1.0, precision=precision)  # type: ignore[arg-type]


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 6))
def test_printed_number_is_the_value_rounded(value: float, precision: int) -> None:
    text = fmt(torch.tensor(value, dtype=torch.float64), precision=precision)
    assert text.startswith("tensor(") and text.endswith(", dtype=torch.float64)")
    printed = float(text[len("tensor(") : -len(", dtype=torch.float64)")])
    assert abs(printed - value) <= 0.5 * 10**-precision * (1 + 1e-9)
    assert not text.startswith("tensor(-0.") or printed != 0.0


def test_show_prints_positional_then_named(capsys: pytest.CaptureFixture[str]) -> None:
    show(torch.tensor(0.018149), 2.0, loss=torch.tensor([0.5]), step=3)
    assert capsys.readouterr().out == "tensor(0.0181) 2.0000\nloss: tensor([0.5000])\nstep: 3\n"


def _halve(x: float) -> float:
    """Half of x.

    Long description.
    """
    return x / 2


def test_show_source_with_and_without_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    show_source(_halve)
    full = capsys.readouterr().out
    assert full.startswith("def _halve(x: float) -> float:\n") and "Half of x." in full
    show_source(_halve, docstring=False)
    assert capsys.readouterr().out == "def _halve(x: float) -> float:\n    return x / 2\n"


def test_show_source_rejects_builtins() -> None:
    with pytest.raises(TypeError, match="show_source"):
        show_source(len)


def test_pandas_objects_print_as_rounded_text() -> None:
    import pandas as pd

    df = pd.DataFrame({"loss": [0.123456, -1e-9], "epoch": [1, 2], "name": ["a", "b"]})
    assert fmt(df, precision=3) == pd.DataFrame({"loss": [0.123, 0.0], "epoch": [1, 2], "name": ["a", "b"]}).to_string()
    assert "-0" not in fmt(df)
    series = pd.Series([0.5, 2 / 3], name="acc")
    assert fmt(series, precision=2) == pd.Series([0.5, 0.67], name="acc").to_string()


def test_dtype_on_its_own_line_is_handled() -> None:
    # A long row makes torch wrap ", dtype=..." onto a new line.
    t = torch.linspace(-1, 1, 40)
    text = fmt(t)
    assert "float64" not in text and text.endswith("])")
    assert text.count(".") == 40
    wide = fmt(t.double())
    assert wide.endswith("dtype=torch.float64)")
