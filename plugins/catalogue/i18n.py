"""The theme's message catalogues: compile theme/translations/{lang}/LC_MESSAGES/messages.po
when its .mo is missing or older, then load it for Jinja's i18n extension."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


class TranslationsError(RuntimeError):
    """A language has no catalogue; the message says how to create it."""


def load_translations(directory: Path, lang: str) -> Translations:
    po = directory / lang / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not po.exists():
        raise TranslationsError(
            f"{po} is missing; create it with `.venv/bin/pybabel init -i "
            f"{directory}/messages.pot -d {directory} -l {lang}`"
        )
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        # An editor's .po change shows up on the next build (`make serve` too).
        with po.open("rb") as source:
            catalog = read_po(source, locale=lang)
        # Atomic: another build (tests, `make serve`) may be reading the old file meanwhile.
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)
    with mo.open("rb") as source:
        return Translations(source, domain="messages")
