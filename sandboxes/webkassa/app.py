"""The Webkassa API v4 sandbox: a standalone Starlette app built from shared/specs/webkassa.md."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .checks import CheckRequest, Invalid, lower_keys, request_hash, validate
from .control import control
from .pages import consumer_page, group_page, print_page, receipt_lines
from .state import (
    LOCAL,
    OFFLINE_LIMIT,
    SHIFT_LIMIT,
    Cashbox,
    Receipt,
    Shift,
    State,
    default_state,
    local,
    num,
)

OFD = {"Name": "Sandbox OFD", "Host": "consumer", "Code": 4}
Handler = Callable[[Request, State, dict[str, Any], Cashbox | None], Awaitable[Response]]


def errors(code: int, text: str, data: Any = None, status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"Errors": [{"Code": code, "Text": text}]}
    if data is not None:
        body["Data"] = data
    return JSONResponse(body, status_code=status)


def ok(data: Any) -> JSONResponse:
    return JSONResponse({"Data": data})


def html_error(status: int) -> HTMLResponse:
    return HTMLResponse(f"<html><body><h1>{status} Gateway error</h1></body></html>", status)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --- API endpoints -------------------------------------------------------------------------


async def authorize(request: Request, state: State, body: dict[str, Any], _: Cashbox | None) -> Response:
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or state.users.get(login) != password:
        return errors(1, "Неверный логин или пароль")
    return ok({"Token": state.issue_token(login)})


async def check(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    faults = state.faults
    failure = faults.take_failure("check")
    if failure:
        mode = failure["mode"]
        if mode in ("http_502", "http_504"):
            return html_error(int(mode[-3:]))
        if mode == "timeout":
            await asyncio.sleep(float(failure.get("seconds", 30)))
            return html_error(504)
        if mode == "error":
            return errors(int(failure.get("code", -1)), "Injected error")
    now = state.now()
    shift = cashbox.open_shift()
    if shift is not None and now - shift.open_date > SHIFT_LIMIT:
        return errors(11, "Продолжительность смены превысила 24 часа: закройте смену (ZReport)")
    if faults.ofd_offline and cashbox.offline_since and now - cashbox.offline_since > OFFLINE_LIMIT:
        return errors(18, "Автономный режим длится более 72 часов")
    try:
        parsed = validate(state, cashbox.unique_number, body)
    except Invalid as exc:
        return errors(9, str(exc))
    digest = request_hash(body)
    if parsed.key is not None and (previous := state.receipt(cashbox.unique_number, parsed.key)):
        if previous.request_hash != digest:
            return errors(14, f"ExternalCheckNumber {parsed.key} was used for a different receipt")
        if faults.duplicate_mode == "14":
            return errors(14, "Чек с таким внешним номером уже существует")
        if faults.duplicate_mode == "replay":
            return ok(previous.data)
        return errors(14, "Чек с таким внешним номером уже существует", previous.data)
    data = commit(request, state, cashbox, parsed, digest)
    if failure and failure["mode"] == "commit_then_timeout":
        await asyncio.sleep(float(failure.get("seconds", 30)))
        return html_error(504)
    if failure and failure["mode"] == "commit_then_504":
        return html_error(504)
    return ok(data)


def commit(request: Request, state: State, cashbox: Cashbox, parsed: CheckRequest,
           digest: str) -> dict[str, Any]:
    now = state.now()
    shift = cashbox.open_shift()
    if shift is None:  # the first operation opens the shift (§4)
        number = cashbox.shifts[-1].number + 1 if cashbox.shifts else 1
        shift = Shift(number=number, open_date=now)
        cashbox.shifts.append(shift)
    offline = state.faults.ofd_offline
    shift.document_count += 1
    shift.check_order_number += 1
    shift.offline = shift.offline or offline
    if parsed.operation_type == 2:
        shift.sell += parsed.total
    elif parsed.operation_type == 3:
        shift.return_sell += parsed.total
    check_number = state.new_check_number()
    base = base_url(request)
    ticket_url = (
        f"{base}/consumer?i={check_number}&f={cashbox.registration_number}"
        f"&s={parsed.total:.2f}&t={now.astimezone(LOCAL):%Y%m%dT%H%M%S}"
    )
    print_url = f"{base}/spa-ui/ticket?chb={cashbox.unique_number}&sh={shift.number}&extnum={parsed.key or ''}"
    lines = receipt_lines(cashbox, parsed.total, parsed, check_number, now, offline)
    box: dict[str, Any] = {"UniqueNumber": cashbox.unique_number,
                           "IdentityNumber": cashbox.identity_number, "Ofd": OFD}
    data: dict[str, Any] = {
        "CheckNumber": check_number,
        "DateTime": local(now),
        "DateTimeUTC": local(now) + " +05:00",
        "OfflineMode": offline,
        "CashboxOfflineMode": offline,
        "Cashbox": box,
        "CheckOrderNumber": shift.check_order_number,
        "ShiftNumber": shift.number,
        "EmployeeName": "Sandbox cashier",
        "TicketUrl": ticket_url,
        "TicketPrintUrl": print_url,
        "TicketPrintFormat": [{"Order": i, "Type": 0, "Value": v} for i, v in enumerate(lines)],
    }
    if state.faults.response_variant == "flat":
        data["Total"] = num(parsed.total)
        data["CashboxRegistrationNumber"] = cashbox.registration_number
    else:
        box["RegistrationNumber"] = cashbox.registration_number
    if parsed.basis is not None:
        parsed.basis.returned += parsed.total
    state.receipts.append(Receipt(
        cashbox=cashbox.unique_number, key=parsed.key, request_hash=digest,
        operation_type=parsed.operation_type, check_number=check_number,
        shift_number=shift.number, date=now, total=parsed.total, offline=offline,
        link_id=parsed.link_id, data=data, lines=lines,
    ))
    if offline:
        state.offline_backlog.append(check_number)
    if parsed.email:  # Webkassa mails the receipt itself when CustomerEmail is given (§9)
        state.outbox.append({
            "to": parsed.email, "check_number": check_number, "ticket_url": ticket_url,
            "delivered": not state.faults.mail_fails,
        })
    return data


def report(state: State, cashbox: Cashbox, shift: Shift, closing: bool) -> dict[str, Any]:
    now = state.now()
    if closing:
        shift.close_date = now
        cashbox.report_number += 1
    return {
        "ReportNumber": cashbox.report_number if closing else 0,
        "ShiftNumber": shift.number,
        "StartOn": local(shift.open_date),
        "CloseOn": local(shift.close_date or now),
        "DocumentCount": shift.document_count,
        "Sell": num(shift.sell),
        "ReturnSell": num(shift.return_sell),
        "OfflineMode": shift.offline,
    }


async def z_report(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    shift = cashbox.open_shift()
    if shift is None:
        if cashbox.shifts:
            return errors(12, "Смена уже закрыта")
        return errors(13, "Нет открытой смены")
    return ok(report(state, cashbox, shift, closing=True))


async def x_report(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    shift = cashbox.open_shift()
    if shift is None:
        return errors(13, "Нет открытой смены")
    return ok(report(state, cashbox, shift, closing=False))


def paging(body: dict[str, Any], limit: int) -> tuple[int, int]:
    skip, take = body.get("skip", 0), body.get("take", 10)
    if not isinstance(skip, int) or not isinstance(take, int) or skip < 0 or not 1 <= take <= limit:
        raise Invalid(f"Skip must be ≥ 0 and Take 1..{limit}")
    return skip, take


async def shift_history(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    try:
        skip, take = paging(body, 100)
    except Invalid as exc:
        return errors(9, str(exc))
    shifts = list(reversed(cashbox.shifts))
    return ok({
        "Shifts": [
            {"ShiftNumber": s.number, "OpenDate": local(s.open_date),
             "CloseDate": local(s.close_date) if s.close_date else None}
            for s in shifts[skip:skip + take]
        ],
        "Total": len(shifts),
    })


async def check_history(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    try:
        skip, take = paging(body, 50)
    except Invalid as exc:
        return errors(9, str(exc))
    number = body.get("shiftnumber")
    if not any(s.number == number for s in cashbox.shifts):
        return errors(15, f"Смена {number!r} не найдена")
    items = [r for r in state.receipts if r.cashbox == cashbox.unique_number and r.shift_number == number]
    return ok({
        "Items": [
            {"Number": r.check_number, "ExternalCheckNumber": r.key,
             "RegistratedOn": local(r.date), "Total": num(r.total), "IsOffline": r.offline,
             "TicketUrl": r.data["TicketUrl"]}
            for r in items[skip:skip + take]
        ],
        "Total": len(items),
    })


def find_by_key(state: State, cashbox: Cashbox, body: dict[str, Any],
                require_shift: bool) -> Receipt | JSONResponse:
    key = body.get("externalchecknumber")
    shift = body.get("shiftnumber")
    if not isinstance(key, str) or not key:
        return errors(9, "ExternalCheckNumber is required")
    if require_shift and not isinstance(shift, int):
        return errors(9, "ShiftNumber is required")
    receipt = state.receipt(cashbox.unique_number, key)
    if receipt is None:
        return errors(19, f"Чек с внешним номером {key} не найден")
    if shift is not None and receipt.shift_number != shift:
        return errors(16, f"Чек {key} не найден в смене {shift}")
    return receipt


async def ticket_by_key(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    found = find_by_key(state, cashbox, body, state.faults.lookup_requires_shift)
    if isinstance(found, JSONResponse):
        return found
    r = found
    common = {"ExternalCheckNumber": r.key, "ShiftNumber": r.shift_number,
              "DateTime": local(r.date), "Total": num(r.total),
              "TicketUrl": r.data["TicketUrl"], "TicketPrintUrl": r.data["TicketPrintUrl"],
              "CashboxRegistrationNumber": state.cashboxes[r.cashbox].registration_number}
    if state.faults.lookup_shape == "check":
        return ok({"CheckNumber": r.check_number, "OfflineMode": r.offline, **common})
    return ok({"Number": r.check_number, "IsOffline": r.offline, **common})


async def print_format(request: Request, state: State, body: dict[str, Any], cashbox: Cashbox | None) -> Response:
    assert cashbox is not None
    found = find_by_key(state, cashbox, body, require_shift=False)
    if isinstance(found, JSONResponse):
        return found
    return ok({"Lines": [{"Order": i, "Type": 0, "Value": v} for i, v in enumerate(found.lines)]})


async def ticket_group_url(request: Request, state: State, body: dict[str, Any], _: Cashbox | None) -> Response:
    link_id = body.get("externallinkid") or request.query_params.get("ExternalLinkId") \
        or request.query_params.get("externalLinkId")
    if not link_id or not any(r.link_id == link_id for r in state.receipts):
        return errors(19, f"ExternalLinkId {link_id!r} не найден")
    return ok({"ExternalLink": f"{base_url(request)}/ticket-group/{link_id}"})


# path (lowercase) → (handler, needs a token, needs a cashbox, holds the cashbox)
ENDPOINTS: dict[str, tuple[Handler, bool, bool, bool]] = {
    "/api/v4/authorize": (authorize, False, False, False),
    "/api/v4/check": (check, True, True, True),
    "/api/v4/zreport": (z_report, True, True, True),
    "/api/v4/xreport": (x_report, True, True, True),
    "/api/v4/cashbox/shifthistory": (shift_history, True, True, False),
    "/api/v4/check/history": (check_history, True, True, False),
    "/api/v4/ticket/printformat": (print_format, True, True, False),
    "/api-history/v4/ticket/getticketbyexternalchecknumber": (ticket_by_key, True, True, False),
    "/api-history/v4/ticket/getticketgroupurl": (ticket_group_url, False, False, False),
}


async def api(request: Request) -> Response:
    state: State = request.app.state.webkassa
    endpoint = ENDPOINTS.get(request.url.path.lower().rstrip("/"))
    if endpoint is None:
        return JSONResponse({"Errors": [{"Code": -1, "Text": "Not found"}]}, 404)
    handler, needs_token, needs_cashbox, holds_cashbox = endpoint
    if request.url.hostname in state.faults.down_hosts:
        response = errors(505, "Домен недоступен")
        response.headers["AlternativeDomainNames"] = state.faults.alternative_domains
        return response
    if request.headers.get("x-api-key") != state.api_key:
        return errors(-1, "API key is missing or wrong: send the x-api-key header", status=401)
    if request.method == "POST":
        try:
            raw = json.loads(await request.body(), parse_float=Decimal)
        except ValueError:
            return errors(9, "The body is not JSON")
        if not isinstance(raw, dict):
            return errors(9, "The body must be a JSON object")
        body = lower_keys(raw)
    else:
        body = {}
    if needs_token:
        token = state.tokens.get(str(body.get("token")))
        if token is None:
            return errors(3, "Не авторизован: неизвестный токен")
        if token.void or token.expires_at <= state.now():
            return errors(2, "Срок действия токена истёк")
    cashbox = None
    if needs_cashbox:
        cashbox = state.cashboxes.get(str(body.get("cashboxuniquenumber")))
        if cashbox is None:
            return errors(6, f"Касса {body.get('cashboxuniquenumber')!r} не найдена")
    if not holds_cashbox or cashbox is None:
        return await handler(request, state, body, cashbox)
    if cashbox.busy:  # calls per cashbox must be sequential (§2)
        return errors(9, "Параллельный вызов: по кассе уже выполняется операция")
    cashbox.busy = True
    try:
        if state.faults.latency_s:
            await asyncio.sleep(state.faults.latency_s)
        return await handler(request, state, body, cashbox)
    finally:
        cashbox.busy = False


def create_app(
    api_key: str = "WKD-00000000-0000-0000-0000-000000000000",
    login: str = "demo@qazaq-esim.com",
    password: str = "demo",
    cashbox: str = "SWK00000001",
) -> Starlette:
    """A fresh sandbox with one user and one cashbox (the values of .env.example by default)."""
    app = Starlette(routes=[
        Route("/_sandbox/{action:path}", control, methods=["GET", "POST"]),
        Route("/consumer", consumer_page),
        Route("/spa-ui/ticket", print_page),
        Route("/ticket-group/{link_id}", group_page),
        Route("/{path:path}", api, methods=["GET", "POST"]),
    ])
    app.state.make_state = lambda: default_state(api_key, login, password, cashbox)
    app.state.webkassa = app.state.make_state()
    return app
