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
# Flags whose emblem is part of the flag: the stripes as flag-icons draws them and the emblem
# drawn in a few shapes, as much as a 24-32 px flag can show. flag-icons' Mexico weighs 29.8 KB
# gzip (its eagle alone busts a destination page's 30 KB budget), Montenegro's and El Salvador's
# 21-22 KB (their pages were at 29.4-29.9 KB) and Egypt's 3.5 KB (the home page lists it among
# the popular destinations); these are under 0.3 KB each.
SIMPLIFIED_EMBLEMS = {
    # Green, white, red; the eagle on the cactus in the oak and laurel wreath.
    "MX": '<path fill="#ce1126" d="M0 0h640v480H0z"/><path fill="#fff" d="M0 0h426.7v480H0z"/>'
          '<path fill="#006847" d="M0 0h213.3v480H0z"/>'
          '<path fill="none" stroke="#006847" stroke-width="12" d="M262 238a58 58 0 0 0 116 0"/>'
          '<path fill="#8c5a2b" d="M320 176c-10 0-17 8-15 18l-37-10 15 37 22 5v28h30v-28l22-5 15-37-37 10'
          'c2-10-5-18-15-18z"/><path fill="#5c8f29" d="M300 268h40v10h-40z"/>',
    # Red, white, black; the golden eagle of Saladin over its scroll.
    "EG": '<path fill="#000" d="M0 0h640v480H0z"/><path fill="#fff" d="M0 0h640v320H0z"/>'
          '<path fill="#ce1126" d="M0 0h640v160H0z"/>'
          '<path fill="#c09300" d="M320 180c-12 0-20 10-18 22l-44-12 18 44 26 6v32h36v-32l26-6 18-44-44 12'
          'c2-12-6-22-18-22zm-34 112h68v12h-68z"/>',
    # Red in a gold border; the golden double-headed eagle (21.5 KB gzip in flag-icons).
    "ME": '<path fill="#d3ae3b" d="M0 0h640v480H0z"/><path fill="#c40308" d="M24 24h592v432H24z"/>'
          '<g fill="#d3ae3b"><circle cx="292" cy="146" r="14"/><circle cx="348" cy="146" r="14"/>'
          '<path d="M304 100h32v24h-32zM300 170l-70-50 10 130 60 10zM340 170l70-50-10 130-60 10z'
          'M296 160h48v130h-48zM296 290l-16 60h80l-16-60z"/></g>'
          '<path fill="#1d5e91" d="M304 196h32v40c0 10-8 18-16 20-8-2-16-10-16-20z"/>',
    # Blue, white, blue; the triangle of the coat of arms in its wreath (21.8 KB gzip in flag-icons).
    "SV": '<path fill="#0f47af" d="M0 0h640v480H0z"/><path fill="#fff" d="M0 160h640v160H0z"/>'
          '<path fill="none" stroke="#3a7d22" stroke-width="8" d="M276 240a44 44 0 0 0 88 0"/>'
          '<path fill="#d3ae3b" d="M320 196l34 60h-68z"/><path fill="#0f47af" d="M320 214l20 34h-40z"/>',
}
OVERRIDES = {**CIVIL_FLAGS, **SIMPLIFIED_EMBLEMS}
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
    if code in OVERRIDES:
        return _SVG.format(OVERRIDES[code])
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
