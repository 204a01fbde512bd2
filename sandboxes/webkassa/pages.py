"""The Webkassa sandbox's receipts as people see them: print lines and the public pages
(the OFD check link, the printable ticket, the group link of one order)."""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .checks import CheckRequest
from .state import Cashbox, Receipt, State, local


def receipt_lines(cashbox: Cashbox, receipt_total: Decimal, check: CheckRequest, number: str,
                  when: datetime, offline: bool) -> list[str]:
    kind = {2: "ПРОДАЖА", 3: "ВОЗВРАТ ПРОДАЖИ", 0: "ПОКУПКА", 1: "ВОЗВРАТ ПОКУПКИ"}
    lines = ["ИП Islambakiyev Sh.A.", f"БИН/ИИН {cashbox.identity_number}",
             "ФИСКАЛЬНЫЙ ЧЕК", kind[check.operation_type]]
    for p in check.positions:
        lines.append(f"{p.get('positionname')}  {p.get('count')} x {p.get('price')}")
    lines.append(f"ИТОГО: {receipt_total:.2f}")
    names = {0: "Наличные", 1: "Банковская карта", 4: "Мобильный платёж", 2: "Кредит", 3: "Тара"}
    lines += [f"{names[kind_]}: {amount:.2f}" for kind_, amount in check.payments]
    lines += [f"ФП: {number}", f"РНМ: {cashbox.registration_number}",
              f"ЗНМ: {cashbox.unique_number}", f"Дата: {local(when)}"]
    if offline:
        lines.append("АВТОНОМНЫЙ РЕЖИМ")
    return lines


def receipt_page(receipts: list[Receipt]) -> HTMLResponse:
    if not receipts:
        return HTMLResponse("<html><body><p>Receipt not found</p></body></html>", 404)
    body = "".join(
        "<pre class='receipt'>" + html.escape("\n".join(r.lines)) + "</pre>" for r in receipts
    )
    return HTMLResponse(f"<!doctype html><html><head><title>Чек</title></head><body>{body}</body></html>")


async def consumer_page(request: Request) -> Response:
    state: State = request.app.state.webkassa
    number = request.query_params.get("i")
    return receipt_page([r for r in state.receipts if r.check_number == number])


async def print_page(request: Request) -> Response:
    state: State = request.app.state.webkassa
    q = request.query_params
    return receipt_page([
        r for r in state.receipts
        if r.cashbox == q.get("chb") and str(r.shift_number) == q.get("sh") and r.key == q.get("extnum")
    ])


async def group_page(request: Request) -> Response:
    state: State = request.app.state.webkassa
    link_id = request.path_params["link_id"]
    return receipt_page([r for r in state.receipts if r.link_id == link_id])
