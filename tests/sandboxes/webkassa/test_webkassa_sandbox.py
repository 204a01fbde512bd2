"""The Webkassa sandbox behaves as shared/specs/webkassa.md describes Webkassa API v4."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sandboxes.webkassa.app import create_app

KEY = "WKD-00000000-0000-0000-0000-000000000000"
BOX = "SWK00000001"


class Kassa:
    """The sandbox as a cashier's client sees it."""

    def __init__(self) -> None:
        self.app = create_app()
        self.http = TestClient(self.app)
        self.token = self.authorize()["Data"]["Token"]

    def post(self, path: str, body: dict[str, Any], key: str | None = KEY) -> dict[str, Any]:
        headers = {"x-api-key": key} if key else {}
        return self.http.post(path, json=body, headers=headers).json()  # type: ignore[no-any-return]

    def authorize(self, password: str = "demo") -> dict[str, Any]:
        return self.post("/api/v4/Authorize", {"Login": "demo@qazaq-esim.com", "Password": password})

    def call(self, path: str, **body: Any) -> dict[str, Any]:
        return self.post(path, {"Token": self.token, "CashboxUniqueNumber": BOX, **body})

    def control(self, action: str, **body: Any) -> Any:
        return self.http.post(f"/_sandbox/{action}", json=body).json()


def sale(key: str = "sale-1", price: float = 4990, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "OperationType": 2,
        "Positions": [{"Count": 1, "Price": price, "TaxType": 0, "TaxPercent": 0, "Tax": 0,
                       "PositionName": "eSIM Turkey 10 GB, 30 days", "UnitCode": 796}],
        "Payments": [{"Sum": price, "PaymentType": 1}],
        "Change": 0, "RoundType": 2, "ExternalCheckNumber": key,
        "CustomerEmail": "buyer@example.kz", "ExternalLinkId": "6f1c1c52-0000-4000-8000-000000000001",
    }
    body.update(changes)
    return body


def return_of(data: dict[str, Any], key: str = "return-1", total: float = 4990,
              amount: float = 4990) -> dict[str, Any]:
    basis = {"CheckNumber": data["CheckNumber"], "DateTime": "2026-11-25T10:00:00Z",
             "RegistrationNumber": data["Cashbox"]["RegistrationNumber"], "Total": total,
             "IsOffline": data["OfflineMode"]}
    return sale(key, amount, OperationType=3, ReturnBasisDetails=basis)


@pytest.fixture
def kassa() -> Kassa:
    return Kassa()


def codes(reply: dict[str, Any]) -> list[int]:
    return [e["Code"] for e in reply.get("Errors", [])]


def test_a_call_without_the_api_key_is_refused_with_401(kassa: Kassa) -> None:
    response = kassa.http.post("/api/v4/Authorize", json={"Login": "demo@qazaq-esim.com",
                                                          "Password": "demo"})
    assert response.status_code == 401
    assert "x-api-key" in response.json()["Errors"][0]["Text"]


def test_a_wrong_password_gives_code_1(kassa: Kassa) -> None:
    assert codes(kassa.authorize("wrong")) == [1]


def test_an_unknown_token_gives_3_and_an_expired_one_2(kassa: Kassa) -> None:
    assert codes(kassa.post("/api/v4/Check", {"Token": "nope", "CashboxUniqueNumber": BOX,
                                              **sale()})) == [3]
    kassa.control("expire-tokens")
    assert codes(kassa.call("/api/v4/Check", **sale())) == [2]


def test_a_new_authorize_voids_the_previous_token(kassa: Kassa) -> None:
    old = kassa.token
    kassa.token = kassa.authorize()["Data"]["Token"]
    assert codes(kassa.post("/api/v4/Check", {"Token": old, "CashboxUniqueNumber": BOX,
                                              **sale()})) == [2]
    assert "Data" in kassa.call("/api/v4/Check", **sale())


def test_an_unknown_cashbox_gives_6(kassa: Kassa) -> None:
    reply = kassa.post("/api/v4/Check", {"Token": kassa.token, "CashboxUniqueNumber": "SWK9", **sale()})
    assert codes(reply) == [6]


def test_the_first_sale_opens_a_shift_and_gets_a_fiscal_number(kassa: Kassa) -> None:
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    assert data["CheckNumber"].isdigit() and 9 <= len(data["CheckNumber"]) <= 13
    assert data["ShiftNumber"] == 1 and data["CheckOrderNumber"] == 1
    assert data["OfflineMode"] is False
    assert f"i={data['CheckNumber']}" in data["TicketUrl"] and "s=4990.00" in data["TicketUrl"]
    assert kassa.http.get(data["TicketUrl"]).text.count(data["CheckNumber"]) == 1
    assert kassa.control("state")["cashboxes"][BOX]["shifts"][0]["close_date"] is None


def test_keys_and_paths_are_case_insensitive(kassa: Kassa) -> None:
    body = {k.lower(): v for k, v in sale().items()}
    reply = kassa.post("/API/V4/check", {"token": kassa.token, "cashboxuniquenumber": BOX, **body})
    assert "Data" in reply


