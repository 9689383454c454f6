"""The command line: ``python tools/booktools.py COMMAND`` (or ``python -m booktools``).

::

    notebooks                              the notebooks listed in _toc.yml, one per line
    execute [NB ...]                       re-run notebooks in place, strip volatile metadata
    site-config --output F [--repository URL] [--branch B]
    build [--repository URL] [--branch B]  write the configuration, build the site if anything changed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .execute import execute_all
from .paths import ROOT
from .siteconfig import build_site, config_text, git_remote, repository_url, site_config, write_if_changed
from .toc import toc_notebooks

SITE_CONFIG = ROOT / "_build" / "site-config.yml"


def _repository(parser: argparse.ArgumentParser, given: str | None) -> str | None:
    remote = given if given is not None else git_remote(ROOT)
    repository = remote if repository_url(remote or "") else None
    if given and repository is None:
        parser.error(f"--repository must be a GitHub or GitLab address, got {given!r}")
    return repository


def _write_config(output: Path, repository: str | None, branch: str) -> None:
    write_if_changed(output, config_text(site_config(repository, branch)))
    shown = repository_url(repository) if repository else "none"
    print(f"site configuration: {output} (repository: {shown})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tools that keep the book's notebooks, toc and site consistent.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("notebooks", help="print the notebooks listed in _toc.yml, one per line")
    run = sub.add_parser("execute", help="re-run notebooks in place (default: every notebook in the toc)")
    run.add_argument("paths", nargs="*", type=Path)
    for name, text in (
        ("site-config", "write the configuration the site is built with"),
        ("build", "write the configuration and build the site unless nothing changed"),
    ):
        conf = sub.add_parser(name, help=text)
        conf.add_argument(
            "--repository",
            default=None,
            help="the book's GitHub/GitLab address (default: git's remote 'origin', if it is one)",
        )
        conf.add_argument("--branch", default="main")
        conf.add_argument("--output", type=Path, required=name == "site-config", default=SITE_CONFIG)
    args = parser.parse_args(argv)

    if args.command in ("site-config", "build"):
        _write_config(args.output, _repository(parser, args.repository), args.branch)
        if args.command == "site-config":
            return 0
        try:
            built, _ = build_site(args.output)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print("site built: _build/html" if built else "site unchanged since its last build: _build/html")
        return 0
    if args.command == "notebooks":
        for nb in toc_notebooks():
            print(nb.relative_to(ROOT))
        return 0
    return 1 if execute_all(args.paths or toc_notebooks()) else 0
