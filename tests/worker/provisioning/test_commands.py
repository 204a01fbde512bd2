"""The operator's commands, run as `invoke` runs them: a process configured by environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from provisioning_helpers import Aggregator, Worker

from worker.config import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def run(module: str, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WORKER_URL": settings.worker_url,
        "ESIMACCESS_URL": settings.esimaccess_url,
        "ESIMACCESS_ACCESS_CODE": settings.esimaccess_access_code,
        "ESIMACCESS_SECRET_KEY": str(settings.esimaccess_secret_key),
        "CATALOG_PATH": str(settings.catalog_path),
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sync_catalog_prints_what_changed_and_refuses_to_lose_destinations(
    wired: Settings, aggregator: Aggregator, tmp_path: Path
) -> None:
    output = tmp_path / "catalog.json"

    first = run("worker.provisioning.catalogue_sync", wired, "--output", str(output))

    assert first.returncode == 0, first.stderr
    assert "National Bank of Kazakhstan rate unavailable" in first.stdout  # no network here
    assert "catalogue: 223 destinations" in first.stdout and f"wrote {output}" in first.stdout
    catalog = json.loads(output.read_text(encoding="utf-8"))
    catalog["destinations"].extend(
        {**catalog["destinations"][0], "code": f"gone-{n:02d}"} for n in range(30)
    )
    padded = json.dumps(catalog)
    output.write_text(padded, encoding="utf-8")  # as if 30 destinations had been on sale

    refused = run("worker.provisioning.catalogue_sync", wired, "--output", str(output))

    assert refused.returncode == 1
    assert "would disappear" in refused.stderr and "--force" in refused.stderr
    assert output.read_text(encoding="utf-8") == padded
    forced = run("worker.provisioning.catalogue_sync", wired, "--output", str(output), "--force")
    assert forced.returncode == 0 and "destinations gone: gone-00, gone-01" in forced.stdout


def test_aggregator_webhook_saves_our_secret_url(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker()
    settings = worker.services.settings

    saved = run("worker.provisioning.webhook", settings)

    assert saved.returncode == 0, saved.stderr
    assert str(settings.aggregator_webhook_secret) not in saved.stdout  # a secret stays secret
    state = aggregator.http.get("/_sandbox/state").json()
    assert (
        state["webhook"] == f"{worker.url}/aggregator/webhook/{settings.aggregator_webhook_secret}"
    )


def test_aggregator_webhook_says_why_when_the_worker_is_not_up(
    wired: Settings, aggregator: Aggregator
) -> None:
    failed = run("worker.provisioning.webhook", wired)
    assert failed.returncode == 1 and "must answer at WORKER_URL" in failed.stderr
