"""What the API tells a buyer: message key → English text, translated from the `worker` catalogues.

To add a message: add a key here with its English text in `N_(…)`, run `invoke i18n-update`
and translate the new entry in worker/translations/{kk,ru,en}/LC_MESSAGES/worker.po (a test
fails while any is untranslated).
"""

from __future__ import annotations

from typing import Any

from worker.locales import N_, gettext

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
    # The support chat (issue 11).
    "chat_text_required": N_("Write your question."),
    "chat_text_too_long": N_("A message can have at most 2,000 characters. Split it in two."),
    "chat_email_invalid": N_(
        "Enter a valid e-mail address, like name@example.com, or leave it empty."
    ),
    "chat_order_unknown": N_("This order was not found. Open the chat from your order page again."),
    "chat_screenshot_invalid": N_("Attach a screenshot as a PNG or JPEG image of at most 5 MB."),
    "chat_too_many": N_("You are writing too fast. Wait a minute, then send your message again."),
}


def message(key: str, lang: str) -> str:
    """The message ``key`` in ``lang`` (English when the language is not one of ours)."""
    return gettext(MESSAGES[key], lang)


def errors(fields: dict[str, str], lang: str) -> dict[str, Any]:
    """The 422 body: ``{"errors": {field: message}}`` from ``{field: message key}``."""
    return {"errors": {field: message(key, lang) for field, key in fields.items()}}
