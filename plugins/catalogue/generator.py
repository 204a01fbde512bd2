"""The Pelican generator that writes every page of the storefront in kk, ru and en.

Destination, device, checkout, order and account pages are rendered straight from data
with one Jinja environment per language (no Markdown), which keeps a 750-page build
within a few seconds. Pelican still reads the Markdown pages; this generator renders
them in the same theme so that every page shares one layout and one language switcher.
"""

from __future__ import annotations

import functools
import json
import logging
import unicodedata
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator

from . import flags, localize, offers, search
from .devices import load_devices
from .i18n import load_translations
from .offers import data_text, days_text
from .schema import load_catalogue
from .sitemap import write_sitemap

log = logging.getLogger(__name__)

LANGS = localize.LANGS
CHECKOUT_SHARDS = 32
# Pages every language has, as (template, path under /{lang}/, indexable).
APP_PAGES = (
    ("home.html", "", True),
    ("devices.html", "devices/", True),
    ("checkout.html", "checkout/", False),
    ("order.html", "order/", False),
    ("account.html", "account/", False),
)


class CatalogueGenerator(Generator):  # type: ignore[misc]
    """Reads the catalogue, devices and Pelican's pages; writes the whole site."""

    def generate_context(self) -> None:
        self.catalogue = load_catalogue(Path(self.settings["CATALOGUE_PATH"]))
        self.top_up_codes = _top_up_codes(Path(self.settings["CATALOGUE_PATH"]))
        self.devices = load_devices(Path(self.settings["DEVICES_PATH"]))
        self.aliases = search.load_aliases(Path(self.settings["SEARCH_ALIASES_PATH"]))
        # The home page lists popular destinations in the order of destinations.json's
        # "popular" (the editor's order: most bought first), not alphabetically.
        places = json.loads(Path(self.settings["DESTINATIONS_PATH"]).read_text(encoding="utf-8"))
        self.popularity = {code: rank for rank, code in enumerate(places.get("popular", []))}
        self.translations = {
            lang: _memoized(load_translations(Path(self.theme) / "translations", lang)) for lang in LANGS
        }
        log.debug("catalogue: %d destinations", len(self.catalogue["destinations"]))

    def generate_output(self, writer: Any) -> None:
        out = Path(self.output_path)
        destinations = sorted(self.catalogue["destinations"], key=lambda d: d["code"])
        pages = _markdown_pages(self.context)
        write = _Writer(out)
        if self.settings.get("CATALOGUE_PAGES_ONLY"):
            # `invoke serve` after an editor saved a Markdown page (scripts/serve.py): only the
            # Markdown pages, rendered exactly as below; the rest of output/ is from a full build,
            # which serve.py runs instead when a page's title, slug or language changed.
            for lang in LANGS:
                self._write_markdown_pages(write, lang, pages, self._environment(lang, pages),
                                           self._base(lang, destinations))
            log.info("catalogue: wrote %d Markdown pages only", write.pages)
            return
        for lang in LANGS:
            # (path under /{lang}/, is the home page): the same paths in every language.
            indexable = self._write_language(write, lang, destinations, pages)

        root = self._environment("en", pages)
        write.text("index.html", root.get_template("root.html").render(lang="en", page_path=""))
        write.text("404.html", root.get_template("root-404.html").render(lang="en", page_path=None))
        write.json("data/packages.json", _packages(destinations))
        write.json("data/places.json", search.build_places(destinations))
        flags.write_flags({country for d in destinations for country in d["countries"]}, out / "theme" / "flags")
        site_url = self.settings["SITE_URL"].rstrip("/")
        write.text("robots.txt", f"User-agent: *\nAllow: /\nDisallow: /*/checkout/\nDisallow: /*/order/\n"
                                 f"Disallow: /*/account/\nSitemap: {site_url}/sitemap.xml\n")
        write_sitemap(out / "sitemap.xml", site_url, LANGS, indexable)
        log.info("catalogue: wrote %d pages and %d data files", write.pages, write.files - write.pages)

    def _write_language(self, write: _Writer, lang: str, destinations: list[dict[str, Any]],
                        pages: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
        """Every page and data file of one language; returns the indexable paths."""
        env = self._environment(lang, pages)
        base = self._base(lang, destinations)
        indexable: list[tuple[str, bool]] = []

        write.json(f"data/search.{lang}.json", search.build_index(destinations, self.aliases, lang))
        # The chat panel's texts, fetched only when a visitor opens the panel (issue 11).
        write.text(f"data/chat.{lang}.json", env.get_template("chat_strings.html").render(base))
        # The checkout page downloads only the shard holding its package (a few KB), not the
        # whole catalogue; a few dozen files keep the build fast (one per package would not).
        shards: dict[int, dict[str, Any]] = {}
        for code, summary in _packages_for_checkout(destinations, lang, self.translations[lang]).items():
            shards.setdefault(checkout_shard(code), {})[code] = summary
        for shard, summaries in shards.items():
            write.json(f"data/checkout/{lang}/{shard}.json", summaries)

        for name, path, listed in APP_PAGES:
            extra = {"devices": self.devices} if name == "devices.html" else {}
            write.page(f"{lang}/{path}", env.get_template(name).render(base, page_path=path, **extra))
            if listed:
                indexable.append((path, path == ""))

        template = env.get_template("destination.html")
        for destination in destinations:
            path = f"esim/{destination['code'].lower()}/"
            write.page(f"{lang}/{path}", template.render(base, page_path=path, destination=destination))
            indexable.append((path, False))

        indexable += self._write_markdown_pages(write, lang, pages, env, base)
        write.text(f"{lang}/404.html", env.get_template("404.html").render(base, page_path=None))
        return indexable

    def _base(self, lang: str, destinations: list[dict[str, Any]]) -> dict[str, Any]:
        """The context every page of a language is rendered with."""
        regions_of: dict[str, list[dict[str, Any]]] = {}
        for region in (d for d in destinations if d["type"] == "region"):
            for country in region["countries"]:
                regions_of.setdefault(country, []).append(region)
        return {"lang": lang, "destinations": destinations, "regions_of": regions_of,
                "by_code": {d["code"]: d for d in destinations}, "top_up_codes": self.top_up_codes}

    @staticmethod
    def _write_markdown_pages(write: _Writer, lang: str, pages: dict[str, dict[str, Any]],
                              env: Environment, base: dict[str, Any]) -> list[tuple[str, bool]]:
        """The editors' Markdown pages of one language; returns their (indexable) paths."""
        template = env.get_template("page.html")
        written: list[tuple[str, bool]] = []
        for slug, by_lang in pages.items():
            if lang in by_lang:
                write.page(f"{lang}/{slug}/", template.render(base, page_path=f"{slug}/", page=by_lang[lang]))
                written.append((f"{slug}/", False))
        return written

    def _environment(self, lang: str, pages: dict[str, dict[str, Any]]) -> Environment:
        """One environment per language: its catalogue, and helpers bound to that language."""
        env = Environment(
            loader=FileSystemLoader(str(Path(self.theme) / "templates")),
            # A misspelt or missing variable stops the build instead of printing nothing.
            undefined=StrictUndefined,
            **self.settings["JINJA_ENVIRONMENT"],
        )
        translations: Translations = self.translations[lang]
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        settings = self.settings
        env.globals.update(
            LANGS=LANGS,
            SITE_URL=settings["SITE_URL"].rstrip("/"),
            SITENAME=settings["SITENAME"],
            WORKER_URL=settings["WORKER_URL"],
            SUPPORT=settings["SUPPORT"],
            SELLER_IIN=settings["SELLER_IIN"],
            THEME=f"/{settings['THEME_STATIC_DIR']}",
            PAGES=pages,
            CHECKOUT_SHARDS=CHECKOUT_SHARDS,
            language_name=localize.language_name,
            price_template=localize.price_template(lang),
            date_template=localize.date_template(lang),
            data_text=lambda package: data_text(package, lang, translations),
            days_text=lambda days: days_text(days, translations),
        )
        env.filters.update(
            price=lambda amount: localize.price(amount, lang),
            volume=lambda mb: localize.volume(mb, lang),
            country=lambda code: localize.country_name(code, lang),
            dest_name=lambda destination: localize.destination_name(destination, lang),
            flag=_flag_img,
            by_name=lambda items: sorted(
                items, key=lambda d: localize.sort_key(localize.destination_name(d, lang), lang)),
            coverage=lambda destination: _coverage(destination, lang),
            by_popularity=lambda items: sorted(
                (d for d in items if d["popular"]),
                key=lambda d: (self.popularity.get(d["code"], len(self.popularity)),
                               localize.sort_key(localize.destination_name(d, lang), lang))),
            az_index=lambda items: _az_index(items, lang),
            long_date=lambda iso: localize.long_date(iso, lang),
            offer_ld=lambda package: _offer(package, lang, translations, settings["SITE_URL"]),
            package_groups=lambda destination: offers.groups(destination, lang, translations),
            tojson_script=_json_for_script,
        )
        # The same footer on 240 pages a language: rendered once (its texts cost a third
        # of the gettext calls of a build otherwise).
        env.globals["FOOTER"] = Markup(env.get_template("footer.html").render(lang=lang))
        return env


def _memoized(translations: Translations) -> Translations:
    """The catalogue with each lookup done once: a build asks for the same few hundred
    texts some 60,000 times (every card, every footer)."""
    for name in ("gettext", "ngettext", "ugettext", "ungettext"):
        if hasattr(translations, name):
            setattr(translations, name, functools.cache(getattr(translations, name)))
    return translations


class _Writer:
    """Writes output files (creating folders once) and counts them for the build log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pages = 0
        self.files = 0
        self._dirs: set[Path] = set()

    def text(self, name: str, content: str) -> None:
        path = self.root / name
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        path.write_text(content, encoding="utf-8")
        self.files += 1

    def page(self, directory: str, html: str) -> None:
        self.text(f"{directory}index.html", html)
        self.pages += 1

    def json(self, name: str, data: Any) -> None:
        self.text(name, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json"> and application/ld+json."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _flag_img(code: str, lazy: bool = True) -> Markup:
    """The flag as an image of the 4x3 set: decorative (the name is beside it), sized so
    nothing moves when it arrives, lazy below the first screen."""
    loading = ' loading="lazy"' if lazy else ""
    return Markup(f'<img class="flag" src="{flags.url(code)}" width="24" height="18" alt=""{loading}>')


def _az_index(destinations: Any, lang: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Destinations by their name's first letter in the language: [("А", [...]), ...]."""
    letters: dict[str, list[dict[str, Any]]] = {}
    named = [(localize.destination_name(d, lang), d) for d in destinations]
    for name, destination in sorted(named, key=lambda item: localize.sort_key(item[0], lang)):
        letter = unicodedata.normalize("NFD", name[:1].upper())[0]
        letters.setdefault(letter, []).append(destination)
    return list(letters.items())


def _coverage(destination: dict[str, Any], lang: str) -> list[tuple[str, list[str]]]:
    """Every covered country (by name in the language) with the operators of all packages."""
    operators: dict[str, list[str]] = {country: [] for country in destination["countries"]}
    for package in destination["packages"]:
        for network in package["networks"]:
            known = operators[network["country"]]
            known.extend(op for op in network["operators"] if op not in known)
    return sorted(operators.items(), key=lambda item: localize.sort_key(localize.country_name(item[0], lang), lang))


def _offer(package: dict[str, Any], lang: str, translations: Translations, site_url: str) -> dict[str, Any]:
    """schema.org Offer for one package (destination pages' JSON-LD)."""
    return {
        "@type": "Offer",
        "sku": package["code"],
        "name": f"{data_text(package, lang, translations)}, {days_text(package['days'], translations)}",
        "price": str(package["price_kzt"]),
        "priceCurrency": "KZT",
        "availability": "https://schema.org/InStock",
        "url": f"{site_url.rstrip('/')}/{lang}/checkout/?package={package['code']}",
    }


def _markdown_pages(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pelican's pages by slug and language: {"offer": {"en": page, "ru": page, ...}}."""
    pages: dict[str, dict[str, Any]] = {}
    for page in context.get("pages", []):
        for item in [page, *page.translations]:
            if item.lang not in LANGS:
                raise ValueError(f"{item.source_path}: Lang: {item.lang!r} must be one of {', '.join(LANGS)}")
            pages.setdefault(item.slug, {})[item.lang] = item
    return pages


def _packages(destinations: list[dict[str, Any]]) -> dict[str, Any]:
    """/data/packages.json: what every package is, in numbers (the contract in architecture.md)."""
    return {
        package["code"]: {
            "price_kzt": package["price_kzt"],
            "destination": destination["code"],
            "data_mb": package["data_mb"],
            "fair_use": package["fair_use"],
            "days": package["days"],
            "speed": package["speed"],
            "hotspot": package["hotspot"],
        }
        for destination in destinations
        for package in destination["packages"]
    }


def _packages_for_checkout(destinations: list[dict[str, Any]], lang: str,
                           translations: Translations) -> dict[str, Any]:
    """What the checkout page shows of each package, already in the language."""
    return {
        package["code"]: {
            "name": localize.destination_name(destination, lang),
            # checkout.js shows it as <img width height> before the name (issue 15).
            "flag_src": flags.url(destination["code"]),
            "slug": destination["code"].lower(),
            "data": data_text(package, lang, translations),
            "days": days_text(package["days"], translations),
            "price_kzt": package["price_kzt"],
            "price": localize.price(package["price_kzt"], lang),
        }
        for destination in destinations
        for package in destination["packages"]
    }


def checkout_shard(code: str) -> int:
    """The file /data/checkout/{lang}/{shard}.json that holds a package; checkout.js
    computes the same hash (31-multiplier string hash, 32 bits, modulo CHECKOUT_SHARDS)."""
    value = 0
    for char in code:
        value = (value * 31 + ord(char)) & 0xFFFFFFFF
    return value % CHECKOUT_SHARDS


def get_generators(pelican: Any) -> type[CatalogueGenerator]:
    return CatalogueGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)


def _top_up_codes(catalogue_path: Path) -> frozenset[str]:
    """The plans that can be topped up (issue 12): `topups.json` beside the catalogue, which
    `invoke sync-catalog` writes; none without it."""
    path = catalogue_path.with_name("topups.json")
    if not path.exists():
        return frozenset()
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["plans"])
