"""The build as an editor runs it: a bad catalogue stops it with a message naming the entry,
and the worker URL comes from the build environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build(output: Path, catalogue: Path, worker_url: str = "", *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKER_URL": worker_url}
    return subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-o", str(output), "-s", "pelicanconf.py",
         "-e", f"CATALOGUE_PATH={json.dumps(str(catalogue))}", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )


def test_a_catalogue_with_a_bad_price_fails_the_build_naming_the_package(tmp_path: Path) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
    turkey = next(d for d in catalogue["destinations"] if d["code"] == "TR")
    bad = turkey["packages"][1]
    bad["price_kzt"] = "free"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalogue), encoding="utf-8")

    result = build(tmp_path / "out", path)

    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "CatalogueError" in output
    assert f"destination 'TR', package '{bad['code']}': field 'price_kzt'" in output
    assert not (tmp_path / "out" / "en" / "esim" / "tr" / "index.html").exists()


def test_a_small_catalogue_builds_only_its_destinations_and_an_empty_worker_url(tmp_path: Path) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
    catalogue["destinations"] = [d for d in catalogue["destinations"] if d["code"] in ("TR", "GE")]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalogue), encoding="utf-8")

    result = build(tmp_path / "out", path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "ru" / "esim").iterdir()) == ["ge", "tr"]
    checkout = (tmp_path / "out" / "kk" / "checkout" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="worker-url" content="">' in checkout


def test_a_fresh_checkout_without_compiled_catalogues_builds_in_every_language(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme, ignore=shutil.ignore_patterns("*.mo"))
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
    catalogue["destinations"] = [d for d in catalogue["destinations"] if d["code"] == "TR"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalogue), encoding="utf-8")

    result = build(tmp_path / "out", path, "", "-e", f"THEME={json.dumps(str(theme))}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Сатып алу" in (tmp_path / "out" / "kk" / "esim" / "tr" / "index.html").read_text(encoding="utf-8")
    assert "Купить" in (tmp_path / "out" / "ru" / "esim" / "tr" / "index.html").read_text(encoding="utf-8")


def test_flags_are_flag_icons_svgs_with_civil_flags_for_heavy_coats_of_arms_and_a_globe_otherwise() -> None:
    from catalogue import flags

    assert flags.url("TR") == "/theme/flags/tr.svg" and flags.url("europe") == flags.GLOBE
    turkey = flags.svg("TR")
    assert turkey.startswith("<svg") and 'id="flag-icons' not in turkey and "\n" not in turkey
    assert len(flags.svg("ES")) < 300  # the civil flag, not the 80 KB coat of arms
    assert len(flags.svg("MX")) < 600 and "#006847" in flags.svg("MX")  # stripes and a drawn emblem, not 29.8 KB
    assert "<circle" in flags.svg("AC")  # a code flag-icons lacks (Ascension): the globe


def test_a_plan_that_takes_top_ups_says_so_on_its_destination_page(tmp_path: Path) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))
    catalogue["destinations"] = [d for d in catalogue["destinations"] if d["code"] == "TR"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalogue), encoding="utf-8")
    (tmp_path / "topups.json").write_text(json.dumps({"plans": {"TR-10GB-30D": "TR"},
                                                      "topups": {"TR": []}}))

    result = build(tmp_path / "out", path)

    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "out" / "ru" / "esim" / "tr" / "index.html").read_text(encoding="utf-8")
    assert page.count("Пополнение: трафик можно докупить на эту же eSIM") == 1
    start = page.index('id="p-TR-10GB-30D"')
    end = page.find('class="package"', start)
    assert "Пополнение" in page[start:end if end > 0 else None]  # on that plan only
