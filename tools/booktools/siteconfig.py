"""Site configuration and build: ``_config.yml`` plus the repository the book is published from.

The site is rebuilt only when something it is built from changed: the pages, the
configuration, the theme, MathJax or the package whose API pages it documents.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .paths import ROOT

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


def git_remote(root: Path = ROOT) -> str:
    """The URL of git's remote ``origin`` in ``root``, or ``""`` when there is none."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"], cwd=root, capture_output=True, text=True, check=False
        )
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


def config_text(config: dict[str, Any]) -> str:
    """The configuration as the YAML file the site is built with."""
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


# What the site is built from. Source files are compared by content; MathJax's many
# files (installed from npm, never edited) by size and modification time.
_SOURCES = ("_toc.yml", "_config.yml", "references.bib")
_SOURCE_TREES = ("book", "_theme", "companion")
_VENDOR = "_vendor"


def fingerprint(config_file: Path, root: Path = ROOT) -> str:
    """A digest of everything the site is built from, with the configuration in ``config_file``."""
    digest = hashlib.sha256()

    def add(name: str, payload: bytes) -> None:
        digest.update(name.encode() + b"\0" + hashlib.sha256(payload).digest())

    add("--config", config_file.read_bytes())
    for name in _SOURCES:
        path = root / name
        if path.is_file():
            add(name, path.read_bytes())
    for tree in _SOURCE_TREES:
        for path in sorted((root / tree).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                add(path.relative_to(root).as_posix(), path.read_bytes())
    for path in sorted((root / _VENDOR).rglob("*")):
        if path.is_file():
            stat = path.stat()
            add(path.relative_to(root).as_posix(), f"{stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def build_site(
    config_file: Path,
    output: Path | None = None,
    *,
    root: Path = ROOT,
    quiet: bool = False,
    jupyter_book: Path | None = None,
) -> tuple[bool, str]:
    """Build the site with ``config_file`` into ``output/_build/html`` (default: the repository's).

    Warnings fail the build. Returns ``(built, log)``: ``built`` is ``False`` when the site
    there was already built from exactly these sources and configuration. Raises
    :class:`RuntimeError` with the build's log when the build fails; the next call then
    rebuilds every page, so no warning of an unchanged page is lost.
    """
    base = (output or root) / "_build"
    html = base / "html"
    stamp = base / "html.fingerprint"
    wanted = fingerprint(config_file, root)
    if (html / "index.html").is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return False, ""
    stamp.unlink(missing_ok=True)
    exe = jupyter_book or Path(sys.executable).with_name("jupyter-book")
    command = [
        str(exe),
        "build",
        str(root),
        "--config",
        str(config_file),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
    ]
    if output is not None:
        command += ["--path-output", str(output)]
    if quiet:
        command.append("-q")
    done = subprocess.run(command, capture_output=quiet, text=True, check=False)
    log = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        # Sphinx reads only changed pages next time; forget them all so their warnings come back.
        shutil.rmtree(base / ".doctrees", ignore_errors=True)
        raise RuntimeError(f"jupyter-book build failed (exit {done.returncode})\n{log[-6000:]}")
    stamp.write_text(wanted + "\n")
    return True, log


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; whether it wrote."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
