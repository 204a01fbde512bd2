"""`invoke publish`: build the site for production, give assets content-hashed names,
precompress every text file, upload a new release and switch one symlink.

The target is a local folder or an rsync destination (``host:/srv/qazaq-esim/site``)::

    TARGET/releases/20261204T101500Z/   one folder per publish (the last three are kept)
    TARGET/current -> releases/...      what Caddy serves (its SITE_ROOT)

Nothing under ``current`` changes until the new release is completely uploaded; then the
symlink is replaced atomically (rename), so no buyer gets a page whose assets are missing.
A failed build or upload raises PublishError saying what failed; the live site is untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
KEEP_RELEASES = 3
# Files whose name gets a content hash (the Caddyfile caches them for a year).
HASHED = (".css", ".js", ".svg", ".png", ".jpg", ".jpeg", ".webp", ".ico", ".woff2")
# Files written again as .br and .gz beside themselves (Caddy's `precompressed`).
TEXT = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt")
# Texts that may name an asset by its path: where the hashed names are written in.
REFERRING = (".html", ".css", ".js", ".json", ".xml", ".txt")
HASH_LENGTH = 12  # hex digits; the Caddyfile's @hashed matcher expects exactly this many
# Each release lists its own hashed files here; the next release keeps them too, so a page
# loaded just before the switch still finds its stylesheet and scripts afterwards.
OWN_ASSETS = ".hashed-assets"

Say = Callable[[str], None]


class PublishError(RuntimeError):
    """Publishing stopped; the message says what failed. The live site was not touched."""


# ---- building ----------------------------------------------------------------------


def build(source: Path, out: Path) -> None:
    """Build the site from ``source`` (content/, theme/, publishconf.py) into ``out``."""
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-o", str(out), "-s", "publishconf.py", "-q"],
        cwd=source, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise PublishError(
            f"the site build failed, nothing was uploaded:\n{result.stdout}{result.stderr}".rstrip()
        )


def prices(catalogue: Path) -> dict[str, int]:
    """Package code -> price in tenge, as the worker sells it."""
    data = json.loads(catalogue.read_text("utf-8"))
    return {p["code"]: int(p["price_kzt"]) for d in data["destinations"] for p in d["packages"]}


def catalogue_differences(built: Path, worker: Path) -> list[str]:
    """What the site (built from ``built``) and the worker (reading ``worker``) disagree on."""
    site, sold = prices(built), prices(worker)
    lines = [f"{code}: the site says {site[code]} ₸, the worker charges {sold[code]} ₸"
             for code in sorted(site.keys() & sold.keys()) if site[code] != sold[code]]
    lines += [f"{code}: on the site, unknown to the worker" for code in sorted(site.keys() - sold.keys())]
    lines += [f"{code}: sold by the worker, not on the site" for code in sorted(sold.keys() - site.keys())]
    return lines


# ---- content-hashed asset names ----------------------------------------------------


def fingerprint(site: Path) -> dict[str, str]:
    """Rename every asset to ``name.<hash>.ext`` and write the new names into every page,
    stylesheet and script. Images first, so a stylesheet's hash covers the images it names.
    Returns old path -> new path (site-absolute, as pages write them)."""
    renamed: dict[str, str] = {}
    images = [p for p in _files(site, HASHED) if p.suffix not in (".css", ".js")]
    code = [p for p in _files(site, (".css", ".js"))]
    for group in (images, code):
        mapping: dict[str, str] = {}
        for path in group:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            new = path.with_name(f"{path.stem}.{digest}{path.suffix}")
            path.rename(new)
            mapping["/" + path.relative_to(site).as_posix()] = "/" + new.relative_to(site).as_posix()
        _rewrite(site, mapping)
        renamed.update(mapping)
    return renamed


def _rewrite(site: Path, mapping: dict[str, str]) -> None:
    if not mapping:
        return
    # A reference ends where a path cannot go on: a quote, bracket, space, ? or #.
    pattern = re.compile(
        "(" + "|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True))
        + r""")(?=["')\s?#]|$)"""
    )
    for path in _files(site, REFERRING):
        text = path.read_text("utf-8")
        new = pattern.sub(lambda m: mapping[m.group(1)], text)
        if new != text:
            path.write_text(new, "utf-8")


def carry_hashed(previous: Path, release: Path) -> None:
    """Hard-link into ``release`` the hashed files ``previous`` made (its OWN_ASSETS)."""
    listing = previous / OWN_ASSETS
    names = listing.read_text("utf-8").split() if listing.exists() else []
    for name in names:
        target = release / name
        if not target.exists() and (previous / name).exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(previous / name, target)


def _files(site: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.is_file() and p.suffix in suffixes)


# ---- precompression ----------------------------------------------------------------


def _compress(path: str) -> int:
    raw = Path(path).read_bytes()
    Path(path + ".gz").write_bytes(gzip.compress(raw, 9, mtime=0))
    Path(path + ".br").write_bytes(brotli.compress(raw, quality=11))
    return len(raw)


def compress(site: Path, say: Say) -> int:
    """Write ``.br`` and ``.gz`` beside every text file; returns how many files."""
    files = [str(p) for p in _files(site, TEXT)]
    done = 0
    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        for _ in pool.map(_compress, files, chunksize=16):
            done += 1
            if done % 200 == 0 or done == len(files):
                say(f"  compressed {done}/{len(files)} files (br, gzip)")
    return len(files)


# ---- targets -------------------------------------------------------------------------


def release_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class LocalTarget:
    """A folder on this machine (the host Caddy runs on)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases_dir = root / "releases"

    def __str__(self) -> str:
        return str(self.root)

    def upload(self, stage: Path, name: str) -> None:
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        partial = self.releases_dir / f".{name}.partial"
        live = self.current()
        try:
            shutil.copytree(stage, partial, symlinks=True)
            if live is not None:
                carry_hashed(self.releases_dir / live, partial)
            os.rename(partial, self.releases_dir / name)
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    def releases(self) -> list[str]:
        if not self.releases_dir.is_dir():
            return []
        return sorted(p.name for p in self.releases_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def current(self) -> str | None:
        link = self.root / "current"
        return Path(os.readlink(link)).name if link.is_symlink() else None

    def switch(self, name: str) -> None:
        tmp = self.root / f".current.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        os.symlink(f"releases/{name}", tmp)
        os.replace(tmp, self.root / "current")  # rename: atomic for every reader

    def remove(self, name: str) -> None:
        shutil.rmtree(self.releases_dir / name)


class RsyncTarget:
    """``host:/path`` (or ``user@host:/path``): rsync over ssh, then the same symlink switch
    made on the host with ``ln`` and ``mv -T`` (rename, atomic)."""

    def __init__(self, dest: str) -> None:
        self.host, _, path = dest.partition(":")
        self.path = path.rstrip("/") or "."

    def __str__(self) -> str:
        return f"{self.host}:{self.path}"

    def _ssh(self, command: str) -> str:
        result = subprocess.run(["ssh", self.host, command], capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise OSError(f"ssh {self.host} {command!r}: {result.stderr.strip()}")
        return result.stdout

    def upload(self, stage: Path, name: str) -> None:
        releases = shlex.quote(f"{self.path}/releases")
        self._ssh(f"mkdir -p {releases}")
        partial = f"{self.path}/releases/.{name}.partial"
        # Unchanged files are hard links to the live release: only what changed travels.
        link_dest = [f"--link-dest=../{current}"] if (current := self.current()) else []
        result = subprocess.run(
            ["rsync", "-a", "--delete", *link_dest, f"{stage}/", f"{self.host}:{partial}/"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            self._ssh(f"rm -rf {shlex.quote(partial)}")
            raise OSError(f"rsync to {self}: {result.stderr.strip()}")
        if current:  # the live release's own hashed files too (OWN_ASSETS), as hard links
            releases = shlex.quote(f"{self.path}/releases")
            self._ssh(f"cd {releases} && test ! -f {current}/{OWN_ASSETS} || rsync -a "
                      f"--ignore-existing --link-dest=../{current} --files-from="
                      f"{current}/{OWN_ASSETS} {current}/ .{name}.partial/")
        self._ssh(f"mv -T {shlex.quote(partial)} {shlex.quote(f'{self.path}/releases/{name}')}")

    def releases(self) -> list[str]:
        listing = self._ssh(f"ls -1 {shlex.quote(self.path + '/releases')} 2>/dev/null || true")
        return sorted(n for n in listing.split() if not n.startswith("."))

    def current(self) -> str | None:
        link = self._ssh(f"readlink {shlex.quote(self.path + '/current')} || true").strip()
        return Path(link).name if link else None

    def switch(self, name: str) -> None:
        tmp, current = shlex.quote(f"{self.path}/.current.tmp"), shlex.quote(f"{self.path}/current")
        self._ssh(f"ln -sfn releases/{shlex.quote(name)} {tmp} && mv -T {tmp} {current}")

    def remove(self, name: str) -> None:
        self._ssh(f"rm -rf {shlex.quote(f'{self.path}/releases/{name}')}")


Target = LocalTarget | RsyncTarget


def target_of(dest: str) -> Target:
    """``host:/path`` is an rsync destination; anything else a local folder."""
    head = dest.split("/", 1)[0]
    if ":" in head and not dest.startswith("/"):
        return RsyncTarget(dest)
    return LocalTarget(Path(dest).resolve())


def _prune(target: Target, say: Say) -> None:
    live = target.current()
    kept = target.releases()[-KEEP_RELEASES:]
    for name in target.releases():
        if name not in kept and name != live:
            target.remove(name)
            say(f"  removed the old release {name}")


# ---- the two commands ----------------------------------------------------------------


@dataclass
class Published:
    release: str
    files: int
    seconds: float


def publish(
    dest: str, *, worker_catalogue: Path | None, force: bool = False,
    source: Path = ROOT, say: Say = print,
) -> Published:
    """Build, fingerprint, compress, upload a new release and switch to it (module docstring).

    ``worker_catalogue``: the worker's CATALOG_PATH; publishing refuses when its prices
    differ from the catalogue just built, unless ``force``. None: not checked (``force``).
    """
    started = time.monotonic()
    target = target_of(dest)
    with tempfile.TemporaryDirectory(prefix="qazaq-publish-") as tmp:
        stage = Path(tmp) / "site"
        built_from = Path(tmp) / "catalog.json"
        shutil.copyfile(source / "content" / "data" / "catalog.json", built_from)
        say("Building the site with publishconf.py…")
        build(source, stage)
        if worker_catalogue is not None:
            differences = catalogue_differences(built_from, worker_catalogue)
            if differences and not force:
                shown = "\n  ".join(differences[:10])
                more = f"\n  … and {len(differences) - 10} more" if len(differences) > 10 else ""
                raise PublishError(
                    f"the worker's catalogue ({worker_catalogue}) differs from the one the site "
                    f"was built from, so buyers would be charged other prices than the pages show:"
                    f"\n  {shown}{more}\nUpdate the worker's CATALOG_PATH first (docs/operations.md, "
                    "Changing prices), or publish anyway with --force. Nothing was uploaded."
                )
        renamed = fingerprint(stage)
        say(f"  {len(renamed)} assets renamed with their content hash")
        files = compress(stage, say)
        own = [f"{new.lstrip('/')}{ending}" for new in sorted(renamed.values())
               for ending in ("", ".br", ".gz")]
        own = [name for name in own if (stage / name).exists()]
        (stage / OWN_ASSETS).write_text("\n".join(own) + "\n", "utf-8")
        name = release_name()
        live = target.current()
        say(f"Uploading release {name} to {target}…")
        try:
            target.upload(stage, name)
        except OSError as exc:
            raise PublishError(
                f"the upload to {target} failed: {exc}. The live site is untouched"
                + (f" (still release {live})." if live else ".")
            ) from None
    try:
        target.switch(name)
    except OSError as exc:
        raise PublishError(f"switching {target}/current to {name} failed: {exc}; "
                           f"the live site is still {live}") from None
    say(f"Live: {target}/current -> releases/{name}" + (f" (was {live})" if live else ""))
    _prune(target, say)
    return Published(name, files, time.monotonic() - started)


def rollback(dest: str, *, say: Say = print) -> str:
    """Switch ``current`` back to the release before it; returns that release's name."""
    target = target_of(dest)
    live, releases = target.current(), target.releases()
    if live is None:
        raise PublishError(f"{target} has no current release: nothing to roll back")
    earlier = [r for r in releases if r < live]
    if not earlier:
        raise PublishError(f"{target}: release {live} is the oldest one kept; nothing to roll back to")
    target.switch(earlier[-1])
    say(f"Live: {target}/current -> releases/{earlier[-1]} (was {live})")
    return earlier[-1]
