"""The hosted payment page: payment-api.js, the card form at /payform/ and its submission (§3, §10)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote

from lzstring import LZString
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from . import cards
from .ledger import Token, Transaction, new_transaction
from .texts import HTML_LANG, LANGUAGE_ALIASES, LANGUAGES, TEXTS

HERE = Path(__file__).resolve().parent
INVOICE_ID = re.compile(r"\d{6,15}")
EXPIRY = re.compile(r"(0[1-9]|1[0-2])/?(\d{2})")
CVC = re.compile(r"\d{3,4}")
LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .'-]*")
TRANSFER_FLAGS = ("isTransfer", "isAFT", "isOCT")


class PayformError(Exception):
    """The payform cannot take this payment; the message says what is wrong."""


@dataclass
class Checkout:
    """A decoded and validated payform request."""

    params: str
    payment: dict[str, str]
    token: Token
    language: str
    short: bool


def parse_query(text: str) -> dict[str, str]:
    """`key=encodeURIComponent(value)&…`, as payment-api.js writes it (no `+` for spaces)."""
    fields: dict[str, str] = {}
    for part in text.split("&"):
        if part:
            key, _, value = part.partition("=")
            fields[unquote(key)] = unquote(value)
    return fields


def decode_params(params: str) -> dict[str, str]:
    try:
        text = LZString().decompressFromEncodedURIComponent(params) if params else None
    except (KeyError, IndexError, ValueError, TypeError, NameError):  # what it raises on garbage
        text = None
    fields = parse_query(text) if text else {}
    if "auth" not in fields and "invoiceId" not in fields:
        raise PayformError("the params could not be decoded: they must be the paymentObject "
                           "compressed with LZString.compressToEncodedURIComponent")
    return fields


def checkout(request: Request, params: str, short: bool, flags: dict[str, str]) -> Checkout:
    """Decode and validate as §10.3 lists; claim the invoice's last 6 digits."""
    ledger = request.app.state.sandbox.ledger
    if any(flags.get(flag) == "true" for flag in TRANSFER_FLAGS):
        raise PayformError("P2P, AFT and OCT transfers are not simulated by this sandbox")
    payment = decode_params(params)
    language = payment.get("language", "rus").lower() or "rus"
    language = LANGUAGE_ALIASES.get(language, language)
    auth_text = payment.get("auth", "")
    if "=" not in auth_text:
        raise PayformError("the session has expired: `auth` must be the whole token object, "
                           "not just the access_token string")
    auth = parse_query(auth_text)
    token = ledger.tokens.get(auth.get("access_token", ""))
    if token is None:
        raise PayformError("the token in `auth` was never issued by this gateway")
    if not token.alive():
        raise PayformError("the session has expired: the token is past its expires_in; "
                           "get a new token")
    if token.invoice_id is None or token.amount is None:
        raise PayformError("`auth` is a service token: a payment needs a token requested "
                           "with invoiceID, amount, currency and terminal")
    invoice_id = payment.get("invoiceId", "")
    if invoice_id != token.invoice_id:
        raise PayformError(f"invoiceId {invoice_id!r} differs from the token's invoiceID "
                           f"{token.invoice_id!r}")
    try:
        amount = Decimal(payment.get("amount", ""))
    except InvalidOperation:
        raise PayformError(f"amount {payment.get('amount')!r} is not a number") from None
    if amount != token.amount:
        raise PayformError(f"amount {amount} differs from the token's amount {token.amount}")
    if payment.get("terminal", "") != token.terminal:
        raise PayformError(f"terminal {payment.get('terminal')!r} differs from the token's "
                           f"terminal {token.terminal!r}")
    if payment.get("currency", token.currency) != token.currency:
        raise PayformError(f"currency {payment.get('currency')!r} differs from the token's "
                           f"currency {token.currency!r}")
    if not INVOICE_ID.fullmatch(invoice_id):
        raise PayformError(f"invoiceId {invoice_id!r} must be 6 to 15 digits")
    description = payment.get("description", "")
    if len(description.encode()) > 125:
        raise PayformError(f"description is {len(description.encode())} bytes in UTF-8; "
                           "the limit is 125")
    if language not in LANGUAGES:
        raise PayformError(f"language {payment.get('language')!r} must be rus, kaz or eng "
                           "(RU, KZ, EN in any casing are taken too)")
    holder = ledger.claim_suffix(token.terminal, invoice_id)
    if holder:
        raise PayformError(f"invoiceId {invoice_id} ends in the same 6 digits as invoice "
                           f"{holder} on this terminal; the last 6 digits must be unique")
    if ledger.paid(invoice_id):
        raise PayformError(f"invoice {invoice_id} is already paid; a new payment needs a new "
                           "invoiceId and a new token")
    payment["language"] = language
    return Checkout(params, payment, token, language, short)