def test_the_receipt_is_mailed_when_an_email_is_given(kassa: Kassa) -> None:
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    outbox = kassa.http.get("/_sandbox/outbox").json()
    assert outbox == [{"to": "buyer@example.kz", "check_number": data["CheckNumber"],
                       "ticket_url": data["TicketUrl"], "delivered": True}]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Positions": []}, "Positions"),
        ({"Payments": []}, "Payments"),
        ({"Positions": [{"Count": 1, "Price": 500, "TaxType": 7, "TaxPercent": 0, "Tax": 0,
                         "PositionName": "x", "UnitCode": 796}],
          "Payments": [{"Sum": 500, "PaymentType": 1}]}, "TaxType"),
        ({"Payments": [{"Sum": 4000, "PaymentType": 1}]}, "Payments minus Change"),
        ({"Payments": [{"Sum": 2495, "PaymentType": 1}, {"Sum": 2495, "PaymentType": 1}]},
         "appears twice"),
        ({"Payments": [{"Sum": 4990.001, "PaymentType": 1}]}, "more than 2 decimals"),
        ({"ExternalCheckNumber": "k" * 51}, "ExternalCheckNumber"),
        ({"Positions": [{"Count": 1, "Price": 500, "TaxType": 100, "TaxPercent": 12,
                         "Tax": 53.57, "PositionName": "x", "UnitCode": 796}],
          "Payments": [{"Sum": 500, "PaymentType": 1}]}, "VAT"),
        ({"Positions": [{"Count": 1, "Price": 4990, "TaxType": 0, "TaxPercent": 0, "Tax": 0,
                         "PositionName": "", "UnitCode": 796}]}, "PositionName"),
    ],
)
def test_a_bad_receipt_gives_9_naming_the_field(kassa: Kassa, changes: dict[str, Any], field: str) -> None:
    reply = kassa.call("/api/v4/Check", **sale(**changes))
    assert codes(reply) == [9]
    assert field in reply["Errors"][0]["Text"]
    assert kassa.control("state")["receipts"] == []


def test_vat_is_checked_against_the_formula_on_a_vat_cashbox(kassa: Kassa) -> None:
    kassa.app.state.webkassa.cashboxes[BOX].vat_payer = True
    position = {"Count": 1, "Price": 500, "TaxType": 100, "TaxPercent": 12, "PositionName": "x",
                "UnitCode": 796}
    body = sale(Payments=[{"Sum": 500, "PaymentType": 1}])
    assert "Data" in kassa.call("/api/v4/Check", **{**body, "Positions": [{**position, "Tax": 53.57}]})
    wrong = kassa.call("/api/v4/Check", **{**body, "ExternalCheckNumber": "sale-2",
                                           "Positions": [{**position, "Tax": 60}]})
    assert codes(wrong) == [9] and "53.57" in wrong["Errors"][0]["Text"]


def test_a_repeated_key_answers_14_with_the_first_receipt(kassa: Kassa) -> None:
    first = kassa.call("/api/v4/Check", **sale())["Data"]
    again = kassa.call("/api/v4/Check", **sale())
    assert codes(again) == [14] and again["Data"]["CheckNumber"] == first["CheckNumber"]
    assert len(kassa.control("state")["receipts"]) == 1


@pytest.mark.parametrize(("mode", "has_errors", "has_data"),
                         [("14", True, False), ("replay", False, True)])
def test_the_duplicate_mode_switch_changes_the_answer(kassa: Kassa, mode: str, has_errors: bool,
                                                     has_data: bool) -> None:
    kassa.control("faults", duplicate_mode=mode)
    kassa.call("/api/v4/Check", **sale())
    again = kassa.call("/api/v4/Check", **sale())
    assert ("Errors" in again, "Data" in again) == (has_errors, has_data)
    assert len(kassa.control("state")["receipts"]) == 1


def test_a_key_reused_for_a_different_receipt_gets_14_without_data(kassa: Kassa) -> None:
    kassa.call("/api/v4/Check", **sale())
    reply = kassa.call("/api/v4/Check", **sale(price=100))
    assert codes(reply) == [14] and "Data" not in reply


def test_a_return_needs_its_sale_and_cannot_exceed_it(kassa: Kassa) -> None:
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    missing = kassa.call("/api/v4/Check", **sale("return-1", OperationType=3))
    assert codes(missing) == [9] and "ReturnBasisDetails" in missing["Errors"][0]["Text"]
    wrong = return_of({**data, "CheckNumber": "999999999"})
    assert codes(kassa.call("/api/v4/Check", **wrong)) == [9]
    assert "Data" in kassa.call("/api/v4/Check", **return_of(data, amount=1000))
    over = kassa.call("/api/v4/Check", **return_of(data, key="return-2", amount=4000))
    assert codes(over) == [9] and "exceeds" in over["Errors"][0]["Text"]
    x = kassa.call("/api/v4/XReport")["Data"]
    assert (x["Sell"], x["ReturnSell"], x["DocumentCount"]) == (4990, 1000, 2)


