"""Helpers for the site tests: the languages, the test worker URL, and reading built HTML
the way a browser or a crawler sees it (tags with attributes, and text)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

LANGS = ("kk", "ru", "en")
# No worker listens here: the checkout must say that payment is unavailable, and the
# browser tests answer the worker's routes themselves (page.route) where they need to.
TEST_WORKER_URL = "http://127.0.0.1:9"


def tenge(amount: int, lang: str) -> str:
    """What a buyer expects to read: "4 990 ₸" in Kazakh and Russian, "₸4,990" in English."""
    grouped = f"{amount:,}"
    if lang == "en":
        return f"₸{grouped}"
    return grouped.replace(",", "\u00a0") + "\u00a0₸"


class Page(HTMLParser):
    """Every start tag with its attributes, and the visible text (no scripts or templates' JSON)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._text: list[str] = []
        self._skip = 0
        self.feed(html)
        # Collapse spaces and newlines but keep no-break spaces: prices and units use them.
        self.text = re.sub(r"[ \t\r\n]+", " ", " ".join(self._text)).strip()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def links(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a]


def read(site: Path, path: str) -> Page:
    """The page at a URL path such as /en/esim/tr/."""
    file = site / path.lstrip("/")
    if path.endswith("/"):
        file = file / "index.html"
    return Page(file.read_text(encoding="utf-8"))

# A phone as the buyer holds it (issue 15: "tried on a phone"): the width every phone test uses.
PHONE = {"width": 390, "height": 844}
