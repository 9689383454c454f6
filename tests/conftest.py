"""Shared test set-up: the book tools live in tools/, outside the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import booktools  # noqa: E402 - after the path is set

# A repository address for building the site as it is published (never published itself).
EXAMPLE_REPOSITORY = "https://github.com/example-owner/loss-book"

# The machine that runs the suite may be busy: judge property tests by their
# results, not by how long one example took.
settings.register_profile("book", deadline=None)
settings.load_profile("book")


@pytest.fixture(scope="session")
def repository_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built as it would be published from a GitHub repository."""
    out = tmp_path_factory.mktemp("published")
    config = out / "site-config.yml"
    config.write_text(yaml.safe_dump(booktools.site_config(EXAMPLE_REPOSITORY), allow_unicode=True), encoding="utf-8")
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "jupyter-book"), "build", str(ROOT), "--config", str(config),
         "--path-output", str(out), "--builder", "html", "-W", "-n", "--keep-going", "-q"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "_build" / "html"
