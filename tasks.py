"""Project tasks: `invoke --list` is the help. The Makefile only bootstraps and calls these."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from invoke import Context, task

ROOT = Path(__file__).resolve().parent
PY = sys.executable
OUTPUT = ROOT / "output"
TRANSLATIONS = ROOT / "theme" / "translations"
WORKER_TRANSLATIONS = ROOT / "worker" / "translations"


EXTRACT = ("--no-location --sort-output --project 'Qazaq eSIM' --version 1 "
           "--msgid-bugs-address support@qazaq-esim.com")


@task
def i18n_extract(c: Context) -> None:
    """Extract theme strings into messages.pot and worker strings into worker.pot."""
    c.run(f"{PY} -m babel.messages.frontend extract -F babel.cfg -o {TRANSLATIONS}/messages.pot "
          f"{EXTRACT} theme plugins")
    c.run(f"{PY} -m babel.messages.frontend extract -F babel-worker.cfg "
          f"-o {WORKER_TRANSLATIONS}/worker.pot {EXTRACT} worker")


@task(i18n_extract)
def i18n_update(c: Context) -> None:
    """Merge new strings into the kk, ru and en catalogues (.po) of the theme and the worker."""
    c.run(f"{PY} -m babel.messages.frontend update -i {TRANSLATIONS}/messages.pot -d {TRANSLATIONS} "
          "--ignore-obsolete")
    c.run(f"{PY} -m babel.messages.frontend update -D worker -i {WORKER_TRANSLATIONS}/worker.pot "
          f"-d {WORKER_TRANSLATIONS} --ignore-obsolete")


@task
def i18n_compile(c: Context) -> None:
    """Compile the theme's .po into .mo for the build (not committed); check the worker's .po."""
    c.run(f"{PY} -m babel.messages.frontend compile -d {TRANSLATIONS} --statistics", hide="out")
    # The worker compiles its catalogues in memory when it first needs them (worker/locales.py):
    # nothing to write here, but a broken entry should stop an editor now, not a mail job later.
    from worker.locales import translations

    for lang in ("kk", "ru", "en"):
        translations(lang)


# Front-end code from npm, bundled into theme/static/js/ (committed, so building the site needs
# no Node): entry in theme/src/ → bundle. tests/site/test_js_bundle.py fails when one is stale.
JS_BUNDLES = {"theme/src/email-check.js": "theme/static/js/email-check.js"}


def esbuild_command(entry: str, outfile: str) -> list[str]:
    return ["node_modules/.bin/esbuild", entry, "--bundle", "--minify", "--format=iife",
            "--target=es2017", "--legal-comments=none", f"--outfile={outfile}", "--log-level=warning"]


@task
def js(c: Context) -> None:
    """Bundle the theme's npm code (theme/src/*.js) with esbuild into theme/static/js/."""
    for entry, bundle in JS_BUNDLES.items():
        c.run(" ".join(esbuild_command(entry, bundle)))


@task(i18n_compile)
def build(c: Context, publish: bool = False) -> None:
    """Build the site into output/ (--publish uses publishconf.py)."""
    conf = "publishconf.py" if publish else "pelicanconf.py"
    c.run(f"{PY} -m pelican content -o {OUTPUT} -s {conf} -q")


@task(i18n_compile, help={
    "target": "a folder on this host, or an rsync destination host:/srv/qazaq-esim/site",
    "force": "publish even if the worker's catalogue (CATALOG_PATH) has other prices",
    "worker_catalog": "the worker's catalogue to compare with (default: CATALOG_PATH of .env)",
})
def publish(c: Context, target: str, force: bool = False, worker_catalog: str = "") -> None:
    """Build with publishconf.py, hash and precompress assets, upload a release, switch to it."""
    from invoke.exceptions import Exit

    from scripts.publish import PublishError
    from scripts.publish import publish as run

    catalogue = None if force else Path(worker_catalog) if worker_catalog else _worker_catalogue()
    try:
        done = run(target, worker_catalogue=catalogue, force=force)
    except PublishError as error:
        raise Exit(f"publish: {error}", code=1) from None
    print(f"Published release {done.release}: {done.files} files precompressed, "
          f"{done.seconds:.1f} s.")


