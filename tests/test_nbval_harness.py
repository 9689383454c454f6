"""The notebook harness can fail: nbval rejects a stored output that the code does not produce."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import booktools

NOTEBOOK = booktools.toc_notebooks()[0]


def _run_nbval(notebook: Path) -> subprocess.CompletedProcess[str]:
    (notebook.parent / "pytest.ini").write_text("[pytest]\n")  # keep the repository's settings out
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            notebook.name,
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=notebook.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, target)
    return target


def test_unchanged_notebook_passes_nbval(copy: Path) -> None:
    result = _run_nbval(copy)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b\d+ passed", result.stdout)


def test_edited_stored_output_fails_nbval(copy: Path) -> None:
    nb = json.loads(copy.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        outputs = cell.get("outputs", [])
        texts = [o for o in outputs if o.get("output_type") == "stream" and re.search(r"\d", "".join(o["text"]))]
        if texts:
            text = "".join(texts[0]["text"])
            digit = re.search(r"\d", text)
            assert digit
            changed = str((int(digit[0]) + 1) % 10)
            texts[0]["text"] = text[: digit.start()] + changed + text[digit.end() :]
            break
    else:
        raise AssertionError("no stored output with a digit to change")
    copy.write_text(json.dumps(nb), encoding="utf-8")
    result = _run_nbval(copy)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed" in result.stdout
