"""The Epay client: tokens, check-status and operations, against the spec's variants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from worker.config import Settings
from worker.payments.epay import EpayClient, EpayError, OperationRefused

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Handler = Callable[[httpx.Request], httpx.Response]


def client(settings: Settings, handler: Handler) -> EpayClient:
    """A client whose HTTP goes to ``handler``: unit tests of the parsing, no gateway needed."""
    return EpayClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def token(expires_in: Any = 7200) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "T1", "expires_in": expires_in,
                                     "refresh_token": "", "scope": "payment", "token_type": "Bearer"})


async def test_the_payment_token_request_binds_the_invoice(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def epay(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token()

    answer = await client(settings, epay).payment_token("1234567890", 4990, "s3cret")

    assert answer["access_token"] == "T1"
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert form["invoiceID"] == "1234567890" and form["amount"] == "4990"
    assert form["currency"] == "KZT" and form["terminal"] == settings.epay_terminal_id
    assert form["secret_hash"] == "s3cret" and form["grant_type"] == "client_credentials"
    assert form["postLink"] == f"{settings.worker_url}/epay/post-link"
    assert form["failurePostLink"] == f"{settings.worker_url}/epay/failure-post-link"


@pytest.mark.parametrize("expires_in", [7200, "7200"])
async def test_the_service_token_is_reused_until_it_expires(settings: Settings, expires_in: Any) -> None:
    tokens = 0

    def epay(request: httpx.Request) -> httpx.Response:
        nonlocal tokens
        if request.url.path.endswith("/oauth2/token"):
            tokens += 1
            return token(expires_in)
        return httpx.Response(200, json={"resultCode": "102", "resultMessage": "not found"})

    epay_client = client(settings, epay)
    for _ in range(3):
        await epay_client.check_status("1234567890")

    assert tokens == 1


async def test_a_short_lived_or_revoked_service_token_is_renewed(settings: Settings) -> None:
    tokens = 0
    statuses = iter([401, 200])

    def epay(request: httpx.Request) -> httpx.Response:
        nonlocal tokens
        if request.url.path.endswith("/oauth2/token"):
            tokens += 1
            return token("30")  # shorter than the renewal margin: used once
        return httpx.Response(next(statuses), json={"resultCode": 100, "transaction": {"statusName": "CHARGE"}})

    status = await client(settings, epay).check_status("1234567890")

    assert status.found and status.status_name == "CHARGE"
    assert tokens == 2


@pytest.mark.parametrize("http_status", [200, 400])
async def test_check_status_reads_result_codes_with_either_http_status(
    settings: Settings, http_status: int
) -> None:
    def epay(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return token()
        return httpx.Response(http_status, json={"resultCode": "107", "resultMessage": "in progress"})

    status = await client(settings, epay).check_status("1234567890")

    assert (status.result_code, status.found) == (107, False)


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(502, text="Bad gateway"), httpx.Response(200, text="<html>"),
     httpx.Response(200, json={"unexpected": True})],
    ids=["5xx", "not json", "no resultCode"],
)
async def test_check_status_failures_are_errors_not_answers(
    settings: Settings, answer: httpx.Response
) -> None:
    def epay(request: httpx.Request) -> httpx.Response:
        return token() if request.url.path.endswith("/oauth2/token") else answer

    with pytest.raises(EpayError):
        await client(settings, epay).check_status("1234567890")


async def test_a_refused_operation_says_why(settings: Settings) -> None:
    def epay(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return token()
        assert request.url.path == "/operation/tx-1/refund"
        assert dict(request.url.params) == {"amount": "5", "externalID": "r-1"}
        return httpx.Response(400, json={"code": 100, "message": "minimum refund is 10 KZT"})

    with pytest.raises(OperationRefused, match="minimum refund is 10 KZT"):
        await client(settings, epay).refund("tx-1", 5, "r-1")


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(401, json={"error": "invalid_client"}), httpx.Response(200, json={"x": 1})],
    ids=["refused", "no access_token"],
)
async def test_a_token_failure_is_an_error(settings: Settings, answer: httpx.Response) -> None:
    with pytest.raises(EpayError):
        await client(settings, lambda request: answer).payment_token("1234567890", 4990, "s")


async def test_a_result_code_that_is_not_a_number_is_named(settings: Settings) -> None:
    def epay(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return token()
        return httpx.Response(200, json={"resultCode": "OK", "resultMessage": "?"})

    with pytest.raises(EpayError, match="check-status 1234567890: resultCode 'OK'"):
        await client(settings, epay).check_status("1234567890")


@pytest.mark.parametrize(("answer", "says"), [
    (httpx.Response(400, text="<html>refused</html>"), "refused: <html>refused</html>"),
    (httpx.Response(400, json=["amount too small"]), r"refused: \['amount too small'\]"),
    (httpx.Response(404, text="no such operation"), "refund tx-1: HTTP 404"),
], ids=["refused as html", "refused as a list", "unexpected status"])
async def test_an_operation_answer_of_any_shape_says_what_happened(
        settings: Settings, answer: httpx.Response, says: str) -> None:
    def epay(request: httpx.Request) -> httpx.Response:
        return token() if request.url.path.endswith("/oauth2/token") else answer

    with pytest.raises(EpayError, match=says):
        await client(settings, epay).refund("tx-1", 4990, "r-1")


async def test_a_token_answer_that_is_not_json_is_an_error(settings: Settings) -> None:
    with pytest.raises(EpayError, match="token: the answer is not JSON"):
        await client(settings, lambda request: httpx.Response(200, text="<html>")
                     ).payment_token("1234567890", 4990, "s")


async def test_a_token_of_unknown_lifetime_serves_one_request(settings: Settings) -> None:
    tokens = 0

    def epay(request: httpx.Request) -> httpx.Response:
        nonlocal tokens
        if request.url.path.endswith("/oauth2/token"):
            tokens += 1
            return token(expires_in="soon")
        return httpx.Response(200, json={"resultCode": "102", "resultMessage": "not found"})

    epay_client = client(settings, epay)
    await epay_client.check_status("1234567890")
    await epay_client.check_status("1234567890")

    assert tokens == 2
