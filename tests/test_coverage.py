"""Every loss class of the installed torch has a by-hand reference and a section in the book.

The classes are found by enumerating ``torch.nn`` (every class whose name ends in ``Loss``,
plus ``AdaptiveLogSoftmaxWithLoss``), so a torch release that adds a loss makes this test fail
until the reference and the book cover it, or until it is listed in ``PENDING`` on purpose.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest
import torch.nn.functional as F
from conftest import ROOT
from torch import nn

import companion.reference

#: Loss classes that the reference and the book do not cover yet. Every name here must be a
#: class of the installed torch.nn and must really be uncovered, so the set cannot go stale.
PENDING: frozenset[str] = frozenset()

#: Functions of torch.nn.functional that a loss module calls as a building block rather than as
#: its functional form (``AdaptiveLogSoftmaxWithLoss`` calls ``log_softmax`` and has no ``F`` form).
BUILDING_BLOCKS = frozenset({"log_softmax", "softmax", "linear"})


def loss_classes() -> list[str]:
    names = [n for n in dir(nn) if n.endswith("Loss") and inspect.isclass(getattr(nn, n))]
    return sorted({*names, "AdaptiveLogSoftmaxWithLoss"})


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def functional_name(cls_name: str) -> str:
    """The ``torch.nn.functional`` function the class's ``forward`` calls, else its name in snake_case."""
    source = inspect.getsource(getattr(nn, cls_name).forward)
    called = {m for m in re.findall(r"\bF\.(\w+)\(", source) if m not in BUILDING_BLOCKS}
    if len(called) > 1:
        raise AssertionError(f"{cls_name}.forward calls several functional losses: {sorted(called)}")
    return called.pop() if called else snake_case(cls_name)


def headings_of(notebook: dict) -> list[str]:
    """The markdown lines of a notebook that start with '#'."""
    lines = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            lines += [line for line in "".join(cell["source"]).splitlines() if line.startswith("#")]
    return lines


def book_headings() -> list[str]:
    headings = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        headings += headings_of(json.loads(path.read_text(encoding="utf-8")))
    return headings


HEADINGS = book_headings()


def has_reference(cls_name: str) -> bool:
    name = functional_name(cls_name)
    return name in companion.reference.__all__ and callable(getattr(companion.reference, name, None))


def has_section(cls_name: str, headings: list[str] | None = None) -> bool:
    return any(f"`{cls_name}`" in heading for heading in (HEADINGS if headings is None else headings))


def test_the_enumeration_finds_the_loss_classes() -> None:
    classes = loss_classes()
    assert {"CrossEntropyLoss", "MSELoss", "CTCLoss", "AdaptiveLogSoftmaxWithLoss"} <= set(classes)
    assert all(issubclass(getattr(nn, c), nn.Module) for c in classes)


def test_functional_names() -> None:
    assert functional_name("BCELoss") == "binary_cross_entropy"
    assert functional_name("KLDivLoss") == "kl_div"
    assert functional_name("MultiLabelSoftMarginLoss") == "multilabel_soft_margin_loss"
    assert functional_name("AdaptiveLogSoftmaxWithLoss") == "adaptive_log_softmax_with_loss"
    assert snake_case("BCEWithLogitsLoss") == "bce_with_logits_loss"
    for cls_name in loss_classes():
        name = functional_name(cls_name)
        assert hasattr(F, name) or cls_name == "AdaptiveLogSoftmaxWithLoss", cls_name


@pytest.mark.parametrize("cls_name", [c for c in loss_classes() if c not in PENDING])
def test_loss_class_has_a_reference_function(cls_name: str) -> None:
    assert has_reference(cls_name), f"companion.reference has no {functional_name(cls_name)}() for nn.{cls_name}"


@pytest.mark.parametrize("cls_name", [c for c in loss_classes() if c not in PENDING])
def test_loss_class_has_a_section_in_the_book(cls_name: str) -> None:
    assert has_section(cls_name), f"no notebook in book/ has a heading that names `{cls_name}`"


def test_pending_names_are_torch_loss_classes_not_yet_covered() -> None:
    assert PENDING <= set(loss_classes()), sorted(PENDING - set(loss_classes()))
    covered = sorted(c for c in PENDING if has_reference(c) and has_section(c))
    assert not covered, f"covered now, remove from PENDING: {covered}"


def test_the_section_check_can_fail() -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["## `MSELoss`\n", "Unlike `L1Loss`, ..."]},
            {"cell_type": "markdown", "source": ["### Why HuberLoss"]},
            {"cell_type": "code", "source": ["# `SmoothL1Loss`"]},
        ]
    }
    headings = headings_of(notebook)
    assert headings == ["## `MSELoss`", "### Why HuberLoss"]
    assert has_section("MSELoss", headings)
    assert not has_section("L1Loss", headings)  # in the text, not in a heading
    assert not has_section("HuberLoss", headings)  # in a heading, without backticks
    assert not has_section("SmoothL1Loss", headings)  # in a code cell
    assert not has_section("NoSuchLoss")
