"""What the API tells a buyer: message key → English text, translated from the `worker` catalogues.

To add a message: add a key here with its English text in `N_(…)`, run `invoke i18n-update`
and translate the new entry in worker/translations/{kk,ru,en}/LC_MESSAGES/worker.po (a test
fails while any is untranslated).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.types import Scope

from worker.locales import N_, gettext
from worker.orders.model import LANGS, Lang

MESSAGES: dict[str, str] = {
    "body": N_("The request could not be read. Reload the page and try again."),
    "package_unknown": N_(
        "This package is no longer sold. Choose another one on the destination page."
    ),
    "price_changed": N_(
        "The price of this package has changed. Check the new price and confirm again."
    ),
    "email_invalid": N_(
        "Enter a valid e-mail address, like name@example.com. The eSIM is sent there."
    ),
    "email_not_ascii": N_(
        "Enter the part of the e-mail address before @ in Latin letters and digits only: "
        "mail servers cannot deliver the eSIM to other characters there."
    ),
    "email_undeliverable": N_(
        "This address cannot receive mail: its domain does not exist or takes no e-mail. "
        "Check it for a typo."
    ),
    "phone_invalid": N_(
        "Enter a valid phone number with the country code, like +7 701 234 5678."
    ),
    "lang_invalid": N_("Choose a language: kk, ru or en."),
    "device_ok_required": N_("Confirm that your phone supports eSIM and is not carrier-locked."),
    "offer_required": N_("Accept the public offer to continue."),
    "payment_unavailable": N_(
        "The payment service is not answering. Nothing was charged; try again in a minute."
    ),
    # Abuse limits (issue 14): Retry-After says when to try again.
    "too_many_checkouts": N_(
        "Too many orders in a short time. Nothing was charged; wait a few minutes and try again."
    ),
    "unpaid_orders": N_(
        "This e-mail address already has several unpaid orders. Pay one of them or try again "
        "in a few hours."
    ),
    # Top-ups (issue 12): why an eSIM cannot take one.
    "topup_not_esim": N_("This is a top-up, not an eSIM. Add data from the eSIM's order page."),
    "topup_refunded": N_("This order was refunded, so its eSIM can no longer be topped up."),
    "topup_not_delivered": N_(
        "The eSIM of this order has not been issued yet. Add data once it is on your phone."
    ),
    "topup_expired": N_("This eSIM has expired and cannot be topped up. Buy a new eSIM instead."),
    "topup_not_supported": N_(
        "The plan of this eSIM cannot be topped up. Buy a new eSIM for more data."
    ),
    # "My eSIMs": the sign-in form asks for the address of past orders.
    "account_email_invalid": N_(
        "Enter the e-mail address you ordered with, like name@example.com."
    ),
    "too_many_sign_in_links": N_(
        "Too many sign-in requests from your network. Wait a few minutes and try again."
    ),
    # The support chat (issue 11).
    "chat_text_required": N_("Write your question."),
    "chat_text_too_long": N_("A message can have at most 2,000 characters. Split it in two."),
    "chat_email_invalid": N_(
        "Enter a valid e-mail address, like name@example.com, or leave it empty."
    ),
    "chat_order_unknown": N_("This order was not found. Open the chat from your order page again."),
    "chat_screenshot_invalid": N_("Attach a screenshot as a PNG or JPEG image of at most 5 MB."),
    "chat_too_many": N_("You are writing too fast. Wait a minute, then send your message again."),
    # Errors no route handled (worker/middleware.py, issue 14).
    "store_unwritable": N_(
        "The shop cannot save data right now. Nothing was stored or charged; try again in a "
        "minute."
    ),
    "internal_error": N_("Something went wrong on our side. Try again in a minute."),
    "body_too_large": N_(
        "The request is too large. Shorten the text or attach a smaller image."
    ),
}


def message(key: str, lang: str) -> str:
    """The message ``key`` in ``lang`` (English when the language is not one of ours)."""
    return gettext(MESSAGES[key], lang)


def errors(fields: dict[str, str], lang: str) -> dict[str, Any]:
    """The 422 body: ``{"errors": {field: message}}`` from ``{field: message key}``."""
    return {"errors": {field: message(key, lang) for field, key in fields.items()}}


def _ours(value: object) -> Lang | None:
    return next((code for code in LANGS if code == value), None)


def note_lang(request: Request, lang: Lang) -> None:
    """Remember the buyer's language, so an error no route handles answers in it too."""
    request.state.lang = lang


def request_lang(scope: Scope) -> Lang:
    """The buyer's language for an answer no route wrote: the one a route noted (`note_lang`),
    else the ``lang`` query parameter, else the first of ours in Accept-Language, else English
    (as for a form without a valid ``lang``)."""
    noted = _ours(scope.get("state", {}).get("lang")) or _ours(
        QueryParams(scope.get("query_string", b"")).get("lang"))
    if noted is not None:
        return noted
    accepted = Headers(scope=scope).get("accept-language", "")
    ranked: list[tuple[float, str]] = []
    for entry in accepted.split(","):
        tag, _, params = entry.partition(";")
        try:
            weight = float(params.strip().removeprefix("q=") or 1)
        except ValueError:
            continue  # a malformed entry counts as absent
        ranked.append((-weight, tag.strip().split("-")[0].lower()))
    return next((lang for _, tag in sorted(ranked, key=lambda r: r[0]) if (lang := _ours(tag))), "en")
