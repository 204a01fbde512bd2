"""Site figures (`make bench-site`): build time for the shipped and a 250-destination
catalogue beside plain Pelican building 750 Markdown pages with one table each (the
reference of issue 15: our build should take at most half of it), pages written, an
editor's rebuild, and the gzip bytes a browser downloads for the home, a destination and
the checkout page. Prints figures; asserts nothing."""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))
from catalogue.generator import checkout_shard
from catalogue.schema import COUNTRY_CODES

TARGET_DESTINATIONS = 250
PLAIN_PAGES = 750
TARGET_RATIO = 0.5  # the full build at most half of plain Pelican's 750 pages (aim: 0.3)
BUDGET_DESTINATION_GZIP = 30 * 1024
BUDGET_BUILD_S = 5.0
EDITOR_REBUILDS = 7
TARGET_EDITOR_S = 1.0  # an editor's rebuild under `make serve` (aim: 0.5 s)
AIM_EDITOR_S = 0.5


def build(output: Path, catalogue: Path | None = None) -> float:
    """Wall time of a full build, as `invoke build` runs it (a fresh Python process), into
    an empty output folder."""
    shutil.rmtree(output, ignore_errors=True)
    extra = ["-e", f"CATALOGUE_PATH={json.dumps(str(catalogue))}"] if catalogue else []
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-o", str(output), "-s", "pelicanconf.py", "-q", *extra],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        env={**os.environ, "WORKER_URL": os.environ.get("WORKER_URL", "")},
    )
    return time.perf_counter() - started


def plain_pelican(folder: Path) -> float:
    """Wall time of plain Pelican (default theme, no plugin) building PLAIN_PAGES Markdown
    pages with one table each, in a fresh process like our build."""
    content = folder / "content" / "pages"
    content.mkdir(parents=True, exist_ok=True)
    for number in range(PLAIN_PAGES):
        rows = "\n".join(f"| {number}-{row} GB | {row * 7} days | {990 + row * 1000} KZT |" for row in range(1, 9))
        (content / f"page-{number}.md").write_text(
            f"Title: Page {number}\nSlug: page-{number}\n\nA paragraph of *Markdown* text for page {number}.\n\n"
            f"| data | days | price |\n|---|---|---|\n{rows}\n", encoding="utf-8")
    settings = folder / "settings.py"
    settings.write_text('SITENAME = "plain"\nSITEURL = ""\nTIMEZONE = "UTC"\nDEFAULT_LANG = "en"\n'
                        "FEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\n", encoding="utf-8")
    output = folder / "output"
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pelican", str(folder / "content"), "-o", str(output), "-s", str(settings), "-q"],
                   cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def editor_rebuild(folder: Path) -> tuple[float, float]:
    """`make serve`'s rebuild (scripts/serve.py, in its process) after an editor saves one
    Markdown page, median of EDITOR_REBUILDS; and its full rebuild (after a data change), median of 3."""
    from scripts.serve import SiteBuilder

    content = folder / "content"
    shutil.copytree(ROOT / "content" / "pages", content / "pages")
    data = ROOT / "content" / "data"
    builder = SiteBuilder(ROOT / "pelicanconf.py", {
        "PATH": str(content), "OUTPUT_PATH": str(folder / "output"),
        "CATALOGUE_PATH": str(data / "catalog.json"), "DEVICES_PATH": str(data / "devices.json"),
        "SEARCH_ALIASES_PATH": str(data / "aliases.json"), "DESTINATIONS_PATH": str(data / "destinations.json"),
    })
    builder.full()
    faq = content / "pages" / "en" / "faq.md"
    pages: list[float] = []
    for number in range(EDITOR_REBUILDS):
        faq.write_text(faq.read_text(encoding="utf-8") + f"\nEdit {number}.\n", encoding="utf-8")
        kind, seconds = builder.rebuild([faq])
        assert kind == "pages", kind
        pages.append(seconds)
    full = [builder.rebuild([data / "catalog.json"])[1] for _ in range(3)]
    return statistics.median(pages), statistics.median(full)


def catalogue_of(size: int, path: Path) -> None:
    """The shipped catalogue grown to `size` destinations with more CLDR countries."""
    data = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
    template = next(d for d in data["destinations"] if d["type"] == "country")
    taken = {d["code"] for d in data["destinations"]}
    for code in sorted(COUNTRY_CODES - taken):
        if len(data["destinations"]) >= size:
            break
        extra = copy.deepcopy(template)
        extra.update(code=code, countries=[code], popular=False)
        for package in extra["packages"]:
            package["code"] = package["code"].replace(template["code"], code, 1) + "-B"
            package["networks"] = [{"country": code, "operators": ["Local Mobile"]}]
        data["destinations"].append(extra)
    data["destinations"] = data["destinations"][:size]
    path.write_text(json.dumps(data), encoding="utf-8")


