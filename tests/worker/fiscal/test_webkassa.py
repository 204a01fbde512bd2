"""The Webkassa client against the Webkassa sandbox over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest

from worker.fiscal.register import Receipt, RegisterRefused, RegisterUnavailable, Ticket
from worker.fiscal.webkassa import LOCAL, Webkassa, parse_time
from worker.retry import Backoff

# The sandbox's default credentials (.env.example's values)
API_KEY = "WKD-00000000-0000-0000-0000-000000000000"
LOGIN, PASSWORD, CASHBOX = "demo@qazaq-esim.com", "demo", "SWK00000001"

T = TypeVar("T")
LINK = "0b7c6a52-1f2e-4f55-9b0e-6f0d7a1f3c11"


def ticket(key: str = "sale-tx1", amount_tiyn: int = 499000) -> Ticket:
    return Ticket(key=key, item_name="eSIM Turkey 10 GB, 30 days", amount_tiyn=amount_tiyn,
                  order_id="100000123", link_id=LINK, email="buyer@example.kz")


def run(url: str, use: Callable[[Webkassa], Awaitable[T]], password: str = PASSWORD,
        timeout: float = 5.0) -> T:
    async def go() -> T:
        async with httpx.AsyncClient() as http:
            kassa = Webkassa(url, API_KEY, LOGIN, password, CASHBOX, http, timeout=timeout,
                             parallel_retry=Backoff(first_s=0.3, ceiling_s=0.6))
            return await use(kassa)
    return asyncio.run(go())


def control(url: str, action: str, **body: Any) -> Any:
    response = httpx.post(f"{url}/_sandbox/{action}", json=body)
    response.raise_for_status()
    return response.json()


def receipts(url: str) -> list[dict[str, Any]]:
    return control(url, "state")["receipts"]  # type: ignore[no-any-return]


def test_a_sale_gets_a_fiscal_receipt_the_buyer_can_open(webkassa_url: str) -> None:
    receipt = run(webkassa_url, lambda k: k.sale(ticket()))
    assert receipt.fiscal_number.isdigit() and receipt.total_tiyn == 499000
    assert receipt.registration_number and receipt.offline is False
    assert receipt.registered_at.endswith("+05:00")
    assert receipt.ticket_url is not None
    page = httpx.get(receipt.ticket_url).text
    assert receipt.fiscal_number in page and "4990.00" in page
    assert receipts(webkassa_url)[0]["key"] == "sale-tx1"


def test_tiyn_become_decimal_tenge(webkassa_url: str) -> None:
    receipt = run(webkassa_url, lambda k: k.sale(ticket(amount_tiyn=49950)))
    assert receipt.total_tiyn == 49950
    assert receipts(webkassa_url)[0]["total"] == 499.5


@pytest.mark.parametrize("mode", ["14+data", "14", "replay"])
def test_a_retry_after_a_lost_reply_returns_the_first_receipt(webkassa_url: str, mode: str) -> None:
    control(webkassa_url, "faults", duplicate_mode=mode)
    control(webkassa_url, "fail-next", mode="commit_then_504")
    with pytest.raises(RegisterUnavailable, match="outcome unknown"):
        run(webkassa_url, lambda k: k.sale(ticket()))
    receipt = run(webkassa_url, lambda k: k.sale(ticket()))
    [only] = receipts(webkassa_url)
    assert receipt.fiscal_number == only["check_number"]
    assert receipt.registration_number and receipt.total_tiyn == 499000


def test_a_timeout_is_an_unknown_outcome_and_the_retry_registers_once(webkassa_url: str) -> None:
    control(webkassa_url, "fail-next", mode="commit_then_timeout", seconds=1.0)
    with pytest.raises(RegisterUnavailable, match="ReadTimeout"):
        run(webkassa_url, lambda k: k.sale(ticket()), timeout=0.3)
    control(webkassa_url, "faults", latency_s=0)
    receipt = run(webkassa_url, lambda k: k.sale(ticket()))
    assert [r["check_number"] for r in receipts(webkassa_url)] == [receipt.fiscal_number]


def test_an_outage_records_nothing_and_the_retry_succeeds(webkassa_url: str) -> None:
    control(webkassa_url, "fail-next", mode="http_502")
    with pytest.raises(RegisterUnavailable, match="HTTP 502"):
        run(webkassa_url, lambda k: k.sale(ticket()))
    assert receipts(webkassa_url) == []
    assert run(webkassa_url, lambda k: k.sale(ticket())).fiscal_number


def test_an_expired_token_is_renewed_once(webkassa_url: str) -> None:
    async def two_sales(kassa: Webkassa) -> list[Receipt]:
        first = await kassa.sale(ticket("sale-a"))
        control(webkassa_url, "expire-tokens")
        return [first, await kassa.sale(ticket("sale-b"))]

    assert len(run(webkassa_url, two_sales)) == 2
    assert len(receipts(webkassa_url)) == 2


def test_a_shift_over_24_hours_is_closed_and_the_sale_resent(webkassa_url: str) -> None:
    run(webkassa_url, lambda k: k.sale(ticket("sale-a")))
    control(webkassa_url, "age-shift", hours=25)
    receipt = run(webkassa_url, lambda k: k.sale(ticket("sale-b")))
    assert receipt.shift_number == 2
    shifts = control(webkassa_url, "state")["cashboxes"][CASHBOX]["shifts"]
    assert [(s["number"], s["close_date"] is not None, s["documents"]) for s in shifts] == [
        (1, True, 1), (2, False, 1)]


def test_a_return_cites_its_sale(webkassa_url: str) -> None:
    async def sell_and_return(kassa: Webkassa) -> Receipt:
        sale = await kassa.sale(ticket())
        return await kassa.refund(ticket("return-tx1"), sale)

    back = run(webkassa_url, sell_and_return)
    sale, ret = receipts(webkassa_url)
    assert sale["operation_type"] == 2
    assert (ret["operation_type"], ret["key"], ret["check_number"]) == (3, "return-tx1", back.fiscal_number)
    assert control(webkassa_url, "state")["cashboxes"][CASHBOX]["shifts"][0]["return_sell"] == 4990


def test_a_return_of_an_offline_sale_says_so(webkassa_url: str) -> None:
    control(webkassa_url, "faults", ofd_offline=True)
    sale = run(webkassa_url, lambda k: k.sale(ticket()))
    assert sale.offline is True
    control(webkassa_url, "faults", ofd_offline=False)
    assert run(webkassa_url, lambda k: k.refund(ticket("return-tx1"), sale)).fiscal_number


def test_a_return_above_the_sale_is_refused_before_any_call(webkassa_url: str) -> None:
    sale = run(webkassa_url, lambda k: k.sale(ticket()))
    with pytest.raises(RegisterRefused, match="exceeds"):
        run(webkassa_url, lambda k: k.refund(ticket("return-tx1", 500000), sale))
    assert len(receipts(webkassa_url)) == 1


def test_a_wrong_password_names_the_settings_to_fix(webkassa_url: str) -> None:
    with pytest.raises(RegisterRefused, match="WEBKASSA_PASSWORD"):
        run(webkassa_url, lambda k: k.sale(ticket()), password="wrong")


def test_sales_from_one_client_are_sent_one_at_a_time(webkassa_url: str) -> None:
    control(webkassa_url, "faults", latency_s=0.2)

    async def three(kassa: Webkassa) -> list[Receipt]:
        return list(await asyncio.gather(*(kassa.sale(ticket(f"sale-{i}")) for i in range(3))))

    assert len({r.fiscal_number for r in run(webkassa_url, three)}) == 3


def test_a_parallel_call_from_another_process_is_waited_out(webkassa_url: str) -> None:
    control(webkassa_url, "faults", latency_s=0.2)

    async def two_clients(_: Webkassa) -> list[Receipt]:
        async with httpx.AsyncClient() as http:
            kassas = [Webkassa(webkassa_url, API_KEY, LOGIN, PASSWORD, CASHBOX, http,
                               parallel_retry=Backoff(first_s=0.3, ceiling_s=0.6)) for _ in range(2)]
            await kassas[0]._authorize()  # both log in before the race
            kassas[1]._token = kassas[0]._token
            return list(await asyncio.gather(*(k.sale(ticket(f"sale-{i}"))
                                               for i, k in enumerate(kassas))))

    assert len(run(webkassa_url, two_clients)) == 2
    assert len(receipts(webkassa_url)) == 2


def test_a_down_domain_is_left_for_the_alternative(webkassa_url: str) -> None:
    port = webkassa_url.rsplit(":", 1)[1]
    control(webkassa_url, "faults", down_hosts=["127.0.0.1"], alternative_domains=f"localhost:{port}")
    assert run(webkassa_url, lambda k: k.sale(ticket())).fiscal_number


def test_the_flat_reply_variant_is_read_too(webkassa_url: str) -> None:
    control(webkassa_url, "faults", response_variant="flat")
    receipt = run(webkassa_url, lambda k: k.sale(ticket()))
    assert receipt.registration_number == "032600010282" and receipt.total_tiyn == 499000


def test_a_sale_repeated_after_the_shift_changed_finds_the_first_receipt(webkassa_url: str) -> None:
    first = run(webkassa_url, lambda k: k.sale(ticket("sale-a")))
    control(webkassa_url, "age-shift", hours=25)
    run(webkassa_url, lambda k: k.sale(ticket("sale-b")))
    control(webkassa_url, "faults", duplicate_mode="14")  # "exists", without the receipt

    again = run(webkassa_url, lambda k: k.sale(ticket("sale-a")))

    assert again.shift_number == first.shift_number == 1
    assert again.fiscal_number == first.fiscal_number
    assert len(receipts(webkassa_url)) == 2


def test_closing_a_closed_shift_is_not_an_error(webkassa_url: str) -> None:
    run(webkassa_url, lambda k: k.close_shift())
    run(webkassa_url, lambda k: k.sale(ticket()))
    run(webkassa_url, lambda k: k.close_shift())
    run(webkassa_url, lambda k: k.close_shift())
    shifts = control(webkassa_url, "state")["cashboxes"][CASHBOX]["shifts"]
    assert [s["close_date"] is not None for s in shifts] == [True]


def test_a_wrong_api_key_names_the_setting_to_fix(webkassa_url: str) -> None:
    async def use(_: Webkassa) -> Receipt:
        async with httpx.AsyncClient() as http:
            kassa = Webkassa(webkassa_url, "WKD-wrong", LOGIN, PASSWORD, CASHBOX, http)
            return await kassa.sale(ticket())

    with pytest.raises(RegisterRefused, match="WEBKASSA_API_KEY"):
        run(webkassa_url, use)


@pytest.mark.parametrize(("code", "error", "says"), [
    (7, RegisterRefused, "code 7 \\(cashbox blocked\\).*an operator must fix"),
    (18, RegisterUnavailable, "code 18: Injected error"),
    (99, RegisterRefused, "code 99: Injected error"),
])
def test_an_error_answer_says_whether_to_retry_or_call_an_operator(
        webkassa_url: str, code: int, error: type[Exception], says: str) -> None:
    control(webkassa_url, "fail-next", mode="error", code=code)

    with pytest.raises(error, match=says):
        run(webkassa_url, lambda k: k.sale(ticket()))

    assert receipts(webkassa_url) == []


def test_a_down_domain_without_an_alternative_is_an_outage(webkassa_url: str) -> None:
    control(webkassa_url, "faults", down_hosts=["127.0.0.1"], alternative_domains="")

    with pytest.raises(RegisterUnavailable, match="no alternative works"):
        run(webkassa_url, lambda k: k.sale(ticket()))


def test_a_receipt_time_webkassa_wrote_unreadably_becomes_the_time_of_reading() -> None:
    before = datetime.now(LOCAL).replace(microsecond=0)

    read = datetime.fromisoformat(parse_time({"datetime": "31/12/2026 25:61"}))

    assert read.tzinfo is not None and read >= before
    assert parse_time({"datetime": "31.12.2026 23:59:00"}) == "2026-12-31T23:59:00+05:00"
