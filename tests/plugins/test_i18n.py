"""Theme catalogues: a fresh checkout has only .po files; the build compiles them."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from catalogue.i18n import TranslationsError, load_translations

ROOT = Path(__file__).resolve().parents[2]


def copy_po(tmp_path: Path, lang: str) -> Path:
    target = tmp_path / lang / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "theme" / "translations" / lang / "LC_MESSAGES" / "messages.po", target)
    return target / "messages.po"


def test_a_catalogue_without_its_mo_file_is_compiled_and_translates(tmp_path: Path) -> None:
    po = copy_po(tmp_path, "ru")
    translations = load_translations(tmp_path, "ru")
    assert po.with_suffix(".mo").is_file()
    assert translations.gettext("Buy") == "Купить"
    assert translations.ngettext("%(num)d day", "%(num)d days", 5) % {"num": 5} == "5 дней"


def test_an_edited_po_file_is_compiled_again(tmp_path: Path) -> None:
    po = copy_po(tmp_path, "kk")
    load_translations(tmp_path, "kk")
    later = time.time() + 5
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Сатып алу"', 'msgstr "Сатып алыңыз"'),
                  encoding="utf-8")
    os.utime(po, (later, later))
    assert load_translations(tmp_path, "kk").gettext("Buy") == "Сатып алыңыз"


def test_a_missing_catalogue_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(TranslationsError, match="pybabel init"):
        load_translations(tmp_path, "kk")
