"""Execution: re-run notebooks in place in a fresh kernel and store clean outputs."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from .nblint import notebook_problems, strip_volatile


def execute_notebook(path: Path, timeout: int = 900) -> float:
    """Run a notebook top to bottom in a fresh kernel, store its outputs, return seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    elapsed = time.perf_counter() - start
    strip_volatile(nb)
    nbformat.validate(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return elapsed


def execute_all(paths: Iterable[Path]) -> int:
    """Execute each notebook, report its time and any lint problem; the number that failed."""
    failed = 0
    for path in paths:
        try:
            seconds = execute_notebook(path)
        except Exception as exc:  # report every failing notebook, not only the first
            failed += 1
            print(f"FAILED {path}: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr)
            continue
        problems = notebook_problems(path)
        status = "ok" if not problems else "PROBLEMS"
        print(f"{status:8} {seconds:7.1f} s  {path}")
        for p in problems:
            print(f"         - {p}")
        failed += bool(problems)
    return failed
