"""Site settings for a local build (`make build`, `make serve`); publishconf.py states
only what publishing changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

SITENAME = "Qazaq eSIM"
# Where the site is served; canonical URLs, hreflang alternates, Open Graph and the sitemap use it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
SITEURL = ""  # Pelican's own setting: internal links stay root-relative ("/en/esim/tr/")
# The worker that takes payments (docs/architecture.md). Empty: the checkout page says
# payment is unavailable and shows the support contacts.
WORKER_URL = os.environ.get("WORKER_URL", "").rstrip("/")

PATH = "content"
THEME = "theme"
THEME_STATIC_DIR = "theme"
TIMEZONE = "Asia/Almaty"
DEFAULT_LANG = "kk"

PLUGIN_PATHS = ["plugins"]
PLUGINS = ["catalogue"]
CATALOGUE_PATH = "content/data/catalog.json"
DEVICES_PATH = "content/data/devices.json"
SEARCH_ALIASES_PATH = "content/data/aliases.json"
DESTINATIONS_PATH = "content/data/destinations.json"  # the order of "popular" on the home page

JINJA_ENVIRONMENT = {
    "extensions": ["jinja2.ext.i18n"],
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}

# Markdown pages live in content/pages/{kk,ru,en}/ and are rendered by plugins/catalogue
# in the site's layout at /{lang}/{slug}/; Pelican only reads them.
PAGE_PATHS = ["pages"]
PAGE_URL = PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_SAVE_AS = PAGE_LANG_SAVE_AS = ""
# No blog: no articles, archives, tags, authors or feeds.
ARTICLE_PATHS = ["articles"]
DIRECT_TEMPLATES: list[str] = []
FEED_ALL_ATOM = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
STATIC_PATHS: list[str] = []
SLUGIFY_SOURCE = "basename"

# The seller's IIN and the support contacts: one file that the worker reads too
# (worker/config.py). The seller's name and address are theme strings (translated per language).
SELLER = json.loads((Path(__file__).parent / PATH / "data" / "seller.json").read_text(encoding="utf-8"))
SUPPORT = SELLER["support"]  # {"phone", "whatsapp" (the wa.me link), "email"}
SELLER_IIN = SELLER["iin"]
READERS = {"rst": None}  # Markdown only (and no Docutils warning about Kazakh)
