"""Device-independent printing of numbers, and printing package source in the book.

Stored notebook outputs are compared, character for character, with a fresh
run on whatever machine runs the tests: a CPU here, a GPU elsewhere. Two things
would break that comparison if tensors were printed with plain ``print``:

* the ``device='cuda:0'`` and ``grad_fn=<...>`` parts of a tensor's repr, and
* the last bits of floating-point results, which differ between devices.

:func:`fmt` and :func:`show` move tensors to the CPU, drop those parts, and
round every value to a fixed number of decimals (4, like the source articles
print) before formatting it, so a tensor computed on any device prints the same.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import math
import re
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ._checks import check_bool, check_int

__all__ = ["fmt", "show", "show_source"]


def _check_precision(precision: int) -> int:
    return check_int(precision, "precision", low=0, high=15)


def _fmt_float(value: float, precision: int) -> str:
    if not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf'
    rounded = round(value, precision) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:.{precision}f}"


def _fmt_tensor(t: torch.Tensor, precision: int) -> str:
    t = t.detach().cpu()
    if t.layout != torch.strided:
        t = t.to_dense()
    if not (t.is_floating_point() or t.is_complex()):
        return repr(t)
    if t.is_complex():
        wide = torch.complex(_round64(t.real, precision), _round64(t.imag, precision))
        wide_name = "torch.complex128"
    else:
        wide = _round64(t, precision)
        wide_name = "torch.float64"
    with torch._tensor_str.printoptions(precision=precision):
        text = repr(wide)
    default = torch.complex64 if t.is_complex() else torch.get_default_dtype()
    suffix = "" if t.dtype == default else f", dtype={t.dtype}"
    # torch puts the dtype on a line of its own when the values fill the line
    return re.sub(rf",\s*dtype={re.escape(wide_name)}(?=\)$)", suffix, text)


def _round64(t: torch.Tensor, precision: int) -> torch.Tensor:
    return torch.round(t.to(torch.float64), decimals=precision) + 0.0


def _fmt_array(a: np.ndarray, precision: int) -> str:
    if np.issubdtype(a.dtype, np.floating):
        a = np.round(a, precision) + a.dtype.type(0.0)
    elif np.issubdtype(a.dtype, np.complexfloating):
        a = np.round(a, precision) + a.dtype.type(0.0)
    else:
        return repr(a)
    with np.printoptions(precision=precision, floatmode="fixed", suppress=True):
        return repr(a)


def _fmt_pandas(value: Any, precision: int) -> str | None:
    """A pandas DataFrame or Series as rounded plain text, or None for other objects."""
    pd = sys.modules.get("pandas")  # only objects of an already imported pandas can be pandas objects
    if pd is None or not isinstance(value, (pd.DataFrame, pd.Series)):
        return None
    rounded = value.copy()
    if isinstance(value, pd.Series):  # a Series may have no name (None): round it directly, not by column
        if pd.api.types.is_float_dtype(rounded):
            rounded = rounded.round(precision) + 0.0
    else:
        for col in rounded.columns:
            if pd.api.types.is_float_dtype(rounded[col]):
                rounded[col] = rounded[col].round(precision) + 0.0
    with pd.option_context("display.precision", precision, "display.width", 120):
        text: str = rounded.to_string()
    return text


def fmt(value: Any, precision: int = 4) -> str:
    """Format ``value`` as text that does not depend on the device that computed it.

    Tensors are detached and moved to the CPU; floating values of tensors,
    arrays, pandas objects and Python or NumPy scalars are rounded to
    ``precision`` decimals (``-0.0`` prints as ``0.0``); a pandas DataFrame or
    Series is printed as plain text (never its HTML form); lists, tuples and
    dicts are formatted item by item. Other objects are formatted with
    :func:`str`.

    Parameters
    ----------
    value:
        A tensor, array, number, string, or a list, tuple or dict of them.
    precision:
        Number of decimals, 0 to 15.

    Examples
    --------
    >>> import torch
    >>> fmt(torch.tensor([1.31326, 0.126928], requires_grad=True) * 1)
    'tensor([1.3133, 0.1269])'
    >>> fmt(torch.tensor(-1e-9, dtype=torch.float64))
    'tensor(0., dtype=torch.float64)'
    >>> fmt({"loss": 0.018149, "step": 3}, precision=3)
    '{loss: 0.018, step: 3}'
    """
    precision = _check_precision(precision)
    table = _fmt_pandas(value, precision)
    if table is not None:
        return table
    if isinstance(value, torch.Tensor):
        return _fmt_tensor(value, precision)
    if isinstance(value, np.ndarray):
        return _fmt_array(value, precision)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return _fmt_float(float(value), precision)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, Mapping):
        items = ", ".join(f"{k}: {fmt(v, precision)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v, precision) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(fmt(v, precision) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    return str(value)


def show(*values: Any, precision: int = 4, sep: str = " ", **named: Any) -> None:
    """Print values with :func:`fmt`, identically on every device.

    Positional values are printed on one line, separated by ``sep``, like
    :func:`print`. Keyword arguments are printed one per line as
    ``name: value``, which labels the numbers a notebook cell prints.

    Examples
    --------
    >>> import torch
    >>> show(torch.tensor(0.018149))
    tensor(0.0181)
    >>> show(bce=torch.tensor(0.018149), logits=0.0181490001)
    bce: tensor(0.0181)
    logits: 0.0181
    """
    if values:
        print(sep.join(fmt(v, precision) for v in values))
    for name, value in named.items():
        print(f"{name}: {fmt(value, precision)}")


def _strip_docstring(source: str) -> str:
    tree = ast.parse(source)
    node = tree.body[0]
    body = getattr(node, "body", None)
    if not body or not isinstance(body[0], ast.Expr):
        return source
    first = body[0].value
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return source
    lines = source.splitlines(keepends=True)
    start, end = body[0].lineno - 1, body[0].end_lineno or body[0].lineno
    return "".join(lines[:start] + lines[end:])


def show_source(obj: Any, *, docstring: bool = True) -> None:
    """Print the source code of a function, class or module of the package.

    A notebook that shows package code this way prints the code that is
    installed now, so the stored output (checked by nbval) goes stale, and the
    tests fail, as soon as the package changes and the page was not refreshed.

    Parameters
    ----------
    obj:
        A function, class, method or module.
    docstring:
        ``False`` leaves out the docstring of a function or class, to show the
        computation alone.

    """
    docstring = check_bool(docstring, "docstring")
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError, SyntaxError) as exc:
        # a lambda is part of a statement; inspect's block finder can fail on it (IndentationError):
        # show the line that defines it
        code = getattr(obj, "__code__", None)
        line = linecache.getline(code.co_filename, code.co_firstlineno) if code is not None else ""
        if getattr(obj, "__name__", None) != "<lambda>" or not line:
            raise TypeError(f"show_source needs a function, class or module defined in a file: {exc}") from None
        source = line.strip()
    if not docstring and not inspect.ismodule(obj):
        try:
            source = _strip_docstring(source)
        except SyntaxError:  # a fragment that does not parse alone: show it whole
            pass
    print(source.rstrip("\n"))
