"""`invoke serve`: build the site, serve output/ on localhost and rebuild on every change.

`pelican --autoreload` rebuilds all ~700 pages (2-3 s) whenever anything changes. An editor
mostly changes a Markdown page, and a Markdown page's body appears on its own page only:
the other pages show just its title, slug and languages (footer, header, sitemap). So after
a change under content/pages/ only the Markdown pages are rendered (the catalogue plugin's
CATALOGUE_PAGES_ONLY); when their titles, slugs or languages changed, or anything else
changed (data, theme, translations), the whole site is built, in this process. A change to
plugins/ or pelicanconf.py restarts the process so that the new code is the one running.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pelican import Pelican, signals
from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer
from pelican.settings import read_settings

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

# What the other pages show of a Markdown page: (slug, language, title, status).
Signature = frozenset[tuple[str, str, str, str]]


class SiteBuilder:
    """Full and Markdown-only builds of one site, remembering what the last build's pages
    showed to the other pages."""

    def __init__(self, settings_file: Path, overrides: dict[str, Any] | None = None) -> None:
        self.settings_file = settings_file
        self.overrides = overrides or {}
        self.signature: Signature | None = None

    def full(self) -> float:
        """Build every page; returns the seconds it took."""
        started = time.perf_counter()
        self.signature = self._run(pages_only=False)
        return time.perf_counter() - started

    def rebuild(self, changed: Iterable[Path]) -> tuple[str, float]:
        """Bring output/ up to date after `changed` files changed: ("pages" or "full", seconds).
        The output is what a full build of the same sources writes."""
        started = time.perf_counter()
        content = Path(self._settings()["PATH"]).resolve() / "pages"
        if self.signature is not None and all(
                path.suffix == ".md" and path.resolve().is_relative_to(content) for path in changed):
            if self._run(pages_only=True) == self.signature:
                return "pages", time.perf_counter() - started
            log.info("serve: a page's title, slug or language changed: building every page")
        self.signature = self._run(pages_only=False)
        return "full", time.perf_counter() - started

    def _settings(self, **extra: Any) -> dict[str, Any]:
        settings: dict[str, Any] = read_settings(str(self.settings_file), override={**self.overrides, **extra})
        return settings

    def _run(self, pages_only: bool) -> Signature:
        seen: list[Signature] = []

        def capture(generator: Any) -> None:
            seen.append(frozenset(
                (page.slug, page.lang, page.title, page.status)
                for page in [*generator.pages, *generator.translations,
                             *generator.hidden_pages, *generator.draft_pages]))

        signals.page_generator_finalized.connect(capture)
        try:
            Pelican(self._settings(CATALOGUE_PAGES_ONLY=pages_only)).run()
        finally:
            signals.page_generator_finalized.disconnect(capture)
        return seen[-1]


def compile_translations() -> None:
    """The theme's .po into the .mo the build reads (as `invoke i18n-compile`)."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d",
                    str(ROOT / "theme" / "translations")], check=True, stdout=subprocess.DEVNULL)


def _watched(path: str) -> bool:
    """Sources only: not the compiled catalogues (the build writes them) or bytecode."""
    return not (path.endswith((".mo", ".pyc", "~")) or "__pycache__" in path or "/." in path)


def serve(port: int, output: Path) -> None:
    """Build, serve and rebuild until Ctrl-C."""
    import watchfiles

    builder = SiteBuilder(ROOT / "pelicanconf.py", {"OUTPUT_PATH": str(output)})
    print(f"Built every page in {builder.full():.2f} s")
    RootedHTTPServer.allow_reuse_address = True
    httpd = RootedHTTPServer(str(output), ("127.0.0.1", port), ComplexHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"Serving the site at http://127.0.0.1:{port}/ - Ctrl-C stops")
    code = [ROOT / "plugins", ROOT / "pelicanconf.py"]
    for changes in watchfiles.watch(ROOT / "content", ROOT / "theme", *code,
                                    watch_filter=lambda _change, path: _watched(path)):
        changed = {Path(path) for _change, path in changes}
        if any(path.is_relative_to(folder) for path in changed for folder in code):
            print("The plugin or the settings changed: restarting", flush=True)
            httpd.server_close()
            os.execv(sys.executable, [sys.executable, "-m", "scripts.serve", *sys.argv[1:]])
        try:
            if any(path.suffix == ".po" for path in changed):
                compile_translations()
            kind, seconds = builder.rebuild(changed)
        except Exception:  # a broken page or template: say so, keep serving the last build
            log.exception("The build failed: fix the file and save it again")
            continue
        what = "the Markdown pages" if kind == "pages" else "every page"
        print(f"{', '.join(sorted(p.name for p in changed))}: rebuilt {what} in {seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--output", type=Path, default=ROOT / "output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.chdir(ROOT)  # pelicanconf.py names the data files relative to the project
    try:
        serve(args.port, args.output)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
