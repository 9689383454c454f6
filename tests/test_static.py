"""Static checks as part of the suite: ruff (lint and format) and mypy, configured in pyproject.toml.

Each runs the tool from the environment running the tests (pinned in requirements/lock.txt)
over the paths pyproject.toml names, and fails with the tool's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / command[0]
    if not tool.exists():
        pytest.fail(f"{command[0]} is not installed beside {sys.executable}: install requirements/lock.txt")
    return subprocess.run([str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint() -> None:
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--no-cache", "--check", "--diff", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_checks_the_paths_the_project_names() -> None:
    # an include pattern that matched nothing would make both checks above pass vacuously
    listed = _run("ruff", "check", "--no-cache", "--show-files", ".").stdout
    for path in (
        "companion/losses/_fused.py",
        "tests/test_static.py",
        "tools/booktools/cli.py",
        "benchmarks/bench_losses.py",
    ):
        assert path in listed, f"ruff does not check {path}"


def test_mypy() -> None:
    # the cache lives under _build so that a warm run takes seconds; files come from pyproject.toml
    result = _run("mypy", "--cache-dir", str(ROOT / "_build" / "mypy-cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


def test_package_ships_its_type_information() -> None:
    assert (ROOT / "companion" / "py.typed").is_file()
