"""Compose every e-mail: the buyer's delivery and failure notices, the sign-in link, the refund
notice and the fiscal receipt link, and the support alert.

The buyer's texts come from the `worker` gettext catalogues (worker/locales.py): the templates in
templates/ call `_()`, this module `gettext()`. Message-IDs are deterministic (order id, kind,
sequence), so a message sent again after a crash carries the same Message-ID and mail providers
show it once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822
from email.utils import formataddr, parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from worker import qr
from worker.config import Settings
from worker.locales import N_, gettext, translations
from worker.orders.model import Lang, Order
from worker.provisioning.lpa import ios_install_url

SHOP_TIME_ZONE = ZoneInfo("Asia/Almaty")
QR_CID = "qr"  # the inline image's Content-ID, referenced as cid:... in the HTML


@cache
def _templates(lang: str) -> Environment:
    """The mail templates with `_()` bound to ``lang``'s catalogue. Old-style gettext: a
    translation is text like any other, escaped in the HTML part."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    return env


def mail_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "qazaq-esim.com"


def message_id(order: Order, kind: str, sequence: int, settings: Settings) -> str:
    """`<ORDER.KIND.N@domain>`: the same for every attempt to send this one message."""
    return f"<{order.id}.{kind}.{sequence}@{mail_domain(settings)}>"


def delivery_message_id(order: Order, settings: Settings) -> str:
    """The Message-ID of this order's next delivery e-mail (a resend is a new message)."""
    sequence = 1 + sum(1 for entry in order.timeline if entry["event"] == "email_sent")
    return message_id(order, "delivery", sequence, settings)


def order_page_url(order: Order, settings: Settings) -> str:
    return f"{settings.site_url}/{order.lang}/order/#{order.token}"


def _money(amount: int, lang: str) -> str:
    return f"{format_decimal(amount, locale=lang)}\u00a0₸"


def _when(iso: str, lang: str) -> str:
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=SHOP_TIME_ZONE, locale=lang)


def _context(order: Order, settings: Settings, subject: str) -> dict[str, Any]:
    paid_at = order.payment.paid_at if order.payment else order.created_at
    profile = order.profile
    seller = settings.seller
    support = gettext("Questions? Write to us on WhatsApp %(whatsapp)s or to %(email)s.", order.lang)
    return {
        "subject": subject,
        "order": order,
        "profile": profile,
        "amount": _money(order.amount, order.lang),
        "expires": _when(profile.expires_at, order.lang) if profile and profile.expires_at else "",
        "paid_at": _when(paid_at, order.lang),
        "payment": order.payment,
        "order_page_url": order_page_url(order, settings),
        "ios_install_url": ios_install_url(profile.lpa) if profile else "",
        "qr_cid": QR_CID,
        "seller": seller,
        "support": support % {"whatsapp": seller.support_phone, "email": settings.support_email},
        "support_html": escape(support) % {
            "whatsapp": Markup('<a href="{}">{}</a>').format(
                seller.support_whatsapp_url, seller.support_phone
            ),
            "email": Markup('<a href="mailto:{}">{}</a>').format(
                settings.support_email, settings.support_email
            ),
        },
    }


def _render(name: str, context: dict[str, Any]) -> str:
    return _templates(context["order"].lang).get_template(name).render(context)


