"""The table of contents, ``_toc.yml``: which pages the book has, and whether they exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .paths import ROOT


def _toc_files(node: Any) -> list[str]:
    files: list[str] = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                files.append(str(node[key]))
        for value in node.values():
            if isinstance(value, (dict, list)):
                files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def toc_entries(root: Path = ROOT) -> list[str]:
    """Every file named in ``_toc.yml`` (``root`` and ``file`` keys), in order, without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return _toc_files(toc)


def resolve_entry(entry: str, root: Path = ROOT) -> Path | None:
    """The source file a toc entry names (``.ipynb`` or ``.md``), or ``None`` if there is none."""
    base = root / entry
    for candidate in (base, base.with_suffix(".ipynb"), base.with_suffix(".md")):
        if candidate.is_file() and candidate.suffix in {".ipynb", ".md"}:
            return candidate
    return None


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks listed in ``_toc.yml``, in toc order."""
    paths = [resolve_entry(e, root) for e in toc_entries(root)]
    return [p for p in paths if p is not None and p.suffix == ".ipynb"]


def toc_problems(root: Path = ROOT) -> list[str]:
    """Toc entries without a file, and book pages that the toc does not list."""
    problems = []
    listed = set()
    for entry in toc_entries(root):
        path = resolve_entry(entry, root)
        if path is None:
            problems.append(f"_toc.yml lists {entry!r}, but there is no {entry}.ipynb or {entry}.md")
        else:
            listed.add(path.resolve())
    book = root / "book"
    pages = [p for p in book.rglob("*") if p.suffix in {".ipynb", ".md"}] if book.is_dir() else []
    for page in sorted(pages):
        if ".ipynb_checkpoints" in page.parts or "_build" in page.parts:
            continue
        if page.resolve() not in listed:
            problems.append(f"{page.relative_to(root)} is not listed in _toc.yml")
    return problems
