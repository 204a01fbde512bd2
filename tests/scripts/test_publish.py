"""`invoke publish` and `invoke rollback` (scripts/publish.py) on a local target folder.

The site is built once (the real publishconf.py build); each publish reuses a part of that
output (the theme, the English home and checkout pages, the 404 page), so a test costs the
hashing, the compression and the upload of a few files, not another build.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest

from scripts import publish as pub

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "site"
    pub.build(ROOT, out)
    part = out.with_name("part")
    for kept in ("theme", "en/checkout", "data/checkout/en"):
        shutil.copytree(out / kept, part / kept)
    for kept in ("en/index.html", "404.html", "robots.txt"):
        shutil.copy(out / kept, part / kept)
    return part


@pytest.fixture
def site_build(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pub, "build", lambda source, out: shutil.copytree(built, out))


def quiet(line: str) -> None:
    pass


def release(target: Path) -> Path:
    return (target / "current").resolve()


def test_publish_serves_a_complete_release_with_hashed_precompressed_assets(
    site_build: None, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    done = pub.publish(str(target), worker_catalogue=None, say=quiet)
    live = release(target)
    assert (target / "current").is_symlink() and live.name == done.release
    home = (live / "en" / "index.html").read_text("utf-8")
    assets = set(re.findall(r'"(/theme/[^"]+)"', home))
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:  # every asset the page names is there, under a content-hashed name
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", asset), asset
        assert (live / asset.lstrip("/")).is_file(), asset
    for page in (live / "en" / "index.html", next((live / "theme" / "css").glob("site.*.css"))):
        raw = page.read_bytes()
        assert brotli.decompress(Path(f"{page}.br").read_bytes()) == raw
        assert gzip.decompress(Path(f"{page}.gz").read_bytes()) == raw


def test_failed_upload_leaves_the_live_release_and_says_what_failed(
    site_build: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "site"
    first = pub.publish(str(target), worker_catalogue=None, say=quiet).release

    copytree = shutil.copytree

    def disk_full(src: Path, dst: Path, *args: object, **options: object) -> Path:
        if not Path(dst).name.endswith(".partial"):  # the build's copy, not the upload
            return Path(copytree(src, dst, *args, **options))  # type: ignore[arg-type]
        copytree(Path(src) / "en", Path(dst) / "en")  # half the files, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pub.shutil, "copytree", disk_full)
    with pytest.raises(pub.PublishError, match="upload .* failed.*No space left.*untouched"):
        pub.publish(str(target), worker_catalogue=None, say=quiet)
    assert release(target).name == first
    assert [p.name for p in (target / "releases").iterdir()] == [first]  # no partial release


def test_a_release_keeps_the_stylesheet_of_the_one_before_but_not_older(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page loaded just before a switch asks for the old stylesheet just after it."""
    edition = [0]

    def build(source: Path, out: Path) -> None:
        shutil.copytree(built, out)
        edition[0] += 1
        with open(out / "theme" / "css" / "site.css", "a") as css:
            css.write(f"/* edition {edition[0]} */\n")

    monkeypatch.setattr(pub, "build", build)
    target = tmp_path / "site"
    sheets = []
    for _ in range(3):
        pub.publish(str(target), worker_catalogue=None, say=quiet)
        home = (release(target) / "en" / "index.html").read_text("utf-8")
        sheets.append(re.search(r'"/(theme/css/site\.[0-9a-f]{12}\.css)"', home).group(1))  # type: ignore[union-attr]
    assert len(set(sheets)) == 3
    live = release(target)
    assert (live / sheets[1]).is_file() and (live / f"{sheets[1]}.br").is_file()
    assert not (live / sheets[0]).exists()


def test_rollback_switches_back_and_three_releases_are_kept(
    site_build: None, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    names = [pub.publish(str(target), worker_catalogue=None, say=quiet).release for _ in range(4)]
    assert sorted(p.name for p in (target / "releases").iterdir()) == names[1:]
    assert pub.rollback(str(target), say=quiet) == names[2]
    assert release(target).name == names[2]
    assert (release(target) / "en" / "index.html").is_file()


def test_rollback_without_an_older_release_changes_nothing(
    site_build: None, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    only = pub.publish(str(target), worker_catalogue=None, say=quiet).release
    with pytest.raises(pub.PublishError, match="oldest"):
        pub.rollback(str(target), say=quiet)
    assert release(target).name == only


def test_publish_refuses_when_the_worker_charges_other_prices(
    site_build: None, tmp_path: Path
) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text("utf-8"))
    package = catalogue["destinations"][0]["packages"][0]
    package["price_kzt"] += 1000
    worker = tmp_path / "worker-catalog.json"
    worker.write_text(json.dumps(catalogue), "utf-8")
    target = tmp_path / "site"
    with pytest.raises(pub.PublishError, match=f"{package['code']}: the site says .* charges"):
        pub.publish(str(target), worker_catalogue=worker, say=quiet)
    assert not (target / "current").exists()
    pub.publish(str(target), worker_catalogue=worker, force=True, say=quiet)
    assert (target / "current").is_symlink()


def test_failed_build_uploads_nothing_and_shows_the_build_error(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for part in ("content", "theme", "plugins"):
        shutil.copytree(ROOT / part, source / part)
    for conf in ("pelicanconf.py", "publishconf.py"):
        shutil.copy(ROOT / conf, source / conf)
    catalogue = source / "content" / "data" / "catalog.json"
    data = json.loads(catalogue.read_text("utf-8"))
    data["destinations"][0]["packages"][0]["days"] = "thirty"
    catalogue.write_text(json.dumps(data), "utf-8")
    target = tmp_path / "site"
    with pytest.raises(pub.PublishError, match="(?s)build failed.*days"):
        pub.publish(str(target), worker_catalogue=None, source=source, say=quiet)
    assert not (target / "releases").exists()