def downloads(site: Path, page: str, package: str = "") -> tuple[int, list[str]]:
    """gzip bytes of a page and everything it loads (CSS, deferred JS, icon, flags, fetched data;
    the checkout fetches the summary of its `package`)."""
    html_file = site / page.lstrip("/") / "index.html"
    html = html_file.read_text(encoding="utf-8")
    assets = re.findall(r'<(?:link[^>]+rel="(?:stylesheet|icon)"[^>]+href|script[^>]+src)="([^"]+)"', html)
    assets += re.findall(r'data-index="([^"]+)"', html)
    # Images too (the SVG flags), each once however often the page shows it.
    assets += dict.fromkeys(re.findall(r'<img[^>]+src="(/[^"]+)"', html))
    assets += [f"{prefix}{checkout_shard(package)}.json" for prefix in re.findall(r'data-packages="([^"]+)"', html)]
    third_party = [url for url in assets if not url.startswith("/") or url.startswith("//")]
    total = len(gzip.compress(html.encode("utf-8"), 6))
    for url in assets:
        if url in third_party:
            continue
        total += len(gzip.compress((site / url.lstrip("/")).read_bytes(), 6))
    return total, third_party


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        shipped = tmp_path / "shipped"
        catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
        shipped_cold = build(shipped)
        # Side by side, alternating, so both see the same machine load; medians of 3.
        ours, plain = [], []
        for _ in range(3):
            ours.append(build(shipped))
            plain.append(plain_pelican(tmp_path / "plain"))
        shipped_s, plain_s = sorted(ours)[1], sorted(plain)[1]
        shipped_destinations = len(catalogue["destinations"])
        pages = sum(1 for _ in shipped.rglob("*.html"))

        big_catalogue = tmp_path / "catalog-250.json"
        catalogue_of(TARGET_DESTINATIONS, big_catalogue)
        big = tmp_path / "big"
        big_s = min(build(big, big_catalogue) for _ in range(3))
        big_pages = sum(1 for _ in big.rglob("*.html"))

        editor_s, serve_full_s = editor_rebuild(tmp_path / "editor")

        print("Site build (wall time of `python -m pelican`, a fresh process and an empty output folder each)")
        print(f"  shipped catalogue: {shipped_destinations} destinations x 3 languages: "
              f"{shipped_s:.2f} s (median of 3; first, cold: {shipped_cold:.2f} s), {pages} HTML pages, "
              f"{sum(1 for p in shipped.rglob('*') if p.is_file())} files")
        ratio = shipped_s / plain_s
        print(f"  plain Pelican, {PLAIN_PAGES} Markdown pages with a table: {plain_s:.2f} s (median of 3); "
              f"ours / plain = {ratio:.2f}  [target <= {TARGET_RATIO}: {'ok' if ratio <= TARGET_RATIO else 'OVER'}]")
        print(f"  {TARGET_DESTINATIONS}-destination catalogue: {big_s:.2f} s (best of 3), {big_pages} HTML pages"
              f"  [target <= {BUDGET_BUILD_S:.0f} s: {'ok' if big_s <= BUDGET_BUILD_S else 'OVER'}]")
        print(f"  `make serve` after an editor saves one Markdown page: {editor_s:.2f} s (median of "
              f"{EDITOR_REBUILDS}) beside a full rebuild in the same process: {serve_full_s:.2f} s (median "
              f"of 3)  [target < {TARGET_EDITOR_S} s, aim {AIM_EDITOR_S} s: "
              f"{'ok' if editor_s < TARGET_EDITOR_S else 'OVER'}]")
        print("Bytes a browser downloads (HTML + CSS + JS + icon + flags + fetched data, gzip -6)")
        places = len(gzip.compress((shipped / "data" / "places.json").read_bytes(), 6))
        print(f"  + the search's cities (/data/places.json, fetched after three letters typed): {places / 1024:.1f} KB")
        turkey = next(d for d in catalogue["destinations"] if d["code"] == "TR")
        largest = max(catalogue["destinations"], key=lambda d: (shipped / "kk" / "esim" / d["code"].lower()
                                                                / "index.html").stat().st_size)
        largest_page = f"/kk/esim/{largest['code'].lower()}/"
        # The page of the heaviest flag shipped (Mexico's 29.8 KB one until it was simplified).
        flag = max((f for f in (shipped / "theme" / "flags").glob("*.svg") if f.stem != "globe"),
                   key=lambda f: len(gzip.compress(f.read_bytes(), 6)))
        flag_page = f"/ru/esim/{flag.stem}/"
        for label, page, budget in (
            ("home /ru/", "/ru/", BUDGET_DESTINATION_GZIP),
            ("home /kk/", "/kk/", BUDGET_DESTINATION_GZIP),
            ("destination /kk/esim/tr/", "/kk/esim/tr/", BUDGET_DESTINATION_GZIP),
            ("Mexico /ru/esim/mx/", "/ru/esim/mx/", BUDGET_DESTINATION_GZIP),
            (f"heaviest flag {flag_page}", flag_page, BUDGET_DESTINATION_GZIP),
            (f"largest destination {largest_page}", largest_page, BUDGET_DESTINATION_GZIP),
            ("checkout /ru/checkout/", "/ru/checkout/", None),
        ):
            size, third_party = downloads(shipped, page, package=turkey["packages"][0]["code"])
            verdict = f"  [target <= 30 KB: {'ok' if size <= budget else 'OVER'}]" if budget else ""
            print(f"  {label}: {size / 1024:.1f} KB, third-party requests: {len(third_party)}{verdict}")


if __name__ == "__main__":
    main()
