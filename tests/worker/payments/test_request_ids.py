"""A request's id (worker/request_ids.py): answered back, and on the log lines of the calls
to partners that the request made, so support can follow one buyer's slow checkout."""

from __future__ import annotations

import logging

import pytest
from epay_buyer import FORM, Shop


def partner_calls(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "worker.outgoing"]


def test_a_checkout_logs_its_calls_to_epay_under_the_id_it_answers(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker.outgoing")

    answer = shop.worker.post("/api/checkout", json={**FORM, "lang": "en"},
                              headers={"X-Request-ID": "caddy-5f2a9c01"})

    assert answer.status_code == 201
    assert answer.headers["x-request-id"] == "caddy-5f2a9c01"
    calls = partner_calls(caplog)
    assert calls, "the worker's call to Epay was not logged"
    assert {r.request_id for r in calls} == {"caddy-5f2a9c01"}  # type: ignore[attr-defined]
    assert any(" 200 in " in r.getMessage() and "POST 127.0.0.1/" in r.getMessage() for r in calls)
    assert FORM["email"] not in caplog.text  # the path only: no personal data


def test_an_unusable_incoming_id_is_replaced_and_each_request_gets_its_own(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker.outgoing")

    first = shop.worker.post("/api/checkout", json={**FORM, "lang": "en"},
                             headers={"X-Request-ID": "x" * 200})
    second = shop.worker.post("/api/checkout", json={**FORM, "lang": "en"})

    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert "x" * 200 not in ids and len(set(ids)) == 2 and all(len(i) == 16 for i in ids)
    assert {r.request_id for r in partner_calls(caplog)} == set(ids)  # type: ignore[attr-defined]
