"""The console's pages (docs/architecture.md, "Support console"): sign-in, inbox, threads,
orders with resend and refund, claims. Server-rendered with Jinja2 (autoescaped: a buyer's
text is shown as text), no script at all, a CSRF token in every form, and the session in an
``HttpOnly; Secure; SameSite=Strict`` cookie that expires.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from worker.alerts import OVERDUE_AFTER_S
from worker.chat import desk, screenshots
from worker.chat.routes import MAX_TEXT
from worker.chat.threads import UnknownThread
from worker.operator import routes as operator_api
from worker.operator import support
from worker.rate_limits import client_address
from worker.refunds import refundable
from worker.services import Services

from . import dashboard, refund_rules
from .accounts import MIN_PASSWORD, SESSION_S, Accounts, Session
from .claims import Claims

log = logging.getLogger("worker.console")

COOKIE = "qe_console"
FORM_COOKIE = "qe_console_form"  # the sign-in form's CSRF token (there is no session yet)
# Failed sign-ins: 5 per account and 20 per address in 15 minutes, then refused until they age out.
ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW_S = 5, 20, 15 * 60
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
CSS = (Path(__file__).parent / "templates" / "console.css").read_bytes()

Endpoint = Callable[[Request], Awaitable[Response]]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def accounts(services: Services) -> Accounts:
    return Accounts(services.store.document("operators"))


def claims(services: Services) -> Claims:
    return Claims(services.store.document("claims"))


def _ago(iso: str) -> str:
    minutes = int((datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _number(value: float) -> str:
    """1 decimal at most, no exponent: 14970, 2.5."""
    return f"{value:.1f}".removesuffix(".0")


TEMPLATES.filters["ago"] = _ago
TEMPLATES.filters["number"] = _number


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    flagged = [c for c in claims(_services(request)).all() if c.flag()] if session else []
    html = TEMPLATES.get_template(name).render(session=session, flagged=flagged, **context)
    return HTMLResponse(html, status, headers=HEADERS)


def _session(request: Request) -> Session | None:
    session_id = request.cookies.get(COOKIE)
    return accounts(_services(request)).session(session_id) if session_id else None


def signed_in(endpoint: Endpoint) -> Endpoint:
    """Pages for a signed-in operator; a POST must carry the session's CSRF token."""
    async def guarded(request: Request) -> Response:
        session = _session(request)
        if session is None:
            return RedirectResponse("/console/sign-in", 303, headers=HEADERS)
        request.state.session = session
        if request.method == "POST":
            form = await request.form()
            if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
                return render(request, "message.html", 403,
                              text="This form has expired. Go back, reload the page and try again.")
            request.state.form = form
        return await endpoint(request)

    return guarded


def _form(request: Request) -> FormData:
    form: FormData = request.state.form
    return form


def _operator(request: Request) -> str:
    session: Session = request.state.session
    return session.operator.name


# ---- signing in ------------------------------------------------------------------------------


