"""Tools that keep the book's notebooks, table of contents and site consistent.

Used by the Makefile (``python tools/booktools.py notebooks|execute``) and by
the book checks in ``tests/``. Every check is a function that returns a list of
problems (empty when all is well), so the tests can run it on the real book and
on deliberately broken inputs.

Command line::

    python tools/booktools.py notebooks          # the notebooks listed in _toc.yml
    python tools/booktools.py execute [NB ...]    # re-run notebooks in place, strip volatile metadata
    python tools/booktools.py site-config --output F [--repository URL] [--branch B]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

# ---------------------------------------------------------------------------
# Table of contents


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


# ---------------------------------------------------------------------------
# Stored notebook outputs

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


# ---------------------------------------------------------------------------
# The built site must load nothing from another host


class _ResourceParser(HTMLParser):
    """Collects the URLs that a browser fetches when it loads a page."""

    # (tag, attribute) pairs that a browser loads with the page
    _LOADED = {
        ("script", "src"),
        ("img", "src"),
        ("img", "srcset"),
        ("source", "src"),
        ("source", "srcset"),
        ("iframe", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("video", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("input", "src"),
        ("track", "src"),
    }
    # <link rel=...> kinds that are fetched or connected to on load
    _LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon",
                  "manifest", "prefetch", "preconnect", "dns-prefetch", "mask-icon"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for attr, value in values.items():
            if (tag, attr) in self._LOADED:
                self.urls.extend(u.strip().split(" ")[0] for u in value.split(",") if u.strip())
            if attr == "style":
                self.urls.extend(css_urls(value))
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if rels & self._LINK_RELS and values.get("href"):
                self.urls.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(css_urls(data))


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def css_urls(css: str) -> list[str]:
    """URLs referenced by ``url(...)`` and ``@import`` in a piece of CSS."""
    return [a or b for a, b in _CSS_URL.findall(css)]


def is_external(url: str) -> bool:
    """Whether fetching ``url`` leaves the site (another host, or a protocol-relative URL)."""
    url = url.strip().lower()
    return url.startswith(("http://", "https://", "//", "ftp://", "ws://", "wss://"))


def external_resources(html: str) -> list[str]:
    """The external URLs a browser would fetch when loading this HTML page."""
    parser = _ResourceParser()
    parser.feed(html)
    return [u for u in parser.urls if is_external(u)]


def site_problems(site: Path) -> list[str]:
    """External resources loaded by any page or stylesheet of a built site."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        for url in external_resources(page.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{page.relative_to(site)} loads {url}")
    for sheet in sorted(site.rglob("*.css")):
        for url in css_urls(sheet.read_text(encoding="utf-8", errors="replace")):
            if is_external(url):
                problems.append(f"{sheet.relative_to(site)} loads {url}")
    return problems


# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# The site's configuration: _config.yml, plus the repository it is published from

LAUNCH_BUTTONS = {
    "notebook_interface": "jupyterlab",
    "binderhub_url": "https://mybinder.org",
    "colab_url": "https://colab.research.google.com",
}
_REMOTE = re.compile(
    r"^(?:https://|ssh://git@|git@)(?P<host>github\.com|gitlab\.com)[:/]"
    r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$"
)


def repository_url(remote: str) -> str | None:
    """The ``https`` address of a GitHub or GitLab repository named by a git remote, else ``None``.

    >>> repository_url("git@github.com:someone/loss-book.git")
    'https://github.com/someone/loss-book'
    >>> repository_url("/srv/mirror/loss-book") is None
    True
    """
    match = _REMOTE.match(remote.strip())
    if match is None:
        return None
    return f"https://{match['host']}/{match['owner']}/{match['name']}"


def _git_remote(root: Path) -> str:
    import subprocess

    try:
        done = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=root,
                              capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip()


def site_config(repository: str | None, branch: str = "main", root: Path = ROOT) -> dict[str, Any]:
    """``_config.yml`` with, when the book's repository is known, its link and the launch buttons.

    Jupyter Book's default repository is Jupyter Book's own, so without a known
    repository the site shows no repository link and no Colab or Binder button
    rather than links to the wrong place.
    """
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    if repository:
        url = repository_url(repository)
        if url is None:
            raise ValueError(f"repository must be a GitHub or GitLab address, got {repository!r}")
        config["repository"] = {"url": url, "path_to_book": "", "branch": branch}
        config["launch_buttons"] = dict(LAUNCH_BUTTONS)
        config.setdefault("html", {}).update(use_repository_button=True, use_issues_button=True)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("notebooks", help="print the notebooks listed in _toc.yml, one per line")
    run = sub.add_parser("execute", help="re-run notebooks in place (default: every notebook in the toc)")
    run.add_argument("paths", nargs="*", type=Path)
    conf = sub.add_parser("site-config", help="write the configuration the site is built with")
    conf.add_argument("--repository", default=None,
                      help="the book's GitHub/GitLab address (default: git's remote 'origin', if it is one)")
    conf.add_argument("--branch", default="main")
    conf.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "site-config":
        remote = args.repository if args.repository is not None else _git_remote(ROOT)
        repository = remote if repository_url(remote or "") else None
        if args.repository and repository is None:
            parser.error(f"--repository must be a GitHub or GitLab address, got {args.repository!r}")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(yaml.safe_dump(site_config(repository, args.branch), allow_unicode=True,
                                              sort_keys=False), encoding="utf-8")
        print(f"site configuration: {args.output} (repository: {repository_url(repository) if repository else 'none'})")
        return 0
    if args.command == "notebooks":
        for nb in toc_notebooks():
            print(nb.relative_to(ROOT))
        return 0
    paths = args.paths or toc_notebooks()
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