def _worker_catalogue() -> Path:
    from invoke.exceptions import Exit

    from worker.config import SettingError, load_settings

    try:
        return load_settings().catalog_path
    except SettingError as error:
        raise Exit(f"publish: the worker's settings do not load ({error}), so its catalogue "
                   "is unknown: pass --worker-catalog PATH (its CATALOG_PATH) or --force",
                   code=1) from None


@task(help={"target": "the folder or rsync destination given to `invoke publish`"})
def rollback(c: Context, target: str) -> None:
    """Switch the live site back to the previous release that publish kept."""
    from invoke.exceptions import Exit

    from scripts.publish import PublishError
    from scripts.publish import rollback as run

    try:
        run(target)
    except PublishError as error:
        raise Exit(f"rollback: {error}", code=1) from None


@task(i18n_compile)
def serve(c: Context, port: int = 8000) -> None:
    """Build, serve on localhost and rebuild whenever content, theme or data change (after a
    Markdown page's change only the Markdown pages: scripts/serve.py)."""
    c.run(f"{PY} -m scripts.serve --port {port} --output {OUTPUT}", pty=True)


@task
def clean(c: Context) -> None:
    """Remove build output and local state."""
    shutil.rmtree(OUTPUT, ignore_errors=True)


@task
def lint(c: Context) -> None:
    """Check types (mypy strict on worker/) and lint (ruff) before the tests."""
    c.run(f"{PY} -m ruff check worker sandboxes scripts plugins benchmarks tasks.py")
    c.run(f"{PY} -m mypy")


@task(lint, build)
def test(c: Context, k: str = "", x: bool = False) -> None:
    """Run the static checks and every test (unit, integration, end-to-end)."""
    args = ["-p", "no:cacheprovider"]
    if k:
        args += ["-k", repr(k)]
    else:  # the whole suite measures worker/ and fails below the floor (pyproject.toml)
        args += ["--cov", "--cov-report=term-missing:skip-covered"]
    if x:
        args.append("-x")
    # Coverage data of the worker processes the tests start goes to a temporary folder, not
    # the checkout.
    data = Path(tempfile.mkdtemp(prefix="qazaq-coverage-")) / ".coverage"
    env = {"PYTHONDONTWRITEBYTECODE": "1", "COVERAGE_FILE": str(data)}
    c.run(f"{PY} -m pytest {' '.join(args)}", pty=False, env=env)


