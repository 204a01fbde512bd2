"""No buyer reads an untranslated worker text: the `worker` catalogues hold every string the
worker marks, each translated in kk, ru and en with the msgid's placeholders, and plurals
follow each language's rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from worker import locales as i18n
from worker.orders.model import LANGS

ROOT = Path(__file__).resolve().parents[2]


def catalogue(lang: str, root: Path = i18n.CATALOGUES) -> Catalog:
    with (root / lang / "LC_MESSAGES" / "worker.po").open("rb") as po:
        return read_po(po, locale=lang)


def msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The msgids in the worker's code and mail templates today, as `invoke i18n-extract` finds them."""
    pot = tmp_path_factory.mktemp("i18n") / "worker.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel-worker.cfg",
                    "-o", str(pot), "--no-location", "worker"],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as source:
        return {msgid(m) for m in read_po(source) if m.id}


def test_the_mail_templates_and_the_api_texts_are_extracted(extracted: set[str]) -> None:
    assert "Hello!" in extracted  # worker/mail/templates
    assert "Choose a language: kk, ru or en." in extracted  # worker/api_errors.py (N_)
    assert "%(num)d day" in extracted  # worker/catalogue.py (ngettext)


@pytest.mark.parametrize("lang", LANGS)
def test_every_worker_string_is_translated(extracted: set[str], lang: str) -> None:
    messages = {msgid(m): m for m in catalogue(lang) if m.id}
    missing = sorted(extracted - messages.keys())
    assert not missing, f"run `invoke i18n-update` and translate in {lang}: {missing[:10]}"
    untranslated = sorted(
        key for key in extracted
        if messages[key].fuzzy
        or not all(messages[key].string if isinstance(messages[key].string, tuple)
                   else [messages[key].string])
    )
    assert not untranslated, f"{lang}: untranslated or fuzzy in worker.po: {untranslated[:10]}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_translation_keeps_the_placeholders(lang: str) -> None:
    problems = [(m.lineno, errors) for m, errors in catalogue(lang).check()]
    assert not problems, f"{lang}: {problems[:5]}"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", ["1 день", "2 дня", "5 дней", "11 дней", "21 день", "22 дня"]),
        ("kk", ["1 күн", "2 күн", "5 күн", "11 күн", "21 күн", "22 күн"]),
        ("en", ["1 day", "2 days", "5 days", "11 days", "21 days", "22 days"]),
    ],
)
def test_days_take_the_plural_form_of_the_language(lang: str, expected: list[str]) -> None:
    days = [i18n.ngettext("%(num)d day", "%(num)d days", n, lang) % {"num": n}
            for n in (1, 2, 5, 11, 21, 22)]
    assert days == expected


def test_a_language_that_is_not_ours_reads_english() -> None:
    assert i18n.gettext("Hello!", "de") == "Hello!"
    assert i18n.gettext("Hello!", "ru") == "Здравствуйте!"


def test_a_translation_with_a_wrong_placeholder_is_refused_naming_the_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(i18n.CATALOGUES, tmp_path, dirs_exist_ok=True)
    po = tmp_path / "ru" / "LC_MESSAGES" / "worker.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgstr "Установите до %(date)s."', 'msgstr "Установите до %(day)s."'), encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(i18n.TranslationError, match=r"worker\.po:\d+: .*day"):
            i18n.translations("ru")
    finally:
        i18n.translations.cache_clear()
