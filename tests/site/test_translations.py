"""No language shows an untranslated theme string: the catalogues hold every string the
templates use, each translated, and the Kazakh and Russian pages show none in English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from site_helpers import LANGS, read

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "theme" / "translations"


def catalogue(lang: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The msgids in the templates and the plugin today, extracted as `invoke i18n-extract` does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-o", str(pot), "--no-location", "theme", "plugins"],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as source:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}


@pytest.mark.parametrize("lang", LANGS)
def test_every_theme_string_is_translated(extracted: set[str], lang: str) -> None:
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(lang) if m.id}
    missing = sorted(extracted - messages.keys())
    assert not missing, f"run `invoke i18n-update` and translate in {lang}: {missing[:10]}"
    untranslated = sorted(
        key for key in extracted
        if not all(messages[key].string if isinstance(messages[key].string, tuple) else [messages[key].string])
        or messages[key].fuzzy
    )
    assert not untranslated, f"{lang}: untranslated or fuzzy: {untranslated[:10]}"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_kazakh_and_russian_pages_show_no_english_theme_string(site: Path, lang: str) -> None:
    english = {m.id for m in catalogue(lang) if isinstance(m.id, str) and m.id and m.string != m.id
               and len(m.id) > 12 and "%" not in m.id}
    for path in ("", "esim/tr/", "esim/europe/", "devices/", "checkout/", "order/", "account/", "offer/"):
        html = (site / lang / path / "index.html").read_text(encoding="utf-8")
        text = read(site, f"/{lang}/{path}").text
        shown = [msgid for msgid in english if msgid in text or f'"{msgid}"' in html]
        assert not shown, f"/{lang}/{path}: {shown[:5]}"
