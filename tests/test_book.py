"""Book checks: toc and files agree, stored notebooks are clean, the built site is offline.

Each check runs on the real book and, to show that it can fail, on a broken copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

import booktools

NOTEBOOKS = booktools.toc_notebooks()


def test_toc_lists_every_page_and_only_existing_ones() -> None:
    assert booktools.toc_problems() == []
    assert NOTEBOOKS, "the toc lists no notebook"


def _mini_book(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    shutil.copy(NOTEBOOKS[0], tmp_path / "book" / "chapter.ipynb")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n")
    return tmp_path


def test_toc_check_finds_unlisted_and_missing_pages(tmp_path: Path) -> None:
    root = _mini_book(tmp_path)
    assert booktools.toc_problems(root) == []
    assert booktools.toc_notebooks(root) == [root / "book" / "chapter.ipynb"]
    shutil.copy(root / "book" / "chapter.ipynb", root / "book" / "orphan.ipynb")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n  - file: book/gone\n"
    )
    problems = booktools.toc_problems(root)
    assert any("book/orphan.ipynb is not listed" in p for p in problems)
    assert any("'book/gone'" in p for p in problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_clean(notebook: Path) -> None:
    assert booktools.notebook_problems(notebook) == []


def _first_code(nb: dict) -> dict:
    return next(cell for cell in nb["cells"] if cell["cell_type"] == "code" and cell["outputs"])


def _last_code(nb: dict) -> dict:
    """The last code cell, made to print without asserting (nothing follows it)."""
    cell = [cell for cell in nb["cells"] if cell["cell_type"] == "code"][-1]
    cell["source"] = "print('a result')"
    return cell


def _first_output(nb: dict) -> dict:
    return _first_code(nb)["outputs"][0]


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda nb: _first_output(nb).update(name="stderr"), "stderr"),
        (lambda nb: _first_output(nb).update(text="x = tensor(1., device='cuda:0')\n"), "device string"),
        (lambda nb: _first_output(nb).update(text="<object at 0x7f3a2b1c4d50>\n"), "memory address"),
        (lambda nb: _first_output(nb).update(text="saved to /tmp/run/loss.png\n"), "absolute path"),
        (lambda nb: _first_output(nb).update(text="\x1b[31mred\x1b[0m\n"), "colour code"),
        (lambda nb: _first_output(nb).update(text="UserWarning: something\n"), "warning"),
        (lambda nb: _first_output(nb).update(text="50%|#####     | 5/10\n"), "progress bar"),
        (lambda nb: _first_code(nb).update(execution_count=None), "execution_count"),
        (lambda nb: _first_code(nb)["metadata"].update(execution={"iopub.status.busy": "2026"}), "volatile"),
        (lambda nb: nb["metadata"]["language_info"].update(version="3.11.7"), "language_info.version"),
        (lambda nb: _last_code(nb)["metadata"].update(tags=["nbval-ignore-output"]), "no assertion"),
        (lambda nb: _first_code(nb)["metadata"].update(tags=["nbval-skip"]), "only 'nbval-ignore-output'"),
        (lambda nb: _first_code(nb).update(source="# NBVAL_IGNORE_OUTPUT\nprint(1)"), "NBVAL_ comment"),
        (
            lambda nb: _first_code(nb)["outputs"].append(
                {"output_type": "error", "ename": "ValueError", "evalue": "", "traceback": []}
            ),
            "stored an error",
        ),
    ],
)
def test_notebook_check_finds_each_kind_of_problem(tmp_path: Path, tamper, expected: str) -> None:
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    tamper(nb)
    path = tmp_path / "tampered.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    problems = booktools.notebook_problems(path)
    assert any(expected in p for p in problems), problems


def test_strip_volatile_makes_a_dirty_notebook_clean(tmp_path: Path) -> None:
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    nb["metadata"]["language_info"]["version"] = "3.11.7"
    nb["metadata"]["widgets"] = {}
    for cell in nb["cells"]:
        cell["metadata"]["execution"] = {"iopub.execute_input": "2026-11-24T10:00:00Z"}
    path = tmp_path / "dirty.ipynb"
    path.write_text(json.dumps(booktools.strip_volatile(nb)), encoding="utf-8")
    assert booktools.notebook_problems(path) == []


def test_strip_volatile_joins_printed_text_however_it_was_split() -> None:
    def stream(name: str, text: str) -> dict:
        return {"output_type": "stream", "name": name, "text": text}

    figure = {"output_type": "display_data", "data": {"text/plain": "<Figure>"}, "metadata": {}}
    cell = {
        "cell_type": "code",
        "metadata": {},
        "source": "",
        "outputs": [
            stream("stdout", "a\n"),
            stream("stdout", "b\n"),
            figure,
            stream("stdout", "c\n"),
            stream("stderr", "d\n"),
        ],
    }
    booktools.strip_volatile({"metadata": {}, "cells": [cell]})
    assert cell["outputs"] == [stream("stdout", "a\nb\n"), figure, stream("stdout", "c\n"), stream("stderr", "d\n")]


# --- the built site ---------------------------------------------------------------

SITE = ROOT / "_build" / "html"


def test_built_site_loads_nothing_from_other_hosts() -> None:
    assert (SITE / "index.html").is_file(), "the site is not built: run `make book` (make test does)"
    assert booktools.site_problems(SITE) == []


def test_built_site_renders_math_from_its_own_copy_of_mathjax() -> None:
    page = (SITE / "book" / "running-code.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-mml-chtml.js" in page
    assert (SITE / "_static" / "mathjax" / "tex-mml-chtml.js").stat().st_size > 100_000
    fonts = list((SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "MathJax's CHTML fonts were not copied beside it"


def test_built_site_has_a_page_for_every_toc_entry() -> None:
    for entry in booktools.toc_entries():
        assert (SITE / f"{entry}.html").is_file(), entry


@pytest.mark.parametrize(
    "html, found",
    [
        ('<script src="https://cdn.example.org/mathjax.js"></script>', "https://cdn.example.org/mathjax.js"),
        ('<link rel="stylesheet" href="//fonts.example.com/css">', "//fonts.example.com/css"),
        ('<link rel="preconnect" href="https://fonts.example.com">', "https://fonts.example.com"),
        ('<img srcset="a.png 1x, http://img.example.com/b.png 2x">', "http://img.example.com/b.png"),
        ("<style>@import 'https://x.example/y.css';</style>", "https://x.example/y.css"),
        ('<div style="background: url(https://x.example/bg.png)"></div>', "https://x.example/bg.png"),
        ('<iframe src="https://www.example.com/embed"></iframe>', "https://www.example.com/embed"),
    ],
)
def test_offline_check_finds_external_resources(html: str, found: str) -> None:
    assert booktools.external_resources(html) == [found]


def test_offline_check_allows_links_and_local_files() -> None:
    html = (
        '<a href="https://pytorch.org/docs">docs</a>'
        '<link rel="canonical" href="https://book.example.org/intro.html">'
        '<script src="_static/mathjax/tex-mml-chtml.js"></script><img src="../_images/plot.png">'
    )
    assert booktools.external_resources(html) == []


def test_offline_check_reads_stylesheets(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>ok</p>")
    (tmp_path / "theme.css").write_text("@font-face { src: url('https://fonts.example/x.woff2'); }")
    assert booktools.site_problems(tmp_path) == ["theme.css loads https://fonts.example/x.woff2"]
