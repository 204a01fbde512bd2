"""`invoke serve`'s rebuild after an editor saves a Markdown page (scripts/serve.py, issue 15):
it renders only the Markdown pages, and the site it leaves is the one a full build writes
from the same sources. The builds run in this process, as under `invoke serve`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.serve import SiteBuilder, compile_translations

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "content" / "data"


def builder(content: Path, output: Path) -> SiteBuilder:
    return SiteBuilder(ROOT / "pelicanconf.py", {
        "PATH": str(content), "OUTPUT_PATH": str(output),
        "CATALOGUE_PATH": str(DATA / "catalog.json"), "DEVICES_PATH": str(DATA / "devices.json"),
        "SEARCH_ALIASES_PATH": str(DATA / "aliases.json"),
        "DESTINATIONS_PATH": str(DATA / "destinations.json"),
    })


def files(output: Path) -> dict[str, tuple[bytes, int]]:
    """Every output file: its bytes and when it was written."""
    return {str(path.relative_to(output)): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in output.rglob("*") if path.is_file()}


def assert_same_site(served: Path, full: Path) -> None:
    ours, theirs = files(served), files(full)
    assert sorted(ours) == sorted(theirs)
    differ = [name for name in ours if ours[name][0] != theirs[name][0]]
    assert differ == [], f"the rebuild left these files unlike a full build: {differ[:5]}"


@pytest.fixture
def editor(tmp_path: Path) -> tuple[Path, SiteBuilder]:
    """A copy of the content that the test edits, built once in full as `invoke serve` starts."""
    compile_translations()
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "pages", content / "pages")
    served = builder(content, tmp_path / "served")
    served.full()
    return content, served


def test_a_changed_page_is_rebuilt_alone_and_as_a_full_build_writes_it(
        editor: tuple[Path, SiteBuilder], tmp_path: Path) -> None:
    content, served = editor
    output = tmp_path / "served"
    before = files(output)
    faq = content / "pages" / "en" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "\nA new answer about *roaming* in Bali.\n",
                   encoding="utf-8")

    kind, _seconds = served.rebuild([faq])

    assert kind == "pages"
    assert "A new answer about <em>roaming</em> in Bali." in (output / "en" / "faq" / "index.html").read_text()
    after = files(output)
    # The catalogue pages (destinations, home, checkout...) are still there, not rewritten.
    markdown = {f"{md.parent.name}/{md.stem}/index.html" for md in (content / "pages").rglob("*.md")}
    catalogue = [name for name in before if name.endswith(".html") and name not in markdown]
    assert "kk/esim/tr/index.html" in catalogue and len(catalogue) > 600
    assert [name for name in catalogue if after[name] != before[name]] == []
    builder(content, tmp_path / "full").full()
    assert_same_site(output, tmp_path / "full")


def test_a_new_page_title_rebuilds_every_page_that_shows_it(
        editor: tuple[Path, SiteBuilder], tmp_path: Path) -> None:
    content, served = editor
    faq = content / "pages" / "ru" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8").replace("Title: Вопросы и ответы", "Title: Частые вопросы"),
                   encoding="utf-8")

    kind, _seconds = served.rebuild([faq])

    # The footer of every Russian page links the page by its title.
    assert kind == "full"
    assert "Частые вопросы</a>" in (tmp_path / "served" / "ru" / "esim" / "tr" / "index.html").read_text()
    builder(content, tmp_path / "full").full()
    assert_same_site(tmp_path / "served", tmp_path / "full")


def test_a_data_change_rebuilds_every_page(editor: tuple[Path, SiteBuilder]) -> None:
    _content, served = editor
    assert served.rebuild([DATA / "catalog.json"])[0] == "full"