def _message(settings: Settings, to: str, subject: str, msgid: str, lang: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = msgid
    message["Date"] = rfc2822(datetime.now(UTC))
    message["Content-Language"] = lang
    message["Reply-To"] = formataddr(("Qazaq eSIM", settings.support_email))
    return message


def delivery(order: Order, settings: Settings, msgid: str) -> EmailMessage:
    """The eSIM: QR inline, manual codes, install steps, the 5.3 warning and the receipt."""
    if order.profile is None or order.email is None:
        raise ValueError(f"order {order.id} has no profile or no e-mail address to deliver to")
    subject = gettext("Your eSIM is ready: %(package)s (order %(order_id)s)", order.lang) % {
        "package": order.package_title, "order_id": order.id
    }
    context = _context(order, settings, subject)
    message = _message(settings, order.email, subject, msgid, order.lang)
    message.set_content(_render("delivery.txt", context))
    message.add_alternative(_render("delivery.html", context), subtype="html")
    html_part = message.get_body(("html",))
    assert html_part is not None  # added just above
    html_part.add_related(
        qr.png(order.profile.lpa),
        maintype="image",
        subtype="png",
        cid=f"<{QR_CID}>",
        filename="esim-qr.png",
        disposition="inline",
    )
    return message


def failure_notice(order: Order, settings: Settings, msgid: str) -> EmailMessage:
    """Tell the buyer the eSIM could not be issued and that a refund or a new eSIM follows."""
    if order.email is None:
        raise ValueError(f"order {order.id} has no e-mail address")
    subject = gettext(
        "Order %(order_id)s: we could not issue your eSIM, your money will be refunded", order.lang
    ) % {"order_id": order.id}
    context = _context(order, settings, subject)
    message = _message(settings, order.email, subject, msgid, order.lang)
    message.set_content(_render("failed.txt", context))
    message.add_alternative(_render("failed.html", context), subtype="html")
    return message


def support_alert(order: Order, settings: Settings, msgid: str) -> EmailMessage:
    """Alert support that an order needs a person, with its timeline (no personal data)."""
    message = _message(
        settings,
        settings.support_email,
        f"[{order.status}] order {order.id}: {order.failure_reason or 'needs attention'}",
        msgid,
        "en",
    )
    message.set_content(_templates("en").get_template("support_alert.txt").render(order=order))
    return message


# The after-sale e-mails (issue 6): plain text in the buyer's language.

RECEIPT_SUBJECTS = {
    "sale": N_("Order %(order_id)s: your fiscal receipt"),
    "return": N_("Order %(order_id)s: your refund receipt"),
}


def _footer(settings: Settings, lang: Lang) -> str:
    support = gettext("Questions? WhatsApp %(whatsapp)s or %(email)s.", lang)
    whatsapp = settings.seller.support_phone
    return f"\n\n{support % {'whatsapp': whatsapp, 'email': settings.support_email}}\nQazaq eSIM\n"


def sign_in_link(settings: Settings, to: str, lang: Lang, link: str, msgid: str) -> EmailMessage:
    """The single-use link to "My eSIMs"."""
    message = _message(settings, to, gettext("Your sign-in link to My eSIMs", lang), msgid, lang)
    body = gettext(
        "Open this link to see your eSIMs at Qazaq eSIM. It works once, for 15 minutes:"
        "\n\n%(link)s\n\nIf you did not ask for it, ignore this e-mail.",
        lang,
    )
    message.set_content(body % {"link": link} + _footer(settings, lang))
    return message


def refunded(order: Order, settings: Settings) -> EmailMessage:
    """Tell the buyer the money is on its way back."""
    if order.email is None or order.refund is None:
        raise ValueError(f"order {order.id} has no e-mail address or no refund")
    values = {
        "order_id": order.id,
        "amount": _money(order.refund.amount, order.lang),
        "package": order.package_title,
        "order_page": order_page_url(order, settings),
    }
    message = _message(
        settings,
        order.email,
        gettext("Order %(order_id)s: your refund of %(amount)s", order.lang) % values,
        message_id(order, "refund", 1, settings),
        order.lang,
    )
    body = gettext(
        "We have refunded %(amount)s for “%(package)s” (order %(order_id)s) to the card you paid "
        "with. Banks usually return the money within 3–10 business days.\n\n"
        "Your order page: %(order_page)s",
        order.lang,
    )
    message.set_content(body % values + _footer(settings, order.lang))
    return message


def fiscal_receipt(order: Order, settings: Settings, operation: str) -> EmailMessage:
    """The link to the sale's (operation "sale") or the return's fiscal receipt."""
    receipt = order.fiscal.get(operation)
    if order.email is None or not receipt:
        raise ValueError(f"order {order.id} has no e-mail address or no {operation} receipt")
    values = {
        "order_id": order.id,
        "package": order.package_title,
        "amount": _money(receipt["total_tiyn"] // 100, order.lang),
        "ticket_url": receipt.get("ticket_url") or receipt.get("print_url") or "",
        "fiscal_number": receipt["fiscal_number"],
    }
    message = _message(
        settings,
        order.email,
        gettext(RECEIPT_SUBJECTS[operation], order.lang) % values,
        message_id(order, f"fiscal-{operation}", 1, settings),
        order.lang,
    )
    body = gettext(
        "The fiscal receipt for “%(package)s” (order %(order_id)s, %(amount)s):\n\n"
        "%(ticket_url)s\n\nFiscal number: %(fiscal_number)s",
        order.lang,
    )
    message.set_content(body % values + _footer(settings, order.lang))
    return message


def chat_reply(settings: Settings, to: str, lang: Lang, link: str, text: str) -> EmailMessage:
    """Support answered in the chat while the buyer's panel was closed (plain text: the reply is
    quoted as text, so nothing in it can run or render as markup)."""
    msgid = f"<chat-{secrets.token_hex(8)}@{mail_domain(settings)}>"
    message = _message(settings, to, gettext("Support answered your question", lang), msgid, lang)
    body = gettext("Support answered in the chat:\n\n%(reply)s\n\nContinue the conversation: "
                   "%(link)s", lang)
    message.set_content(body % {"reply": text, "link": link} + _footer(settings, lang))
    return message


def chat_digest(settings: Settings,
                items: Sequence[tuple[str, str, str | None, list[str]]]) -> EmailMessage:
    """To support: the buyers' new chat messages, ``(console link, language, order, texts)`` each."""
    count = sum(len(texts) for *_, texts in items)
    msgid = f"<chat-digest-{secrets.token_hex(8)}@{mail_domain(settings)}>"
    message = _message(settings, settings.support_email,
                       f"Chat: {count} new message(s) in {len(items)} conversation(s)", msgid, "en")
    parts = []
    for link, lang, order_id, texts in items:
        about = f", order {order_id}" if order_id else ""
        quoted = "\n".join("> " + line for text in texts for line in text.splitlines())
        parts.append(f"{link} ({lang}{about})\n{quoted}")
    message.set_content("\n\n".join(parts) + "\n\nAnswer in the console.\n")
    return message
