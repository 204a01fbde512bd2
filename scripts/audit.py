"""`make audit`: Lighthouse 12.2.3 (npm, exact) with Debian's Chromium, mobile defaults, on
every page kind in kk, ru and en of a fresh build served with gzip on loopback. Prints one
line per page: performance, accessibility, best practices, SEO, cumulative layout shift.
Prints figures and asserts nothing (the targets are in issue 15); not part of `make test`.

python -m scripts.audit [--only home,destination] [--langs ru]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from starlette.middleware.gzip import GZipMiddleware

from scripts.static_site import create_app

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
# (kind, path under /{lang}/); the checkout with a real package, as a buyer arrives there.
PAGES = (
    ("home", ""),
    ("destination", "esim/tr/"),
    ("region", "esim/europe/"),
    ("devices", "devices/"),
    ("text page", "offer/"),
    ("checkout", "checkout/?package=TR-10GB-30D"),
    ("order", "order/"),
    ("account", "account/"),
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(site: Path) -> tuple[str, uvicorn.Server]:
    """The site with gzip (as Caddy sends it), on a free loopback port, in a thread."""
    app = create_app(site)
    app.add_middleware(GZipMiddleware, minimum_size=256)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def lighthouse(url: str) -> dict[str, object]:
    result = subprocess.run(
        [str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet",
         f"--only-categories={','.join(CATEGORIES)}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"],
        capture_output=True, text=True, timeout=180, env={**os.environ, "CHROME_PATH": CHROME}, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-500:]}")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def line(kind: str, lang: str, report: dict[str, object]) -> str:
    categories = report["categories"]  # type: ignore[index]
    audits = report["audits"]  # type: ignore[index]
    scores = [round((categories[c]["score"] or 0) * 100) for c in CATEGORIES]  # type: ignore[index]
    cls = audits["cumulative-layout-shift"]["numericValue"]  # type: ignore[index]
    failing = sorted(
        name for name, audit in audits.items()  # type: ignore[attr-defined]
        if audit.get("score") is not None and audit["score"] < 1 and audit.get("scoreDisplayMode") == "binary"
    )
    return (f"{kind:<12} {lang}  perf {scores[0]:>3}  a11y {scores[1]:>3}  best {scores[2]:>3}  "
            f"seo {scores[3]:>3}  CLS {cls:.3f}" + (f"  failing: {', '.join(failing)}" if failing else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated page kinds (default: all)")
    parser.add_argument("--langs", default="kk,ru,en")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `npm ci` (lighthouse is a dev dependency)")
    kinds = set(args.only.split(",")) if args.only else {kind for kind, _ in PAGES}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "output"
        # No worker: the checkout says payment is unavailable instead of failing requests.
        env = {**os.environ, "WORKER_URL": "", "SITE_URL": "https://qazaq-esim.com"}
        subprocess.run([sys.executable, "-m", "pelican", "content", "-o", str(site), "-s", "pelicanconf.py", "-q"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        base, server = serve(site)
        try:
            print(f"Lighthouse 12.2.3, mobile defaults, {shutil.which(CHROME) or CHROME}, gzip over loopback")
            for kind, path in PAGES:
                if kind not in kinds:
                    continue
                for lang in args.langs.split(","):
                    print(line(kind, lang, lighthouse(f"{base}/{lang}/{path}")), flush=True)
        finally:
            server.should_exit = True


if __name__ == "__main__":
    main()