@task
def demo(c: Context) -> None:
    """Build the site and run the whole shop on localhost with the sandboxes; Ctrl-C stops it."""
    import json
    import signal

    from invoke.exceptions import Exit

    from scripts.stack import Stack

    state = ROOT / "var" / "demo"
    stack = Stack(state_dir=state, site_dir=OUTPUT)
    # Ctrl-C, even when started in the background (which ignores SIGINT), and `kill` stop
    # the demo the same way: the finally below stops every process.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.check_ports()  # in a second, not after the build
        # The sandboxes remember nothing across runs, so the demo starts from an empty order
        # store and mailbox: old orders would point at payments and eSIMs nobody knows.
        shutil.rmtree(state, ignore_errors=True)
        print("Building the site (about 10 s)…", flush=True)
        stack.build_site()
        print("Starting the sandboxes, the mailbox, the worker and the site…", flush=True)
        stack.start()
    except RuntimeError as error:  # the message says what failed and what to do
        raise Exit(f"make demo: {error}", code=1) from None
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text("utf-8"))
    codes = [d["code"] for d in catalogue["destinations"]]
    example = f"{stack.site_url}/en/esim/{('TR' if 'TR' in codes else codes[0]).lower()}/"
    token = stack.worker_env()["OPERATOR_TOKEN"]
    from worker.console.accounts import Accounts
    from worker.orders.documents import JsonDoc

    console_link, _ = Accounts(JsonDoc(Path(stack.worker_env()["ORDERS_DB"]).with_name("operators.json"))).add(
        "support@qazaq-esim.com", "Demo Support")
    rel = state.relative_to(ROOT)
    print(f"""
Qazaq eSIM is running on this machine, with sandboxes instead of the bank, the eSIM
supplier and the cash register: no real money, no real eSIM, no e-mail leaves it.

  The shop        {stack.site_url}/en/   (Russian: /ru/, Kazakh: /kk/)
  Try a purchase  {example} → Buy → any e-mail and phone, tick both boxes → Pay
  On the payform  card 4405 6397 0401 5096, expiry 01/27, CVC 321, any name in Latin letters
                  (4000 0000 0000 4848, any future expiry and CVC: declined, insufficient funds)
                  The order page then shows the payment, and the QR code a few seconds later.
  Add data        on a delivered eSIM's order page, or in My eSIMs: "Add data", pay as above
                  (top-ups from the supplier sandbox, in {rel}/topups.json)
  The e-mails     {stack.mailbox_url}   every message the shop sends (QR code, fiscal receipt,
                  My eSIMs sign-in links), whatever the address; files in {rel}/mail/

  Epay sandbox    {stack.url(stack.ports.epay)}/_sandbox/   transactions and callbacks
  eSIM supplier   {stack.url(stack.ports.aggregator)}/_sandbox/state
  Webkassa        {stack.url(stack.ports.webkassa)}/_sandbox/state   fiscal receipts
  Worker          {stack.worker_url}/healthz
  Support console {stack.worker_url}/console/set-password/{console_link}
                  set a password, then sign in as support@qazaq-esim.com; the chat button is
                  on every page of the shop
  Operator API    curl -H 'Authorization: Bearer {token}' \\
                    '{stack.worker_url}/operator/orders?q=ORDER_NUMBER'   (token for this run only)
  Logs, orders    {rel}/logs/, {rel}/orders.json (emptied at every start)

Press Ctrl-C to stop.""", flush=True)
    try:
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        stopped = [name for name, p in stack.processes.items() if p.poll() is not None]
        print(f"{', '.join(stopped)} stopped; see {rel}/logs/. Stopping the rest.", flush=True)
        raise SystemExit(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


@task
def bench_site(c: Context) -> None:
    """Print the site's figures: build times, pages written, bytes each page downloads."""
    c.run(f"{PY} benchmarks/bench_site.py")


@task(help={"only": "comma-separated page kinds: home, destination, region, devices, text page, checkout, "
                     "order, account (default: all)", "langs": "comma-separated (default: kk,ru,en)"})
def audit(c: Context, only: str = "", langs: str = "kk,ru,en") -> None:
    """Lighthouse on every page kind and language of a fresh build, served with gzip (issue 15)."""
    c.run(f"{PY} -m scripts.audit --only '{only}' --langs {langs}", pty=False)


@task(help={"only": "comma-separated sections: publish, bytes, backup (default: all)"})
def bench_deploy(c: Context, only: str = "") -> None:
    """Print the production figures: publish time, bytes Caddy sends with br, backup at 100k."""
    c.run(f"{PY} benchmarks/bench_deploy.py" + (f" --only {only}" if only else ""))


@task(help={"only": "comma-separated sections of benchmarks/bench_worker.py (default: all)"})
def bench(c: Context, only: str = "") -> None:
    """Print the worker's figures: store at 1k-100k orders, checkout, postLink, time-to-QR, sync,
    the embedded store against PostgreSQL side by side, and under abuse (Epay status calls of
    abandoned checkouts, checkout with the limits)."""
    c.run(f"{PY} benchmarks/bench_worker.py" + (f" --only {only}" if only else ""))
    if not only:
        c.run(f"{PY} benchmarks/bench_time_to_qr.py")
        c.run(f"{PY} benchmarks/bench_backends.py")
        c.run(f"{PY} benchmarks/bench_topup.py")
        c.run(f"{PY} benchmarks/bench_abuse.py")


@task(help={"force": "write even if more destinations vanish than pricing.json allows",
            "output": "where to write (default: CATALOG_PATH)"})
def sync_catalog(c: Context, force: bool = False, output: str = "") -> None:
    """Fetch the aggregator's packages into content/data/catalog.json, priced by pricing.json."""
    args = (" --force" if force else "") + (f" --output {output}" if output else "")
    c.run(f"{PY} -m worker.provisioning.catalogue_sync{args}", pty=False)


@task
def aggregator_webhook(c: Context) -> None:
    """Save {WORKER_URL}/aggregator/webhook/{secret} at the aggregator (once; the worker must run)."""
    c.run(f"{PY} -m worker.provisioning.webhook", pty=False)


# ---- Backups (issue 10): see worker/orders/backup.py and docs/operations.md.


def _orders_db(store: str) -> Path:
    from invoke.exceptions import Exit

    from worker.config import SettingError, load_settings

    if store:
        return Path(store)
    try:
        settings = load_settings()
    except SettingError as error:
        raise Exit(f"the worker's settings do not load ({error}): pass --store ORDERS_DB",
                   code=1) from None
    if settings.orders_url:  # everything is in the database then, the chat and console too
        raise Exit("ORDERS_DB is a PostgreSQL URL: its backups are pg_dump's and pg_restore's "
                   "(docs/operations.md, \"Choosing the order store\")", code=1)
    return settings.orders_db


@task(help={"to": "a new or empty folder for this backup",
            "store": "the store's live file (default: ORDERS_DB of .env)"})
def backup(c: Context, to: str, store: str = "") -> None:
    """Back up the order store, archive, journal and accounts while the worker keeps running."""
    from invoke.exceptions import Exit

    from worker.orders.backup import BackupError
    from worker.orders.backup import backup as run

    started = time.monotonic()
    try:
        done = run(_orders_db(store), Path(to))
    except BackupError as error:
        raise Exit(f"backup: {error}", code=1) from None
    print(f"Backed up {done.orders} orders ({done.bytes / 1e6:.1f} MB) into {done.folder} "
          f"in {time.monotonic() - started:.1f} s; manifest.json lists every file's checksum.")


@task(help={"from_": "the backup folder (with its manifest.json)",
            "to": "a new or empty folder (default: the folder of ORDERS_DB)"})
def restore(c: Context, from_: str, to: str = "") -> None:
    """Check a backup against its manifest and restore it into an empty folder."""
    from invoke.exceptions import Exit

    from worker.orders.backup import BackupError
    from worker.orders.backup import restore as run

    target = Path(to) if to else _orders_db("").parent
    try:
        done = run(Path(from_), target)
    except BackupError as error:
        raise Exit(f"restore: {error}", code=1) from None
    print(f"Restored {done.orders} orders into {done.folder}; start the worker with "
          f"ORDERS_DB pointing into it.")


# ---- PostgreSQL (issue 13): see worker/orders/postgres.py and docs/operations.md.


def _orders_url(db: str) -> str:
    from invoke.exceptions import Exit

    from worker.config import SettingError, load_settings

    if db:
        return db
    try:
        url = load_settings().orders_url
    except SettingError as error:
        raise Exit(f"the worker's settings do not load ({error}): pass --db postgresql://…",
                   code=1) from None
    if not url:
        raise Exit("ORDERS_DB is a file, not a postgresql:// URL: nothing to migrate "
                   "(pass --db postgresql://…)", code=1)
    return url


@task(help={"db": "postgresql://… (default: ORDERS_DB of .env)"})
def migrate(c: Context, db: str = "") -> None:
    """Apply the store's schema migrations (worker/orders/migrations/*.sql) not yet applied."""
    from worker.orders.postgres import migrate as run

    applied = run(_orders_url(db))
    print(f"applied {', '.join(applied)}" if applied else "the schema is up to date")


@task(help={"from_": "the embedded store's live file, e.g. var/orders.json",
            "to": "postgresql://… of an empty database"})
def migrate_store(c: Context, from_: str, to: str) -> None:
    """Copy an embedded order store into an empty PostgreSQL database and verify every order."""
    from invoke.exceptions import Exit

    from worker.orders.to_postgres import MigrationRefused, copy_store

    try:
        copy_store(Path(from_), to)
    except MigrationRefused as error:
        raise Exit(f"migrate-store: {error}", code=1) from None
    print(f"Done: set ORDERS_DB={to} and start the worker.")


# ---- Support operator (issue 6). These open the order store directly, beside the running
# worker: the store takes a file lock per write, so both see each other's changes.


def _operator(command: object) -> None:
    import asyncio

    from invoke.exceptions import Exit

    status = asyncio.run(command)  # type: ignore[arg-type]
    if status:
        raise Exit(code=status)


@task(help={"order": "order number (Epay invoice id)", "reason": "why, recorded with the refund",
            "non_functional": "support confirmed the delivered eSIM does not work (offer 5.4)",
            "amount": "KZT to refund (default: all that was paid)", "operator": "who refunds"})
def refund(c: Context, order: str, reason: str, non_functional: bool = False, amount: int = 0,
           operator: str = "") -> None:
    """Refund an order by the offer's rules (refused with the rule it breaks)."""
    from worker.operator import commands

    who = operator or os.environ.get("USER", "operator")
    _operator(commands.refund(order, reason, who, non_functional, amount or None))


@task(help={"query": "e-mail, phone, order number or ICCID"})
def find_order(c: Context, query: str) -> None:
    """Find orders by e-mail, phone, order number or ICCID; one match shows its timeline."""
    from worker.operator import commands

    _operator(commands.find_order(query))


@task(help={"order": "order number"})
def resend_qr(c: Context, order: str) -> None:
    """Send the delivery e-mail with the QR code again."""
    from worker.operator import commands

    _operator(commands.resend_qr(order, os.environ.get("USER", "operator")))


@task(help={"from_": "first day, YYYY-MM-DD", "to": "last day, YYYY-MM-DD", "out": "CSV file"})
def export_orders(c: Context, from_: str, to: str, out: str = "") -> None:
    """Orders created in a period as CSV for the accountant (no personal data)."""
    from worker.operator import commands

    _operator(commands.export_csv("orders", from_, to, out))


@task(help={"from_": "first day, YYYY-MM-DD", "to": "last day, YYYY-MM-DD", "out": "CSV file"})
def export_refunds(c: Context, from_: str, to: str, out: str = "") -> None:
    """Refunds made in a period as CSV: who, when, why, how much."""
    from worker.operator import commands

    _operator(commands.export_csv("refunds", from_, to, out))


@task(help={"from_": "first day, YYYY-MM-DD", "to": "last day, YYYY-MM-DD"})
def reconcile(c: Context, from_: str, to: str) -> None:
    """Compare each order of a period with Epay and the aggregator; list the mismatches."""
    from worker.operator import commands

    _operator(commands.reconcile(from_, to))


@task
def queues(c: Context) -> None:
    """Fiscal receipts still pending, and paid orders waiting for a refund."""
    from worker.operator import commands

    _operator(commands.queues())


@task
def purge_personal_data(c: Context) -> None:
    """Erase e-mail, phone and codes of orders finished PERSONAL_DATA_RETENTION_DAYS ago."""
    from worker.operator import commands

    _operator(commands.purge_personal_data())


@task(help={"email": "the buyer's address"})
def export_personal_data(c: Context, email: str) -> None:
    """Print, as JSON, everything held about the buyer with this address."""
    from worker.operator import commands

    _operator(commands.export_personal_data(email))


@task(help={"email": "the buyer's address"})
def erase_personal_data(c: Context, email: str) -> None:
    """Erase the buyer's personal data from their finished orders (money records stay)."""
    from worker.operator import commands

    _operator(commands.erase_personal_data(email))


@task(help={"email": "the support person's address (their sign-in)", "name": "their name, shown with "
            "every action they take", "totp": "also a second factor (a TOTP code from an app)"})
def add_operator(c: Context, email: str, name: str = "", totp: bool = False) -> None:
    """Add a support person to the console (or reset their password): prints a one-time link."""
    from worker.operator import commands

    _operator(commands.add_operator(email, name, totp))


@task(help={"email": "the operator's address"})
def operator_token(c: Context, email: str) -> None:
    """Print a new personal API token for the operator API (the previous one stops working)."""
    from worker.operator import commands

    _operator(commands.operator_token(email))


@task
def close_shift(c: Context) -> None:
    """Close the cash register's shift with a Z report (run daily, e.g. from cron)."""
    from worker.operator import commands

    _operator(commands.close_shift())