def money(amount: Decimal) -> str:
    whole = amount == amount.to_integral_value()
    return (f"{amount:,.0f}" if whole else f"{amount:,.2f}").replace(",", "\u00a0")


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    html = request.app.state.sandbox.templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


def form_page(request: Request, co: Checkout, errors: dict[str, str] | None = None,
              values: dict[str, str] | None = None) -> HTMLResponse:
    sandbox = request.app.state.sandbox
    return render(
        request, "payform.html", 400 if errors else 200,
        t=TEXTS[co.language], lang=HTML_LANG[co.language], co=co,
        merchant=sandbox.options.merchant_name, amount=money(co.token.amount or Decimal(0)),
        errors=errors or {}, values=values or {},
        spec_cards=cards.SPEC_CARDS, magic_cards=cards.MAGIC_CARDS, reasons=cards.REASONS,
    )


def error_page(request: Request, error: PayformError, language: str = "rus") -> HTMLResponse:
    language = language if language in LANGUAGES else "rus"
    return render(request, "error.html", 400, t=TEXTS[language], lang=HTML_LANG[language],
                  message=str(error))


async def payment_js(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    script = (HERE / "payment-api.js").read_text().replace("__SANDBOX_BASE__",
                                                           sandbox.base_url(request))
    return Response(sandbox.lz_string() + "\n" + script, media_type="application/javascript")


async def show(request: Request) -> Response:
    query = request.query_params
    try:
        co = checkout(request, query.get("params", ""), query.get("isShortForm") == "true",
                      dict(query))
    except PayformError as error:
        return error_page(request, error)
    return form_page(request, co)


def check_card(form: dict[str, str], t: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not cards.luhn_valid(form["pan"]):
        errors["pan"] = t["bad_pan"]
    if not EXPIRY.fullmatch(form["expiry"]):
        errors["expiry"] = t["bad_expiry"]
    if not CVC.fullmatch(form["cvc"]):
        errors["cvc"] = t["bad_cvc"]
    if not LATIN_NAME.fullmatch(form["name"]):
        errors["name"] = t["bad_name"]
    return errors


def _links(co: Checkout, source: str) -> tuple[str, str]:
    """postLink and failurePostLink; which of token and paymentObject wins is a switch."""
    token, payment = co.token, co.payment
    pairs = [(token.post_link, token.failure_post_link),
             (payment.get("postLink", ""), payment.get("failurePostLink", ""))]
    first, second = pairs if source == "token" else pairs[::-1]
    return first[0] or second[0], first[1] or second[1]


async def submit(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    raw = await request.form()
    form = {k: (v.strip() if isinstance(v, str) else "") for k, v in raw.items()}
    try:
        co = checkout(request, form.get("params", ""), form.get("isShortForm") == "true", {})
    except PayformError as error:
        return error_page(request, error)
    card = {"pan": re.sub(r"[\s-]", "", form.get("pan", "")), "expiry": form.get("expiry", ""),
            "cvc": form.get("cvc", ""), "name": " ".join(form.get("name", "").split()).upper()}
    errors = check_card(card, TEXTS[co.language])
    if errors:
        return form_page(request, co, errors, {k: v for k, v in card.items() if k != "cvc"})

    match = EXPIRY.fullmatch(card["expiry"])
    assert match is not None
    expiry = f"{match.group(1)}/{match.group(2)}"
    outcome = cards.decide(card["pan"], expiry, card["cvc"], dt.date.today(),
                           sandbox.options.unknown_cards == "approve")
    mode = sandbox.options.terminals.get(co.token.terminal, "sms")
    status = ("AUTH" if mode == "dms" else "CHARGE") if outcome.approved else outcome.status
    post_link, failure_post_link = _links(co, sandbox.options.post_link_source)
    tx = new_transaction(co.token, co.payment, status, outcome.reason_code, outcome.reason,
                         post_link, failure_post_link)
    tx.card_mask, tx.card_type, tx.name = (cards.card_mask(card["pan"]),
                                           cards.card_type(card["pan"]), card["name"])
    sandbox.ledger.add(tx)
    early = sandbox.options.callback == "early"
    if early:
        await sandbox.courier.dispatch(tx)
    response = _answer(request, co, tx)
    if not early:
        # Starts once the browser has its answer: the callback follows the redirect.
        response.background = BackgroundTask(sandbox.courier.dispatch, tx)
    return response


def _answer(request: Request, co: Checkout, tx: Transaction) -> Response:
    """Widget: a page that posts {success} to the merchant page; otherwise a 303 back."""
    back = co.payment.get("backLink" if tx.approved else "failureBackLink", "")
    if back and not co.short:
        return RedirectResponse(back, status_code=303)
    t = TEXTS[co.language]
    # A decline without failureBackLink: say so here, with a way back to the shop.
    return render(request, "result.html", t=t, lang=HTML_LANG[co.language], tx=tx,
                  widget=co.short, back="" if co.short else co.payment.get("backLink", ""),
                  title=t["approved" if tx.approved else "declined"])
