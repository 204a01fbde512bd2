"""The worker's texts in the buyer's language, from the gettext catalogues of the `worker` domain.

The catalogues are `worker/translations/{kk,ru,en}/LC_MESSAGES/worker.po` (the msgids are the
English texts); `invoke i18n-update` adds new msgids to them. Each `.po` is compiled in memory
the first time its language is asked for, so no compile step has to run before the worker.
"""

from __future__ import annotations

import gettext as _gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from worker.orders.model import LANGS

DOMAIN = "worker"
CATALOGUES = Path(__file__).parent / "translations"


class TranslationError(RuntimeError):
    """A catalogue entry cannot be used; the message names the file, the line and the fix."""


def N_(msgid: str) -> str:
    """Mark a text for `invoke i18n-extract` where it is defined; translate it where it is shown."""
    return msgid


@cache
def translations(lang: str) -> _gettext.GNUTranslations:
    """The catalogue of ``lang`` (English for a language that is not one of ours).

    Fuzzy entries are left out, so an unreviewed translation shows the English text. An entry
    whose placeholders differ from its msgid's raises TranslationError instead of failing later,
    when a buyer's e-mail is formatted.
    """
    lang = lang if lang in LANGS else "en"
    path = CATALOGUES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalogue = read_po(po, locale=lang, domain=DOMAIN)
    problems = [f"{path}:{m.lineno}: {error}" for m, errors in catalogue.check() for error in errors]
    if problems:
        raise TranslationError(f"{problems[0]}; make the msgstr use the msgid's placeholders")
    mo = io.BytesIO()
    write_mo(mo, catalogue)
    mo.seek(0)
    return _gettext.GNUTranslations(mo)


def gettext(msgid: str, lang: str) -> str:
    """``msgid`` in ``lang``."""
    return translations(lang).gettext(msgid)


def ngettext(singular: str, plural: str, n: int, lang: str) -> str:
    """The form of ``singular``/``plural`` that ``n`` takes in ``lang`` (Russian has three)."""
    return translations(lang).ngettext(singular, plural, n)