async def sign_in_page(request: Request, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", status, csrf=token, error=error)
    response.set_cookie(FORM_COOKIE, token, max_age=3600, path="/console", secure=True,
                        httponly=True, samesite="strict")
    return response


async def sign_in(request: Request) -> Response:
    services = _services(request)
    form = await request.form()
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")).encode(), expected.encode()):
        return await sign_in_page(request, "This form has expired. Try again.", 403)
    email = str(form.get("email", "")).strip().lower()
    keys = (f"account:{email}", f"address:{client_address(request)}")
    failures = services.sign_in_failures
    if failures.over(keys[0]) or services.sign_in_address_failures.over(keys[1]):
        log.warning("console: sign-in refused for %s from %s: too many failed attempts",
                    email, keys[1])
        return await sign_in_page(
            request, "Too many failed attempts. Wait 15 minutes, or ask a colleague to reset your "
                     "password with `invoke add-operator`.", 429)
    operator = await asyncio.to_thread(accounts(services).verify, email, str(form.get("password", "")),
                                       str(form.get("code", "")))
    if operator is None:
        failures.allow(keys[0])
        services.sign_in_address_failures.allow(keys[1])
        return await sign_in_page(request, "Wrong e-mail address, password or code.", 401)
    session_id = await asyncio.to_thread(accounts(services).start_session, operator)
    log.info("console: %s signed in", operator.name)
    response = RedirectResponse("/console/", 303, headers=HEADERS)
    response.set_cookie(COOKIE, session_id, max_age=SESSION_S, path="/console", secure=True,
                        httponly=True, samesite="strict")
    response.delete_cookie(FORM_COOKIE, path="/console")
    return response


async def sign_out(request: Request) -> Response:
    await asyncio.to_thread(accounts(_services(request)).end_session, request.cookies[COOKIE])
    response = RedirectResponse("/console/sign-in", 303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/console", secure=True, httponly=True, samesite="strict")
    return response


async def set_password(request: Request) -> Response:
    token = request.path_params["token"]
    store = accounts(_services(request))
    if not store.link_valid(token):
        return render(request, "message.html", 404,
                      text="This link was used or has expired. Ask for a new one "
                           "(`invoke add-operator EMAIL --name NAME`).")
    if request.method == "GET":
        return render(request, "set_password.html", error="")
    password = str((await request.form()).get("password", ""))
    if len(password) < MIN_PASSWORD:
        return render(request, "set_password.html", 422,
                      error=f"Choose a password of at least {MIN_PASSWORD} characters.")
    await asyncio.to_thread(store.set_password, token, password)
    return RedirectResponse("/console/sign-in", 303, headers=HEADERS)


# ---- inbox and threads -----------------------------------------------------------------------


async def inbox(request: Request) -> Response:
    services = _services(request)
    threads = [desk.view(services, t) for t in desk.inbox(services)]
    return render(request, "inbox.html", threads=threads)


async def thread_page(request: Request) -> Response:
    services = _services(request)
    thread = services.chat.get(request.path_params["thread_id"])
    if thread is None:
        return render(request, "message.html", 404, text="No such thread.")
    return render(request, "thread.html", thread=desk.view(services, thread),
                  today=date.today().isoformat())


async def screenshot(request: Request) -> Response:
    services = _services(request)
    thread = services.chat.get(request.path_params["thread_id"])
    name = request.path_params["name"]
    if thread is None or name not in {m.screenshot for m in thread.messages}:
        return render(request, "message.html", 404, text="No such screenshot.")
    media_type = screenshots.MEDIA_TYPES[name.rpartition(".")[2]]
    return Response(await asyncio.to_thread(services.chat.screenshot, name), media_type=media_type,
                    headers={**HEADERS, "Content-Disposition": "inline"})


async def thread_reply(request: Request) -> Response:
    thread_id = request.path_params["thread_id"]
    text = str(_form(request).get("text", "")).strip()
    if not text or len(text) > MAX_TEXT:
        return render(request, "message.html", 422,
                      text=f"Write an answer of 1 to {MAX_TEXT} characters.")
    try:
        await desk.reply(_services(request), thread_id, text, _operator(request))
    except UnknownThread:
        return render(request, "message.html", 404, text="No such thread.")
    return RedirectResponse(f"/console/threads/{thread_id}", 303, headers=HEADERS)


async def thread_close(request: Request) -> Response:
    thread_id = request.path_params["thread_id"]
    try:
        await desk.close(_services(request), thread_id, _operator(request))
    except UnknownThread:
        return render(request, "message.html", 404, text="No such thread.")
    return RedirectResponse("/console/", 303, headers=HEADERS)


# ---- orders ---------------------------------------------------------------------------------


async def orders(request: Request) -> Response:
    q = request.query_params.get("q", "")
    found = [support.summary(o) for o in support.find_orders(_services(request).store, q)]
    return render(request, "orders.html", q=q, orders=found)


async def order_page(request: Request, notice: str = "") -> Response:
    services = _services(request)
    order = services.store.get(request.path_params["order_id"])
    if order is None:
        return render(request, "message.html", 404, text="No such order.")
    threads = [t for t in services.chat.all() if t.order_id == order.id]
    return render(request, "order.html", order=support.detail(order, services.store),
                  threads=threads, notice=notice, today=date.today().isoformat())


async def order_resend(request: Request) -> Response:
    try:
        await support.resend_qr(_services(request).store, request.path_params["order_id"],
                                _operator(request))
    except ValueError as error:
        return render(request, "message.html", 409, text=str(error))
    return await order_page(request, "The e-mail with the QR code is being sent again.")


async def order_usage(request: Request) -> Response:
    """The profile's data used and state, asked of the aggregator now."""
    services = _services(request)
    order = services.store.get(request.path_params["order_id"])
    if order is None or order.profile is None:
        return render(request, "message.html", 404, text="No such order with an eSIM.")
    facts = await refund_rules.facts(services, order)
    used = "unknown" if facts.used_bytes is None else f"{facts.used_bytes} bytes"
    return await order_page(request, f"The aggregator says now: {used} used, installed: "
                                      f"{'yes' if facts.installed else 'no'}, status "
                                      f"{facts.aggregator_status or 'unknown'}.")


async def refund_page(request: Request) -> Response:
    services = _services(request)
    order = services.store.get(request.path_params["order_id"])
    if order is None:
        return render(request, "message.html", 404, text="No such order.")
    confirmed = request.query_params.get("non_functional") == "1"
    verdict = await refund_rules.verdict(services, order, non_functional=confirmed)
    return render(request, "refund.html", order=order, verdict=verdict, confirmed=confirmed)


async def refund(request: Request) -> Response:
    services = _services(request)
    form = _form(request)
    order_id = request.path_params["order_id"]
    outcome = await support.refund(
        services, order_id, reason=str(form.get("reason", "")), operator=_operator(request),
        non_functional=form.get("non_functional") == "1", amount=None,
    )
    if outcome.state == "refused":
        return render(request, "message.html", 409,
                      text=f"Refused by offer {refund_rules.clause(outcome.rule)}: {outcome.detail}")
    # refunded, or in progress (the `refund` job carries on), or failed: the notice says which.
    return await order_page(request, f"Refund: {outcome.state}. {outcome.detail}".strip())


# ---- queues ---------------------------------------------------------------------------------


async def queues(request: Request) -> Response:
    """Refundable orders, fiscal receipts not registered yet, jobs due for over 10 minutes."""
    services = _services(request)
    now = time.time()
    stuck = [j for j in services.store.jobs() if now - j.due_at > OVERDUE_AFTER_S]
    return render(request, "queues.html", refundable=refundable(services),
                  receipts=support.pending_receipts(services.store),
                  stuck=[{"order_id": j.order_id, "kind": j.kind, "attempts": j.attempts,
                          "last_error": j.last_error, "minutes": int((now - j.due_at) // 60)}
                         for j in stuck])


async def dashboard_page(request: Request) -> Response:
    return render(request, "dashboard.html", days=dashboard.days(_services(request).store))


# ---- claims ---------------------------------------------------------------------------------


async def claims_page(request: Request) -> Response:
    return render(request, "claims.html", claims=claims(_services(request)).all())


async def claim_open(request: Request) -> Response:
    form = _form(request)
    try:
        received = date.fromisoformat(str(form.get("received_on", "")))
    except ValueError:
        return render(request, "message.html", 422, text="Give the date the claim was received.")
    summary = str(form.get("summary", "")).strip()
    if not summary:
        return render(request, "message.html", 422, text="Say what the buyer claims.")
    await asyncio.to_thread(
        claims(_services(request)).open, summary=summary, received_on=received,
        operator=_operator(request), thread_id=str(form.get("thread_id", "")) or None,
        order_id=str(form.get("order_id", "")) or None)
    return RedirectResponse("/console/claims", 303, headers=HEADERS)


async def claim_resolve(request: Request) -> Response:
    store = claims(_services(request))
    claim_id = request.path_params["claim_id"]
    resolution = str(_form(request).get("resolution", "")).strip()
    if store.get(claim_id) is None or not resolution:
        return render(request, "message.html", 422, text="Say how the claim was resolved.")
    await asyncio.to_thread(store.resolve, claim_id, resolution, _operator(request))
    return RedirectResponse("/console/claims", 303, headers=HEADERS)


async def stylesheet(request: Request) -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


def routes() -> list[Route]:
    guarded: list[tuple[str, Endpoint, list[str]]] = [
        ("/console/", inbox, ["GET"]),
        ("/console/threads/{thread_id}", thread_page, ["GET"]),
        ("/console/threads/{thread_id}/screenshots/{name}", screenshot, ["GET"]),
        ("/console/threads/{thread_id}/reply", thread_reply, ["POST"]),
        ("/console/threads/{thread_id}/close", thread_close, ["POST"]),
        ("/console/orders", orders, ["GET"]),
        ("/console/orders/{order_id}", order_page, ["GET"]),
        ("/console/orders/{order_id}/resend", order_resend, ["POST"]),
        ("/console/orders/{order_id}/usage", order_usage, ["POST"]),
        ("/console/export/{what}.csv", operator_api.export_csv, ["GET"]),
        ("/console/orders/{order_id}/refund", refund_page, ["GET"]),
        ("/console/orders/{order_id}/refund", refund, ["POST"]),
        ("/console/queues", queues, ["GET"]),
        ("/console/dashboard", dashboard_page, ["GET"]),
        ("/console/claims", claims_page, ["GET"]),
        ("/console/claims", claim_open, ["POST"]),
        ("/console/claims/{claim_id}/resolve", claim_resolve, ["POST"]),
        ("/console/sign-out", sign_out, ["POST"]),
    ]
    return [
        Route("/console/sign-in", sign_in_page, methods=["GET"]),
        Route("/console/sign-in", sign_in, methods=["POST"]),
        Route("/console/set-password/{token}", set_password, methods=["GET", "POST"]),
        Route("/console/console.css", stylesheet, methods=["GET"]),
        *[Route(path, signed_in(endpoint), methods=methods) for path, endpoint, methods in guarded],
    ]
