"""sitemap.xml with the kk/ru/en alternates of every indexable page."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr


def write_sitemap(path: Path, site_url: str, langs: tuple[str, ...],
                  pages: list[tuple[str, bool]]) -> None:
    """pages: (path under /{lang}/, is_home). The home's x-default is the language chooser;
    for other pages the English one."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
         'xmlns:xhtml="http://www.w3.org/1999/xhtml">'),
    ]
    for page_path, is_home in pages:
        alternates = [(lang, f"{site_url}/{lang}/{page_path}") for lang in langs]
        alternates.append(("x-default", f"{site_url}/" if is_home else f"{site_url}/en/{page_path}"))
        links = "".join(
            f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(url)}/>'
            for lang, url in alternates
        )
        for lang in langs:
            lines.append(f"<url><loc>{site_url}/{lang}/{page_path}</loc>{links}</url>")
    lines.append("</urlset>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
