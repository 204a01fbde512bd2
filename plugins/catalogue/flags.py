"""SVG flags from the `flag-icons` npm package (MIT): emoji flags show as letter pairs on
Windows and as empty boxes without an emoji font.

The build copies only the flags the catalogue uses to /theme/flags/{code}.svg, one small
file each, shown with <img width height> (no layout shift) and cached by the browser for
every page (`invoke publish` gives them hashed names, cached for a year).
"""

from __future__ import annotations

import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "flag-icons" / "flags" / "4x3"
GLOBE = "/theme/flags/globe.svg"
# Three coats of arms weigh 15-51 KB gzip, more than a whole page's budget; these countries
# have an official civil flag without them, which is what a 24 px flag can show anyway.
CIVIL_FLAGS = {
    "ES": '<path fill="#aa151b" d="M0 0h640v480H0z"/><path fill="#f1bf00" d="M0 120h640v240H0z"/>',
    "RS": '<path fill="#fff" d="M0 0h640v480H0z"/><path fill="#0c4076" d="M0 0h640v320H0z"/>'
          '<path fill="#c6363c" d="M0 0h640v160H0z"/>',
    "BO": '<path fill="#007934" d="M0 0h640v480H0z"/><path fill="#ffe000" d="M0 0h640v320H0z"/>'
          '<path fill="#d52b1e" d="M0 0h640v160H0z"/>',
}
# A globe for regions, in the site's colours (flag-icons has none).
GLOBE_SVG = (
    '<rect width="640" height="480" fill="#00738a"/><g fill="none" stroke="#fff" stroke-width="24">'
    '<circle cx="320" cy="240" r="170"/><ellipse cx="320" cy="240" rx="75" ry="170"/>'
    '<path d="M150 240h340M180 150h280M180 330h280"/></g>'
)
_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 480">{}</svg>'


class FlagsError(RuntimeError):
    """The flag-icons package is missing; the message says how to install it."""


def url(code: str) -> str:
    """The flag of an ISO 3166 code, or the globe for a region's slug."""
    if len(code) == 2 and code.isalpha() and code.isupper():
        return f"/theme/flags/{code.lower()}.svg"
    return GLOBE


def svg(code: str) -> str:
    """The flag's SVG as shipped, without its id and the whitespace between tags."""
    if code in CIVIL_FLAGS:
        return _SVG.format(CIVIL_FLAGS[code])
    source = SOURCE / f"{code.lower()}.svg"
    if not source.exists():  # CLDR codes flag-icons lacks (Ascension AC, Sark CQ, Ceuta EA)
        return _SVG.format(GLOBE_SVG)
    text = source.read_text(encoding="utf-8")
    text = re.sub(r'\s+id="flag-icons-[a-z-]+"', "", text, count=1)
    return re.sub(r">\s+<", "><", text).strip()


def write_flags(codes: set[str], directory: Path) -> int:
    """Write the flags of these ISO codes, and the globe, into `directory`; returns how many."""
    if not SOURCE.is_dir():
        raise FlagsError(f"{SOURCE} is missing: run `npm ci` (the flag-icons package draws the flags)")
    directory.mkdir(parents=True, exist_ok=True)
    for code in sorted(codes):
        (directory / f"{code.lower()}.svg").write_text(svg(code), encoding="utf-8")
    (directory / "globe.svg").write_text(_SVG.format(GLOBE_SVG), encoding="utf-8")
    return len(codes) + 1
