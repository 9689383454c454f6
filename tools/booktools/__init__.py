"""Tools that keep the book's notebooks, table of contents and site consistent.

One module per job, used by the Makefile (through :mod:`booktools.cli`) and by the
book checks in ``tests/``:

* :mod:`booktools.toc` -- the pages ``_toc.yml`` lists, and pages it misses
* :mod:`booktools.nblint` -- stored notebooks fit for strict nbval and the site
* :mod:`booktools.execute` -- re-running notebooks in place with clean metadata
* :mod:`booktools.htmlscan` -- the built site loads nothing from another host
* :mod:`booktools.siteconfig` -- the site's configuration, and building it when it changed
"""

from __future__ import annotations

from .execute import execute_all, execute_notebook
from .htmlscan import css_urls, external_resources, is_external, site_problems
from .nblint import IGNORE_OUTPUT, notebook_problems, strip_volatile
from .paths import BOOK, ROOT
from .siteconfig import (
    LAUNCH_BUTTONS,
    build_site,
    config_text,
    fingerprint,
    git_remote,
    repository_url,
    site_config,
    write_if_changed,
)
from .toc import resolve_entry, toc_entries, toc_notebooks, toc_problems

__all__ = [
    "BOOK",
    "IGNORE_OUTPUT",
    "LAUNCH_BUTTONS",
    "ROOT",
    "build_site",
    "config_text",
    "css_urls",
    "execute_all",
    "execute_notebook",
    "external_resources",
    "fingerprint",
    "git_remote",
    "is_external",
    "notebook_problems",
    "repository_url",
    "resolve_entry",
    "site_config",
    "site_problems",
    "strip_volatile",
    "toc_entries",
    "toc_notebooks",
    "toc_problems",
    "write_if_changed",
]
