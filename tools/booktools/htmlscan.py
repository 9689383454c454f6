"""Offline HTML scan: the built site must load nothing from another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


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
    _LINK_RELS = {
        "stylesheet",
        "preload",
        "modulepreload",
        "icon",
        "shortcut",
        "apple-touch-icon",
        "manifest",
        "prefetch",
        "preconnect",
        "dns-prefetch",
        "mask-icon",
    }

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
