"""GET /readyz (worker/readiness.py): 503 when the store cannot be written or jobs stopped."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from worker.app import create_app
from worker.config import Settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


def test_ready_when_the_store_is_writable_and_jobs_run(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"ready": True, "store": "writable", "jobs": "running"}


def test_not_ready_when_the_store_folder_is_gone(client: TestClient, settings: Settings) -> None:
    shutil.rmtree(settings.orders_db.parent)  # the disk was unmounted, say
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["store"].startswith("not writable")
    assert client.get("/healthz").status_code == 200  # the cheap check stays cheap


def test_not_ready_when_the_job_runner_stopped(client: TestClient) -> None:
    assert client.portal is not None
    client.portal.call(client.app.state.runner.stop)  # type: ignore[attr-defined]
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["jobs"] == "the job runner has stopped"
