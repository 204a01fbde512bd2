"""What a buyer on a slow mobile connection downloads: the home page and every destination and
region page, with everything they load (CSS, scripts, icon, flags, the search index), stay
within 30 KB gzip in every language (issue 15). Counted as `make bench-site` counts them."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_site import BUDGET_DESTINATION_GZIP, downloads


def test_the_home_and_every_destination_page_stay_within_30_kb_gzip(site: Path) -> None:
    pages = [f"/{lang}/" for lang in ("kk", "ru", "en")]
    pages += sorted(f"/{p.parent.relative_to(site)}/" for p in site.glob("*/esim/*/index.html"))
    assert len(pages) > 300 and "/ru/esim/mx/" in pages
    over = {page: f"{size / 1024:.1f} KB" for page in pages
            if (size := downloads(site, page)[0]) > BUDGET_DESTINATION_GZIP}
    assert not over, over
