"""POST /api/checkout: check the buyer's form, create the order, hand back the Epay paymentObject.

The price comes from the catalogue, never from the request. The Epay payment token is
requested *before* the order is stored: if Epay does not answer, the buyer gets 503 and
nothing is stored, so there is never an order that could be paid but was not handed out.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from dns.exception import DNSException
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from worker.api_errors import errors, message, note_lang
from worker.catalogue import Package
from worker.json_body import read_json
from worker.orders.model import LANGS, Lang, Order
from worker.orders.store import DuplicateOrder, email_key
from worker.payments.epay import EpayError, callback_urls
from worker.payments.status_schedule import PAYMENT_WINDOW_S
from worker.rate_limits import client_address
from worker.services import Services

log = logging.getLogger("worker.payments.checkout")

EPAY_LANGUAGE: dict[Lang, str] = {"kk": "kaz", "ru": "rus", "en": "eng"}
DESCRIPTION_MAX_BYTES = 125
ID_ATTEMPTS = 20
# DNS may not keep the buyer waiting: a lookup that times out lets the address through.
DELIVERABILITY_TIMEOUT_S = 2


async def checkout(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        body = await read_json(request)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse(errors({"body": "body"}, "en"), status_code=422)
    raw_lang = body.get("lang")
    lang: Lang = raw_lang if raw_lang in LANGS else "en"
    note_lang(request, lang)

    problems, form = validate(body, services)
    checks_dns = "email" in form and services.settings.email_check_deliverability
    if checks_dns and not await deliverable(form["email"]):
        problems["email"] = "email_undeliverable"
    if problems:
        return JSONResponse(errors(problems, lang), status_code=422)
    refused = await limit(request, services, form["email"], lang)
    if refused is not None:
        return refused
    package: Package = form["package"]
    expected = body.get("expected_price")
    if expected is not None and expected != package.price_kzt:
        return JSONResponse(
            {"errors": {"package": message("price_changed", lang)}, "price_kzt": package.price_kzt},
            status_code=409,
        )

    def make() -> Order:
        return new_order(
            services,
            code=package.code,
            destination=package.destination,
            title=package.title(lang),
            amount=package.price_kzt,
            lang=lang,
            email=form["email"],
            phone=form["phone"],
        )

    return await open_invoice(services, make, lang)


async def open_invoice(
    services: Services,
    make: Callable[[], Order],
    lang: Lang,
    after_create: Callable[[Order], Awaitable[None]] | None = None,
) -> JSONResponse:
    """Get an Epay payment token for a fresh order from ``make``, store the order, answer 201
    with the paymentObject (or 503, storing nothing). A purchase and a top-up both pay here."""
    for _ in range(ID_ATTEMPTS):
        order = make()
        try:
            token = await services.epay.payment_token(order.id, order.amount, order.secret_hash)
        except EpayError as exc:
            log.error("checkout: no Epay payment token, nothing stored: %s", exc)
            return JSONResponse(
                {"error": message("payment_unavailable", lang)},
                status_code=503,
                headers={"Retry-After": "60"},
            )
        order.log("created", f"{order.package_code} {order.amount} KZT")
        try:
            await services.store.create(order)
        except DuplicateOrder:
            continue  # another checkout took the id (or its last six digits) just now
        if after_create is not None:
            await after_create(order)
        log.info(
            "checkout: order %s created, %s, %d KZT", order.id, order.package_code, order.amount
        )
        return JSONResponse(
            {
                "token": order.token,
                "order_id": order.id,
                "status": order.status,
                "payment": payment_object(order, token, services),
                "payment_js": services.settings.epay_payment_js_url,
            },
            status_code=201,
        )
    raise RuntimeError(f"checkout: no free order id after {ID_ATTEMPTS} attempts")


async def limit(request: Request, services: Services, email: str, lang: Lang) -> JSONResponse | None:
    """429 with Retry-After when this address, this e-mail or the whole shop has checked out
    too often, or the e-mail has too many unpaid orders; else count the checkout (durably)."""
    now = datetime.now(UTC)
    unpaid = [
        age for o in services.store.by_email(email)
        if o.status == "awaiting_payment" and o.abandoned_at is None
        and (age := (now - datetime.fromisoformat(o.created_at)).total_seconds()) < PAYMENT_WINDOW_S
    ]
    if len(unpaid) >= services.settings.unpaid_orders_per_email:
        wait = int(PAYMENT_WINDOW_S - max(unpaid)) + 1  # when the oldest leaves the window
        return too_many("unpaid_orders", wait, lang)
    over = services.limits.hit(
        ("checkout_address", client_address(request)), ("checkout_email", email_key(email)), ("checkout_total", "all")
    )
    if over is not None:
        log.warning("checkout: refused, rate limit reached (retry in %d s)", over)
        return too_many("too_many_checkouts", over, lang)
    services.limits.storage.flush_soon()
    return None


def too_many(key: str, wait_s: int, lang: Lang) -> JSONResponse:
    return JSONResponse(
        {"error": message(key, lang)}, status_code=429, headers={"Retry-After": str(wait_s)}
    )


def validate(body: dict[str, Any], services: Services) -> tuple[dict[str, str], dict[str, Any]]:
    """Check every field; return ``({field: message key}, normalised values)``."""
    problems: dict[str, str] = {}
    form: dict[str, Any] = {}
    if body.get("lang") not in LANGS:
        problems["lang"] = "lang_invalid"
    code = body.get("package")
    package = services.catalogue.package(code) if isinstance(code, str) else None
    if package is None:
        problems["package"] = "package_unknown"
    form["package"] = package
    email = body.get("email")
    try:
        if not isinstance(email, str) or len(email) > 254:
            raise EmailNotValidError("not a string")
        address = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        problems["email"] = "email_invalid"
    else:
        # Relays without SMTPUTF8 cannot take a non-ASCII local part; an IDN domain is kept
        # as punycode, which every relay takes.
        if address.ascii_email is None:
            problems["email"] = "email_not_ascii"
        else:
            form["email"] = address.ascii_email
    phone = normalise_phone(body.get("phone"))
    if phone is None:
        problems["phone"] = "phone_invalid"
    form["phone"] = phone
    if body.get("device_ok") is not True:
        problems["device_ok"] = "device_ok_required"
    if body.get("offer_accepted") is not True:
        problems["offer_accepted"] = "offer_required"
    expected = body.get("expected_price")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        problems["expected_price"] = "body"
    return problems, form


async def deliverable(email: str) -> bool:
    """False when DNS says the address's domain cannot receive mail (no such domain, no MX,
    a null MX); True when it can, or when DNS does not answer in time. The lookup blocks, so
    it runs in a thread."""
    return await run_in_threadpool(_takes_mail, email)


def _takes_mail(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=True, timeout=DELIVERABILITY_TIMEOUT_S)
    except EmailUndeliverableError:
        return False
    except DNSException as error:  # no resolver configured: we cannot tell, so we do not refuse
        log.warning("checkout: deliverability not checked: %s", error)
    return True


def normalise_phone(value: Any) -> str | None:
    """E.164 (``+77012345678``) or None. Any country; a number without ``+`` is read as Kazakh,
    and when it is not a Kazakh number, as an international one whose ``+`` was left out
    (``447911123456`` is the UK's ``+44 7911 123456``)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 32:
        return None
    text = value.strip()
    readings = [(text, None)] if text.startswith("+") else [(text, "KZ"), ("+" + text, None)]
    for candidate, region in readings:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def new_order(
    services: Services,
    *,
    code: str,
    destination: str,
    title: str,
    amount: int,
    lang: Lang,
    email: str | None,
    phone: str | None,
    topup_of: str | None = None,
) -> Order:
    """A fresh awaiting_payment order with a free invoice id, a token and a secret_hash."""
    return Order(
        id=services.store.new_order_id(),
        token=secrets.token_urlsafe(32),
        status="awaiting_payment",
        lang=lang,
        email=email,
        phone=phone,
        package_code=code,
        destination=destination,
        package_title=title,
        amount=amount,
        secret_hash=secrets.token_urlsafe(24),
        topup_of=topup_of,
    )


def payment_object(order: Order, token: dict[str, Any], services: Services) -> dict[str, Any]:
    """The argument of ``halyk.pay()`` (spec §3.2)."""
    base = services.settings.worker_url
    return {
        "invoiceId": order.id,
        "backLink": f"{base}/epay/back/{order.token}",
        "failureBackLink": f"{base}/epay/failure-back/{order.token}",
        **callback_urls(services.settings),
        "language": EPAY_LANGUAGE[order.lang],
        "description": description(order),
        "terminal": services.settings.epay_terminal_id,
        "amount": order.amount,
        "currency": order.currency,
        "email": order.email,
        "phone": (order.phone or "").lstrip("+"),
        "auth": token,
    }


def description(order: Order) -> str:
    """``Qazaq eSIM <title>`` cut to 125 UTF-8 bytes without splitting a character."""
    text = f"Qazaq eSIM {order.package_title}"
    return text.encode()[:DESCRIPTION_MAX_BYTES].decode(errors="ignore")
