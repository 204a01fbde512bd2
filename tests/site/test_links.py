"""No broken internal link: every href and src in the built site leads to a file that exists."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from site_helpers import Page


def target(site: Path, url: str) -> Path:
    path = urlsplit(url).path
    file = site / path.lstrip("/")
    return file / "index.html" if path.endswith("/") else file


def test_every_internal_link_leads_to_a_page_or_file_that_exists(site: Path) -> None:
    broken = []
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 600
    for file in pages:
        for _tag, attrs in Page(file.read_text(encoding="utf-8")).tags:
            for name in ("href", "src"):
                url = attrs.get(name, "")
                # "//x" would leave the site (a protocol-relative URL): no page may have one.
                if url.startswith("//") or (url.startswith("/") and not target(site, url).is_file()):
                    broken.append(f"{file.relative_to(site)} → {url}")
    assert not broken, "\n".join(broken[:30])


def test_data_files_the_pages_fetch_exist(site: Path) -> None:
    for lang in ("kk", "ru", "en"):
        home = (site / lang / "index.html").read_text(encoding="utf-8")
        assert f'data-index="/data/search.{lang}.json"' in home
        assert (site / "data" / f"search.{lang}.json").is_file()
        checkout = (site / lang / "checkout" / "index.html").read_text(encoding="utf-8")
        assert f'data-packages="/data/checkout/{lang}/"' in checkout
        assert any((site / "data" / "checkout" / lang).glob("*.json"))