def test_a_shift_over_24_hours_gives_11_until_a_z_report(kassa: Kassa) -> None:
    kassa.call("/api/v4/Check", **sale())
    kassa.control("age-shift", hours=25)
    assert codes(kassa.call("/api/v4/Check", **sale("sale-2"))) == [11]
    z = kassa.call("/api/v4/ZReport")["Data"]
    assert (z["ShiftNumber"], z["DocumentCount"], z["Sell"]) == (1, 1, 4990)
    data = kassa.call("/api/v4/Check", **sale("sale-2"))["Data"]
    assert data["ShiftNumber"] == 2
    history = kassa.call("/api/v4/Cashbox/ShiftHistory", Skip=0, Take=10)["Data"]["Shifts"]
    assert [s["ShiftNumber"] for s in history] == [2, 1]
    assert history[0]["CloseDate"] is None and history[1]["CloseDate"]


def test_a_z_report_with_no_open_shift_gives_13_then_12(kassa: Kassa) -> None:
    assert codes(kassa.call("/api/v4/ZReport")) == [13]
    kassa.call("/api/v4/Check", **sale())
    assert "Data" in kassa.call("/api/v4/ZReport")
    assert codes(kassa.call("/api/v4/ZReport")) == [12]


def test_the_lookup_by_external_number_needs_the_shift(kassa: Kassa) -> None:
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    path = "/api-history/v4/Ticket/GetTicketByExternalCheckNumber"
    assert codes(kassa.call(path, ExternalCheckNumber="sale-1")) == [9]
    found = kassa.call(path, ExternalCheckNumber="sale-1", ShiftNumber=1)["Data"]
    assert found["Number"] == data["CheckNumber"] and found["IsOffline"] is False
    assert codes(kassa.call(path, ExternalCheckNumber="sale-9", ShiftNumber=1)) == [19]
    items = kassa.call("/api/v4/Check/History", ShiftNumber=1, Skip=0, Take=50)["Data"]["Items"]
    assert [(i["Number"], i["ExternalCheckNumber"]) for i in items] == [(data["CheckNumber"], "sale-1")]


def test_the_group_link_shows_every_receipt_of_the_order(kassa: Kassa) -> None:
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    kassa.call("/api/v4/Check", **return_of(data))
    link = kassa.http.get(
        "/api-history/v4/Ticket/GetTicketGroupUrl",
        params={"ExternalLinkId": "6f1c1c52-0000-4000-8000-000000000001"},
        headers={"x-api-key": KEY},
    ).json()["Data"]["ExternalLink"]
    page = kassa.http.get(link).text
    assert "ПРОДАЖА" in page and "ВОЗВРАТ ПРОДАЖИ" in page


def test_offline_receipts_are_marked_and_refused_after_72_hours(kassa: Kassa) -> None:
    kassa.control("faults", ofd_offline=True)
    data = kassa.call("/api/v4/Check", **sale())["Data"]
    assert data["OfflineMode"] is True and data["CheckNumber"]
    assert "АВТОНОМНЫЙ РЕЖИМ" in kassa.http.get(data["TicketUrl"]).text
    kassa.control("age-offline", hours=73)
    assert codes(kassa.call("/api/v4/Check", **sale("sale-2"))) == [18]


def test_an_injected_lost_reply_still_records_the_receipt(kassa: Kassa) -> None:
    kassa.control("fail-next", mode="commit_then_504")
    response = kassa.http.post("/api/v4/Check", json={"Token": kassa.token,
                                                      "CashboxUniqueNumber": BOX, **sale()},
                               headers={"x-api-key": KEY})
    assert response.status_code == 504 and "html" in response.headers["content-type"]
    assert len(kassa.control("state")["receipts"]) == 1


def test_a_down_domain_answers_505_with_alternatives(kassa: Kassa) -> None:
    kassa.control("faults", down_hosts=["testserver"], alternative_domains="kkm2.example, kkm3.example")
    response = kassa.http.post("/api/v4/Authorize", json={}, headers={"x-api-key": KEY})
    assert codes(response.json()) == [505]
    assert response.headers["AlternativeDomainNames"] == "kkm2.example, kkm3.example"


def test_parallel_calls_on_one_cashbox_get_9() -> None:
    app = create_app()

    async def scenario() -> list[list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kassa",
                                     headers={"x-api-key": KEY}) as http:
            token = (await http.post("/api/v4/Authorize", json={
                "Login": "demo@qazaq-esim.com", "Password": "demo"})).json()["Data"]["Token"]
            await http.post("/_sandbox/faults", json={"latency_s": 0.2})
            replies = await asyncio.gather(*(
                http.post("/api/v4/Check", json={"Token": token, "CashboxUniqueNumber": BOX,
                                                 **sale(f"sale-{i}")})
                for i in range(2)
            ))
            return sorted(codes(r.json()) for r in replies)

    assert asyncio.run(scenario()) == [[], [9]]
