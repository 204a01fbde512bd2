"""The account API of "My eSIMs" (docs/architecture.md, "Buyer account"): sign-in link, session,
the buyer's orders, sign-out. A session sees the orders of its own address and nothing else."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from worker.api_errors import errors, message, note_lang
from worker.json_body import read_object
from worker.mail import compose, smtp
from worker.order_page.public_view import mask_email, public_view
from worker.orders.model import LANGS, Lang, Order
from worker.orders.store import email_key
from worker.rate_limits import client_address
from worker.services import Services
from worker.topups.offers import refusal

from .keys import BadKey, Keys
from .usage import ask_for_fresh_usage

log = logging.getLogger("worker.account")

LINK_INTERVAL_S = 60.0  # PostgreSQL: at most one sign-in e-mail per mailbox a minute, shared
NO_STORE = {"Cache-Control": "no-store"}


def keys(services: Services) -> Keys:
    return Keys(str(services.settings.session_secret),
                services.settings.orders_db.with_name("accounts.json"), services.store.marks)


def normalise(email: str) -> str:
    return email.strip().lower()


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: ``victim+1@`` and ``Victim+2@`` are one mailbox."""
    local, _, domain = email.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def orders_of(services: Services, email: str) -> list[Order]:
    """Every order placed with this address (any case), newest first; none once purged."""
    wanted = normalise(email)
    return [o for o in services.store.by_email(wanted) if o.email and normalise(o.email) == wanted]



async def sign_in_link(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await read_object(request)
    lang: Lang = next((code for code in LANGS if code == body.get("lang")), "en")
    note_lang(request, lang)
    try:
        email = normalise(validate_email(str(body.get("email", "")), check_deliverability=False).normalized)
    except EmailNotValidError:
        return JSONResponse(errors({"email": "account_email_invalid"}, lang), 422)
    over = services.limits.hit(("sign_in_address", client_address(request)))
    if over is not None:
        return JSONResponse({"error": message("too_many_sign_in_links", lang)}, 429,
                            headers={"Retry-After": str(over)})
    services.limits.storage.flush_soon()
    # The same answer, as fast, whether or not the address has orders: the mail goes after it.
    return JSONResponse({"ok": True}, 202, background=BackgroundTask(_send_link, services, email, lang))


async def _send_link(services: Services, email: str, lang: Lang) -> None:
    # Only a buyer who paid has something to see: an unpaid checkout must not turn the form
    # into a way to mail anyone (issue 14). And each mailbox gets few links, whatever its
    # plus-address or the client that asks.
    if not any(o.payment is not None for o in orders_of(services, email)):
        return
    marks = services.store.marks
    if marks is not None and not marks.mark("sign_in_link", mailbox(email), LINK_INTERVAL_S):
        return  # PostgreSQL: one link a minute across every worker process and host
    if services.limits.hit(("sign_in_mailbox", mailbox(email))) is not None:
        log.info("account: sign-in link not sent: the mailbox's limit is reached")
        return
    services.limits.storage.flush_soon()
    key = email_key(email)
    token = keys(services).link_token(email)
    link = f"{services.settings.site_url}/{lang}/account/#login={token}"
    msgid = f"<signin.{key[:12]}.{int(time.time())}@{compose.mail_domain(services.settings)}>"
    try:
        await smtp.send(services.settings, compose.sign_in_link(services.settings, email, lang, link, msgid))
    except smtp.MailError as error:
        log.warning("account: sign-in link not sent: %s", error)


async def session(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await read_object(request)
    try:
        email = keys(services).redeem_link(str(body.get("login", "")))
    except BadKey as error:
        return JSONResponse({"error": str(error)}, 401, headers=NO_STORE)
    token, expires = keys(services).open_session(email)
    return JSONResponse(
        {"session": token, "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")},
        headers=NO_STORE,
    )


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def orders(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        email = keys(services).session_email(_bearer(request))
    except BadKey as error:
        return JSONResponse({"error": str(error)}, 401, headers=NO_STORE)
    # The eSIMs first: an order that was never paid is history, listed after them (newest first).
    found = sorted(orders_of(services, email), key=never_paid)
    await ask_for_fresh_usage(services.store, found)  # shown on the next visit
    return JSONResponse(
        {"email_masked": mask_email(email), "orders": [account_view(o, services) for o in found]},
        headers=NO_STORE,
    )


def never_paid(order: Order) -> bool:
    """Declined, or given up waiting for (abandoned)."""
    return order.status == "payment_failed" or (
        order.status == "awaiting_payment" and order.abandoned_at is not None
    )


def account_view(order: Order, services: Services) -> dict[str, Any]:
    """The order page's view, plus its token (to open the order page) and its fiscal receipts;
    the QR and codes only while the eSIM is the buyer's (delivered, not refunded)."""
    view = public_view(order, services.settings, services.catalogue)
    view["token"] = order.token
    view["receipts"] = [
        {"operation": operation, "fiscal_number": r["fiscal_number"],
         "registered_at": r["registered_at"], "url": r.get("ticket_url") or r.get("print_url")}
        for operation in ("sale", "return")
        if (r := order.fiscal.get(operation))
    ]
    # "Add data" beside the eSIM (issue 12), leading to its order page's top-ups; and when its
    # usage was last asked for ("updated 2 h ago": the aggregator's figures lag hours).
    view["can_top_up"] = refusal(order) is None and bool(
        services.topup_offers.for_package(order.package_code))
    shown = order.profile if view["esim"] else None
    view["usage_updated_at"] = shown.usage_checked_at if shown else None
    return view


async def sign_out(request: Request) -> Response:
    services: Services = request.app.state.services
    keys(services).close_session(_bearer(request))
    return Response(status_code=204)
