"""The worker as a whole: start-up checks, health, CORS, body limit, security headers."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from worker_env import TEST_ENV

from worker.app import create_app
from worker.config import Settings
from worker.jobs import Handler
from worker.orders.model import Order

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for answer in (client.get("/healthz"), client.get("/api/orders/unknown"), client.get("/nope")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_only_the_site_may_call_the_api_from_a_browser(client: TestClient, settings: Settings) -> None:
    ours = client.options(
        "/api/checkout",
        headers={"Origin": settings.site_url, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )
    theirs = client.options(
        "/api/checkout",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert ours.status_code == 200
    assert ours.headers["access-control-allow-origin"] == settings.site_url
    assert theirs.status_code == 400
    assert "access-control-allow-origin" not in theirs.headers
    got = client.get("/api/orders/x", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in got.headers


def test_a_body_over_16_kb_is_refused_with_413(client: TestClient) -> None:
    declared = client.post("/api/checkout", content=b"{" + b" " * 17_000 + b"}",
                           headers={"content-type": "application/json", "accept-language": "kk"})

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 1024

    streamed = client.post("/epay/post-link", content=chunks(),
                           headers={"content-type": "application/json"})

    assert declared.status_code == 413
    assert declared.json() == {"error": "Сұраныс тым үлкен. Мәтінді қысқартыңыз немесе кішірек "
                                        "сурет тіркеңіз."}  # in the buyer's language
    assert streamed.status_code == 413
    assert client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


def start_worker(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", "worker.app:app", "--port", "0"],
        cwd=ROOT, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"EPAY_TERMINAL_ID": ""}, "EPAY_TERMINAL_ID is not set"),
        ({"WORKER_URL": "127.0.0.1:8100"}, "WORKER_URL='127.0.0.1:8100' is not an absolute"),
        ({"RECONCILE_INTERVAL": "soon"}, "RECONCILE_INTERVAL='soon' is not a number"),
        ({"CATALOG_PATH": "/nonexistent/catalog.json"}, "/nonexistent/catalog.json: no such file"),
        # issue 14: the example file's placeholder, and settings that cannot work
        ({"SESSION_SECRET": "change-me-to-at-least-32-random-characters"},
         "SESSION_SECRET is the placeholder"),
        ({"ORDERS_DB": "mysql://user:pw@db/x"}, "ORDERS_DB: mysql:// URLs are not supported"),
        ({"DEPLOYMENT": "production"}, "SITE_URL='http://127.0.0.1:9': production needs https"),
    ],
)
def test_a_bad_setting_stops_start_up_with_its_name(
    tmp_path: Path, change: dict[str, str], named: str
) -> None:
    env = {**TEST_ENV, "ORDERS_DB": str(tmp_path / "orders.json"), **change}

    done = start_worker(env)

    assert done.returncode != 0
    assert named in done.stderr
    assert not (tmp_path / "orders.json").exists()


def noting(ran: list[str], who: str) -> dict[str, Handler]:
    async def note(order: Order, services: Any) -> None:
        ran.append(who)

    return {"note": note}


def test_a_second_worker_on_one_store_serves_http_but_runs_no_jobs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    order = Order(id="3000000001", token="t" * 43, status="paid", lang="en", email="a@b.kz",
                  phone=None, package_code="P", destination="TR", package_title="T", amount=100)
    ran: list[str] = []
    first = TestClient(create_app(settings, handlers=noting(ran, "first")))
    second = TestClient(create_app(settings, handlers=noting(ran, "second")))

    with first, caplog.at_level(logging.WARNING, logger="worker"), second:
        store = second.app.state.services.store  # type: ignore[attr-defined]
        second.portal.call(store.create, order)  # type: ignore[union-attr]
        for _ in range(3):
            second.portal.call(store.enqueue, order.id, "note")  # type: ignore[union-attr]
            deadline = time.monotonic() + 5
            while store.jobs() and time.monotonic() < deadline:
                time.sleep(0.01)
        assert second.get("/healthz").status_code == 200
        assert second.get(f"/api/orders/{order.token}").json()["status"] == "paid"

    assert ran == ["first"] * 3
    assert "another worker process runs the jobs" in caplog.text
    with TestClient(create_app(settings, handlers=noting(ran, "third"))) as third:
        store = third.app.state.services.store  # type: ignore[attr-defined]
        third.portal.call(store.enqueue, order.id, "note")  # type: ignore[union-attr]
        deadline = time.monotonic() + 5
        while store.jobs() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert ran[-1] == "third"  # the first one stopped: the next worker takes the jobs over


def test_the_workers_of_one_store_give_way_to_each_others_requests(settings: Settings) -> None:
    first, second = create_app(settings, handlers={}), create_app(settings, handlers={})
    with TestClient(first), TestClient(second):
        second.state.requests.started()  # a postLink being answered by the other process
        assert first.state.requests.busy()  # so this one's jobs wait (worker/job_runner.py)
        second.state.requests.ended()
        assert not first.state.requests.busy()


def test_under_uvicorn_what_start_up_made_is_out_of_the_garbage_collectors_way(
        settings: Settings) -> None:
    # A full collection walking it all took 30-150 ms, now and then in a burst of postLinks.
    before = gc.get_freeze_count()
    try:
        with TestClient(create_app(settings, handlers={})):
            assert gc.get_freeze_count() == before  # one app of many in this test process
        with TestClient(create_app(settings, handlers={}, whole_process=True)):
            assert gc.get_freeze_count() > before + 10_000
    finally:
        gc.unfreeze()


def test_a_mail_server_that_does_not_answer_is_named_in_the_log_at_start(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="worker"), \
            TestClient(create_app(settings, handlers={})):  # SMTP_PORT 9: nobody listens
        deadline = time.monotonic() + 5
        while "does not answer" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)

    assert "mail: SMTP 127.0.0.1:9 does not answer" in caplog.text


def test_uvicorn_stops_on_a_bad_setting_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import worker.app as module

    monkeypatch.setenv("SITE_URL", "qazaq-esim.com")

    with pytest.raises(SystemExit, match=r"^worker: SITE_URL='qazaq-esim.com' is not an absolute"):
        module.__getattr__("app")
