"""The site's repository link and launch buttons: present exactly when the book's repository is known."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE_REPOSITORY, ROOT

import booktools

NOTEBOOK_PAGES = [nb.relative_to(ROOT).with_suffix("") for nb in booktools.toc_notebooks()]
EXAMPLE = EXAMPLE_REPOSITORY


@pytest.mark.parametrize(
    "remote, url",
    [
        ("https://github.com/someone/loss-book", "https://github.com/someone/loss-book"),
        ("https://github.com/someone/loss-book.git", "https://github.com/someone/loss-book"),
        ("https://github.com/someone/loss-book/", "https://github.com/someone/loss-book"),
        ("git@github.com:someone/loss-book.git", "https://github.com/someone/loss-book"),
        ("ssh://git@github.com/someone/loss.book.git", "https://github.com/someone/loss.book"),
        ("https://gitlab.com/team/loss-book.git", "https://gitlab.com/team/loss-book"),
        ("/srv/mirrors/loss-book", None),
        ("file:///srv/mirrors/loss-book.git", None),
        ("https://example.org/someone/loss-book", None),
        ("https://github.com/someone", None),
        ("", None),
    ],
)
def test_repository_url_accepts_only_repository_addresses(remote: str, url: str | None) -> None:
    assert booktools.repository_url(remote) == url


def test_without_a_repository_the_site_links_nowhere_else() -> None:
    config = booktools.site_config(None)
    assert config == yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "repository" not in config and "launch_buttons" not in config


def test_with_a_repository_the_site_gets_its_link_and_launch_buttons() -> None:
    config = booktools.site_config("git@github.com:example-owner/loss-book.git", branch="dev")
    assert config["repository"] == {"url": EXAMPLE, "path_to_book": "", "branch": "dev"}
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["html"]["use_repository_button"] is True
    assert config["title"] == yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]


def test_a_bad_repository_is_refused() -> None:
    with pytest.raises(ValueError, match="GitHub or GitLab"):
        booktools.site_config("/srv/mirrors/loss-book")
    done = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            str(ROOT / "tools" / "booktools.py"),
            "site-config",
            "--output",
            "/dev/null",
            "--repository",
            "not-a-repository",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "GitHub or GitLab" in done.stderr


def _launch_links(html: str) -> set[str]:
    return set(re.findall(r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)/[^"]+)"', html))


def test_the_built_site_matches_its_configuration() -> None:
    """`make book` wrote the configuration it built with; the pages agree with it."""
    config = yaml.safe_load((ROOT / "_build" / "site-config.yml").read_text(encoding="utf-8"))
    html = (ROOT / "_build" / "html" / "book" / "entropy.html").read_text(encoding="utf-8")
    assert "executablebooks/jupyter-book" not in html  # Jupyter Book's own default repository
    assert 'href="../_sources/book/entropy.ipynb"' in html  # the download button
    if "repository" in config:
        assert any(config["repository"]["url"].split("//")[1] in link for link in _launch_links(html))
    else:
        assert _launch_links(html) == set()


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: p.name)
def test_published_notebook_pages_launch_on_colab_and_binder(repository_site: Path, page: Path) -> None:
    html = (repository_site / page.with_suffix(".html")).read_text(encoding="utf-8")
    notebook = page.with_suffix(".ipynb").as_posix()
    assert _launch_links(html) == {
        f"https://colab.research.google.com/github/example-owner/loss-book/blob/main/{notebook}",
        f"https://mybinder.org/v2/gh/example-owner/loss-book/main?urlpath=lab/tree/{notebook}",
    }
    assert f'href="{EXAMPLE}"' in html
    assert f'href="../_sources/{notebook}"' in html


def test_published_site_still_loads_nothing_from_other_hosts(repository_site: Path) -> None:
    assert booktools.site_problems(repository_site) == []
