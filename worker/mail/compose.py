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

from plugins.catalogue.localize import volume
from worker import qr
from worker.config import Settings
from worker.locales import N_, gettext, ngettext, translations
from worker.orders.model import Lang, Order, Profile
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


# The Android steps, one list item each (the e-mail numbers them).
ANDROID_STEPS = (
    N_("Open Settings → Network & internet → SIMs (Samsung: Settings → Connections → SIM manager)."),
    N_("Tap “Add SIM” or “Download a SIM instead” (Samsung: “Add eSIM”)."),
    N_("Scan the QR code, or choose “Need help?” → “Enter it manually” and type the activation code."),
    N_("On arrival, choose this eSIM for mobile data and turn on data roaming for it."),
)


def _validity(profile: Profile | None, lang: str) -> str:
    """"The plan runs 7 days from its first connection", by the aggregator's activation rule."""
    if profile is None or not profile.plan_days:
        return ""
    days = profile.plan_days
    if profile.validity_starts == "install":
        text = ngettext("The plan runs %(num)d day from the moment you install the eSIM.",
                        "The plan runs %(num)d days from the moment you install the eSIM.", days, lang)
    elif profile.validity_starts == "first_use":
        text = ngettext("The plan runs %(num)d day from its first connection at your destination.",
                        "The plan runs %(num)d days from its first connection at your destination.",
                        days, lang)
    else:
        text = ngettext(
            "The plan runs %(num)d day from installation or from its first connection, "
            "depending on the package.",
            "The plan runs %(num)d days from installation or from its first connection, "
            "depending on the package.", days, lang)
    return text % {"num": days}


