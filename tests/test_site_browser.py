"""The built site, as a reader's browser sees it: headless Chromium against the site served on localhost.

Every page in the toc must load with no console error and no failed or external request, have its
math typeset by the local MathJax, show every image, and link only to pages and anchors that exist.
Screenshots of the landing page and two chapters are saved under ``_build/screenshots`` for a person
to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest
from conftest import ROOT
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

import booktools

SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("COMPANION_CHROMIUM", "/usr/bin/chromium")
# Flags for a root user on a machine with no network beyond localhost.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [f"{entry}.html" for entry in booktools.toc_entries()]
LOAD_TIMEOUT_MS = 180_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from the base class
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    assert (SITE / "index.html").is_file(), "the site is not built: run `make book` (make test does)"
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class PageVisit:
    """One page load with everything that went wrong recorded."""

    def __init__(self, browser: Browser, base_url: str, path: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.external: list[str] = []
        host = urlparse(base_url).netloc

        def route(r):  # block, and record, anything that would leave the machine
            if urlparse(r.request.url).netloc not in (host, "") and not r.request.url.startswith("data:"):
                self.external.append(r.request.url)
                return r.abort()
            return r.continue_()

        self.page.route("**/*", route)
        self.page.on(
            "console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed request: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        self.url = urljoin(base_url, path)
        self.page.goto(self.url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        # MathJax typesets asynchronously; wait until it says it is done.
        self.page.evaluate(
            "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
            " { await MathJax.startup.promise; } }"
        )
        # generous: on a busy machine (notebooks executing beside) typesetting a long page is slow
        try:
            self.page.wait_for_load_state("networkidle", timeout=LOAD_TIMEOUT_MS)
        except PlaywrightTimeoutError:
            # With every core busy, Chromium may never see the 500 ms without requests that
            # "networkidle" means. What the tests read is the loaded document and its images: wait for
            # those (an image whose request hangs still fails here, and failed requests are recorded).
            self.page.wait_for_function(
                "document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)",
                timeout=LOAD_TIMEOUT_MS,
            )

    def close(self) -> None:
        self.page.close()


_LOAD_FAILURE: list[str] = []


@pytest.fixture(scope="module")
def visits(browser: Browser, base_url: str) -> Iterator[dict[str, PageVisit]]:
    # pytest sets a failed module fixture up again for every test that uses it: load once, fail once
    if _LOAD_FAILURE:
        pytest.fail(f"the pages did not load: {_LOAD_FAILURE[0]}")
    try:
        loaded = {path: PageVisit(browser, base_url, path) for path in PAGES}
    except Exception as exc:
        _LOAD_FAILURE.append(repr(exc))
        raise
    yield loaded
    for visit in loaded.values():
        visit.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_or_external_requests(visits: dict[str, PageVisit], path: str) -> None:
    visit = visits[path]
    assert visit.errors == []
    assert visit.external == []
    assert visit.page.locator("article").count() >= 1


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset(visits: dict[str, PageVisit], path: str) -> None:
    page = visits[path].page
    untypeset = page.evaluate(
        "() => [...document.querySelectorAll('div.math, span.math')]"
        ".filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))"
    )
    assert untypeset == []
    article_text = page.locator("article").inner_text()
    assert "$$" not in article_text and "\\frac" not in article_text


@pytest.mark.parametrize("path", PAGES)
def test_images_load(visits: dict[str, PageVisit], path: str) -> None:
    broken = visits[path].page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == []


@functools.cache
def _ids(page_file: Path) -> frozenset[str]:
    import re

    html = page_file.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r"""\bid=["']([^"']+)["']""", html))


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_and_anchors_resolve(visits: dict[str, PageVisit], path: str) -> None:
    visit = visits[path]
    hrefs = visit.page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    site_prefix = urljoin(visit.url, "/")
    broken = []
    for href in hrefs:
        if not href.startswith(site_prefix):
            continue  # links to other sites are followed by the reader, not loaded
        target, fragment = urldefrag(href)
        rel = unquote(urlparse(target).path).lstrip("/") or "index.html"
        file = SITE / rel
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            broken.append(href)
        elif fragment and file.suffix == ".html" and unquote(fragment) not in _ids(file):
            broken.append(href)
    assert broken == []


def test_search_works_offline(browser: Browser, base_url: str) -> None:
    visit = PageVisit(browser, base_url, "search.html?q=entropy")
    try:
        visit.page.wait_for_selector("#search-results li", timeout=15_000)
        assert visit.page.locator("#search-results li").count() >= 1
        assert visit.errors == [] and visit.external == []
    finally:
        visit.close()


def test_screenshots_for_review(visits: dict[str, PageVisit]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PAGES if p.endswith(("intro.html", "running-code.html", "entropy.html"))]
    assert len(chosen) == 3
    for path in chosen:
        page = visits[path].page
        figure = page.locator(".cell_output img")
        if figure.count():  # show a code cell, its output and a plot, not only the title
            figure.first.evaluate("el => el.scrollIntoView({block: 'end'})")
        target = SHOTS / (Path(path).stem + ".png")
        page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 10_000


def test_published_site_shows_launch_buttons(browser: Browser, repository_site: Path) -> None:
    """The site as published from a repository: the launch menu offers Colab and Binder."""
    handler = functools.partial(_QuietHandler, directory=str(repository_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    visit = PageVisit(browser, f"http://127.0.0.1:{server.server_address[1]}/", "book/entropy.html")
    try:
        page = visit.page
        page.locator(".dropdown-launch-buttons button").click()
        menu = page.locator(".dropdown-launch-buttons .dropdown-menu")
        menu.wait_for(state="visible")
        assert set(menu.inner_text().split()) >= {"Binder", "Colab"}
        assert visit.errors == [] and visit.external == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        target = SHOTS / "entropy-published.png"
        page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 10_000
    finally:
        visit.close()
        server.shutdown()
        server.server_close()


def test_one_search_box_on_a_wide_screen(visits: dict[str, PageVisit]) -> None:
    """pydata-sphinx-theme's header bar repeats the sidebar's search button; book.css hides it."""
    page = visits[PAGES[0]].page  # 1280 px wide
    visible = page.evaluate(
        "() => [...document.querySelectorAll('.search-button__button')].filter(b => b.offsetParent !== null).length"
    )
    assert visible == 1
    assert not page.locator("#pst-header").is_visible()
