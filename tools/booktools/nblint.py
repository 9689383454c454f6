"""Notebook lint: what makes a stored notebook unfit for strict nbval and for the site.

Every check returns a list of problems (empty when all is well), so the tests can
run it on the real book and on deliberately broken copies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_OUTPUT_PATTERNS = {
    "a device string (print through companion.show)": re.compile(r"device='(cuda|mps|xpu)"),
    "a memory address": re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),
    "an absolute path of this machine": re.compile(r"(?<![\w.:/])/(tmp|root|home|work|opt|srv|usr|var)/[\w.-]"),
    "a Windows path": re.compile(r"\b[A-Z]:\\\\"),
    "a terminal colour code": re.compile(r"\x1b\["),
    "a warning": re.compile(r"\b\w*Warning\b|\bWARNING\b"),
}
_PROGRESS = re.compile(r"<progress\b|\d+%\|[#█ ]")

# Cell and notebook metadata that changes from run to run.
_VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled")
_VOLATILE_NB_KEYS = ("widgets", "toc", "varInspector")


def _output_text(out: dict[str, Any]) -> str:
    text = "".join(out.get("text", ""))
    for mime, payload in out.get("data", {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            text += "".join(payload) if isinstance(payload, list) else str(payload)
    return text


# The one nbval marker the book uses. Its output is the result of many steps of
# floating-point training, whose last digits depend on the processor (and differ
# between a CPU and a GPU), so nbval does not compare it; the cell itself or the
# next two code cells must then assert the result within a tolerance.
IGNORE_OUTPUT = "nbval-ignore-output"
_NBVAL_TAGS = re.compile(r"^nbval-|^raises-exception$")
_NBVAL_COMMENTS = re.compile(r"^\s*#\s*NBVAL_", re.M | re.I)
_ASSERTS = re.compile(r"^\s*(assert\b|np\.testing\.assert|torch\.testing\.assert)", re.M)


def _unchecked_output_problems(name: str, cells: list[dict[str, Any]]) -> list[str]:
    """Cells that escape strict nbval: only ``nbval-ignore-output`` with an assertion right after."""
    problems = []
    code = [(i, c) for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    for k, (i, cell) in enumerate(code):
        source = "".join(cell.get("source", ""))
        tags = cell.get("metadata", {}).get("tags", [])
        for tag in tags:
            if _NBVAL_TAGS.search(tag) and tag != IGNORE_OUTPUT:
                problems.append(f"{name} cell {i}: nbval tag {tag!r} (only {IGNORE_OUTPUT!r} is allowed)")
        if _NBVAL_COMMENTS.search(source):
            problems.append(f"{name} cell {i}: NBVAL_ comment marker (use the {IGNORE_OUTPUT!r} tag)")
        if IGNORE_OUTPUT in tags:
            # the cell, or one of the next two code cells (a figure may come between)
            checked = [source] + ["".join(c.get("source", "")) for _, c in code[k + 1 : k + 3]]
            if not any(_ASSERTS.search(text) for text in checked):
                problems.append(
                    f"{name} cell {i}: output not compared ({IGNORE_OUTPUT}) and no assertion in it"
                    " or the next two code cells"
                )
    return problems


def notebook_problems(path: Path) -> list[str]:
    """Everything that makes a stored notebook unfit for strict nbval and the site."""
    name = path.name
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{name}: not valid JSON ({exc})"]
    problems = []
    meta = nb.get("metadata", {})
    if meta.get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{name}: kernelspec is not 'python3'")
    if "version" in meta.get("language_info", {}):
        problems.append(f"{name}: language_info.version is machine-specific metadata")
    for key in _VOLATILE_NB_KEYS:
        if key in meta:
            problems.append(f"{name}: notebook metadata holds volatile {key!r}")
    problems.extend(_unchecked_output_problems(name, nb.get("cells", [])))
    expected_count = 1
    saw_import = False
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name} cell {i}"
        for key in _VOLATILE_CELL_KEYS:
            if key in cell.get("metadata", {}):
                problems.append(f"{where}: metadata holds volatile {key!r}")
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        saw_import = saw_import or bool(re.search(r"^\s*(import companion|from companion\b)", source, re.M))
        if not source.strip():
            problems.append(f"{where}: empty code cell")
            continue
        if cell.get("execution_count") != expected_count:
            problems.append(
                f"{where}: execution_count {cell.get('execution_count')} (expected {expected_count}:"
                " cells must be run once, top to bottom)"
            )
        expected_count += 1
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"{where}: stored an error ({out.get('ename')})")
            if kind == "stream" and out.get("name") == "stderr":
                problems.append(f"{where}: stored stderr output")
            data = out.get("data", {})
            html = "".join(data.get("text/html", ""))
            if _PROGRESS.search(html) or _PROGRESS.search("".join(out.get("text", ""))):
                problems.append(f"{where}: stored a progress bar")
            if "image/svg+xml" in data:
                problems.append(f"{where}: stored an SVG figure (nbval compares SVG text; use PNG)")
            text = _output_text(out)
            for what, rx in _OUTPUT_PATTERNS.items():
                if rx.search(text):
                    problems.append(f"{where}: output holds {what}")
    if not saw_import:
        problems.append(f"{name}: never imports companion")
    return problems


def strip_volatile(nb: dict[str, Any]) -> dict[str, Any]:
    """Remove run-to-run metadata from a notebook (in place) and return it."""
    meta = nb.setdefault("metadata", {})
    for key in _VOLATILE_NB_KEYS:
        meta.pop(key, None)
    meta.get("language_info", {}).pop("version", None)
    meta["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    for cell in nb.get("cells", []):
        for key in _VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if "outputs" in cell:
            cell["outputs"] = _coalesce_streams(cell["outputs"])
    return nb


def _coalesce_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join consecutive stream outputs of the same name.

    How printed text is split into messages depends on timing; nbval compares
    the joined text, and stored notebooks should not change with the split.
    """
    merged: list[dict[str, Any]] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.get("output_type") == "stream"
            and prev.get("output_type") == "stream"
            and out.get("name") == prev.get("name")
        ):
            prev["text"] = "".join(prev.get("text", "")) + "".join(out.get("text", ""))
        else:
            merged.append(out)
    return merged