def _base(settings: Settings, subject: str, lang: str) -> dict[str, Any]:
    """What every buyer e-mail's layout needs: the language, the seller, support's contacts."""
    seller = settings.seller
    support = gettext("Questions? Write to us on WhatsApp %(whatsapp)s or to %(email)s.", lang)
    return {
        "subject": subject,
        "lang": lang,
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


def _context(order: Order, settings: Settings, subject: str) -> dict[str, Any]:
    paid_at = order.payment.paid_at if order.payment else order.created_at
    profile = order.profile
    return {
        **_base(settings, subject, order.lang),
        "order": order,
        "profile": profile,
        "amount": _money(order.amount, order.lang),
        "expires": _when(profile.expires_at, order.lang) if profile and profile.expires_at else "",
        "validity": _validity(profile, order.lang),
        "android_steps": [gettext(step, order.lang) for step in ANDROID_STEPS],
        "paid_at": _when(paid_at, order.lang),
        "payment": order.payment,
        "order_page_url": order_page_url(order, settings),
        "ios_install_url": ios_install_url(profile.lpa) if profile else "",
        "qr_cid": QR_CID,
    }


def _render(name: str, context: dict[str, Any]) -> str:
    return _templates(context["lang"]).get_template(name).render(context)


def _both(message: EmailMessage, name: str, context: dict[str, Any]) -> EmailMessage:
    """The text part, then the HTML part (what mail apps show) of template ``name``."""
    message.set_content(_render(f"{name}.txt", context))
    message.add_alternative(_render(f"{name}.html", context), subtype="html")
    return message


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


def _notice(message: EmailMessage, settings: Settings, lang: str, paragraphs: list[str],
            button: tuple[str, str] | None = None, footnote: str = "") -> EmailMessage:
    """A short e-mail in the common layout: paragraphs, an optional button, a footnote."""
    button_url, button_label = button or ("", "")
    context = {**_base(settings, str(message["Subject"]), lang), "paragraphs": paragraphs,
               "button_url": button_url, "button_label": button_label, "footnote": footnote}
    return _both(message, "notice", context)


def delivery(order: Order, settings: Settings, msgid: str) -> EmailMessage:
    """The eSIM: QR inline, manual codes, install steps, the 5.3 warning and the receipt."""
    if order.profile is None or order.email is None:
        raise ValueError(f"order {order.id} has no profile or no e-mail address to deliver to")
    subject = gettext("Your eSIM is ready: %(package)s (order %(order_id)s)", order.lang) % {
        "package": order.package_title, "order_id": order.id
    }
    context = _context(order, settings, subject)
    message = _both(_message(settings, order.email, subject, msgid, order.lang), "delivery", context)
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
    return _both(_message(settings, order.email, subject, msgid, order.lang), "failed", context)


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


# The after-sale e-mails (issue 6), in the same layout as the delivery e-mail.

RECEIPT_SUBJECTS = {
    "sale": N_("Order %(order_id)s: your fiscal receipt"),
    "return": N_("Order %(order_id)s: your refund receipt"),
}
RECEIPT_SENTENCES = {
    "sale": N_("The fiscal receipt for “%(package)s” (order %(order_id)s, %(amount)s):"),
    "return": N_("The refund receipt for “%(package)s” (order %(order_id)s, %(amount)s):"),
}


def sign_in_link(settings: Settings, to: str, lang: Lang, link: str, msgid: str) -> EmailMessage:
    """The single-use link to "My eSIMs": a button in the HTML part, the bare link in the text."""
    subject = gettext("Your sign-in link to My eSIMs", lang)
    context = {**_base(settings, subject, lang), "link": link}
    return _both(_message(settings, to, subject, msgid, lang), "sign_in", context)


def refunded(order: Order, settings: Settings) -> EmailMessage:
    """Tell the buyer the money is on its way back."""
    if order.email is None or order.refund is None:
        raise ValueError(f"order {order.id} has no e-mail address or no refund")
    refund_amount = _money(order.refund.amount, order.lang)
    subject = gettext("Order %(order_id)s: your refund of %(amount)s", order.lang) % {
        "order_id": order.id, "amount": refund_amount
    }
    context = {**_context(order, settings, subject), "refund_amount": refund_amount}
    message = _message(settings, order.email, subject, message_id(order, "refund", 1, settings), order.lang)
    return _both(message, "refunded", context)


def topup_applied(topup: Order, esim: Order, settings: Settings) -> EmailMessage:
    """What the top-up added and what the eSIM has now (issue 12)."""
    if topup.email is None or esim.profile is None:
        raise ValueError(f"top-up {topup.id} has no e-mail address or no eSIM")
    lang = topup.lang
    total = esim.profile.total_bytes
    values = {
        "order_id": esim.id,
        "package": topup.package_title,
        "amount": _money(topup.amount, lang),
        "iccid": esim.profile.iccid,
        "total": volume(total // 1024**2, lang) if total is not None else "—",
        "expires": _when(esim.profile.expires_at, lang) if esim.profile.expires_at else "—",
        "order_page": order_page_url(esim, settings),
    }
    message = _message(
        settings,
        topup.email,
        gettext("Order %(order_id)s: data added to your eSIM", lang) % values,
        message_id(topup, "topup", 1, settings),
        lang,
    )
    body = gettext(
        "We have added “%(package)s” to your eSIM (ICCID %(iccid)s) for %(amount)s; nothing "
        "to install, it works on the eSIM you have.\n\nYour eSIM now has %(total)s in total, "
        "valid until %(expires)s.\n\nYour order page: %(order_page)s",
        lang,
    )
    return _notice(message, settings, lang, (body % values).split("\n\n"))


def alerts_off_url(order: Order, settings: Settings) -> str:
    """One click turns the usage alerts of this order off (also RFC 8058's POST)."""
    return f"{settings.worker_url}/api/orders/{order.token}/alerts/off"


ALERT_SUBJECTS = {
    "data_80": N_("Order %(order_id)s: 80 percent of your eSIM's data is used"),
    "data_100": N_("Order %(order_id)s: your eSIM's data is used up"),
    "last_day": N_("Order %(order_id)s: your eSIM ends within a day"),
}


def usage_alert(order: Order, kind: str, settings: Settings, msgid: str) -> EmailMessage:
    """80 % or all of the data used, or the last day (issue 12), with a way out."""
    profile = order.profile
    if order.email is None or profile is None:
        raise ValueError(f"order {order.id} has no e-mail address or no eSIM")
    lang = order.lang
    values = {
        "order_id": order.id,
        "package": order.package_title,
        "used": volume((profile.used_bytes or 0) // 1024**2, lang),
        "total": volume(profile.total_bytes // 1024**2, lang) if profile.total_bytes else "—",
        "expires": _when(profile.expires_at, lang) if profile.expires_at else "—",
        "add_data": order_page_url(order, settings),
        "off": alerts_off_url(order, settings),
    }
    message = _message(settings, order.email, gettext(ALERT_SUBJECTS[kind], lang) % values,
                       msgid, lang)
    message["List-Unsubscribe"] = f"<{values['off']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = gettext(
        "“%(package)s” (order %(order_id)s): %(used)s of %(total)s used, valid until "
        "%(expires)s.\n\nAdd data to the eSIM you already have, nothing to install again:\n"
        "%(add_data)s\n\nNo more of these alerts for this eSIM, in one click:\n%(off)s",
        lang,
    )
    return _notice(message, settings, lang, (body % values).split("\n\n"))


def topup_failed(topup: Order, settings: Settings, msgid: str) -> EmailMessage:
    """The top-up could not be added: the money comes back (offer 5.4)."""
    if topup.email is None:
        raise ValueError(f"top-up {topup.id} has no e-mail address")
    values = {"order_id": topup.id, "package": topup.package_title,
              "amount": _money(topup.amount, topup.lang)}
    message = _message(
        settings,
        topup.email,
        gettext("Top-up %(order_id)s: we could not add it, your money will be refunded",
                topup.lang) % values,
        msgid,
        topup.lang,
    )
    body = gettext(
        "We could not add “%(package)s” to your eSIM. Your eSIM keeps working as before, and "
        "we will refund %(amount)s to the card you paid with.",
        topup.lang,
    )
    return _notice(message, settings, topup.lang, (body % values).split("\n\n"))


def fiscal_receipt(order: Order, settings: Settings, operation: str) -> EmailMessage:
    """The link to the sale's (operation "sale") or the return's fiscal receipt."""
    receipt = order.fiscal.get(operation)
    if order.email is None or not receipt:
        raise ValueError(f"order {order.id} has no e-mail address or no {operation} receipt")
    subject = gettext(RECEIPT_SUBJECTS[operation], order.lang) % {"order_id": order.id}
    values = {"package": order.package_title, "order_id": order.id,
              "amount": _money(receipt["total_tiyn"] // 100, order.lang)}
    context = {
        **_context(order, settings, subject),
        "receipt_text": gettext(RECEIPT_SENTENCES[operation], order.lang) % values,
        "ticket_url": receipt.get("ticket_url") or receipt.get("print_url") or "",
        "fiscal_number": receipt["fiscal_number"],
    }
    message = _message(settings, order.email, subject,
                       message_id(order, f"fiscal-{operation}", 1, settings), order.lang)
    return _both(message, "fiscal_receipt", context)


def chat_reply(settings: Settings, to: str, lang: Lang, link: str, text: str) -> EmailMessage:
    """Support answered in the chat while the buyer's panel was closed. The reply is a paragraph
    of the common layout: escaped in the HTML part, so nothing in it can run or render."""
    msgid = f"<chat-{secrets.token_hex(8)}@{mail_domain(settings)}>"
    subject = gettext("Support answered your question", lang)
    message = _message(settings, to, subject, msgid, lang)
    return _notice(message, settings, lang,
                   [gettext("Support answered in the chat:", lang), text],
                   (link, gettext("Continue the conversation", lang)))


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
