"""Compose the e-mails: the buyer's delivery and failure notices, and the support alert.

Message-IDs are deterministic (order id, kind, sequence), so a message sent again after a
crash carries the same Message-ID and mail providers show it once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from worker import qr
from worker.config import Settings
from worker.mail.texts import SELLER_IIN, SUPPORT_WHATSAPP, SUPPORT_WHATSAPP_URL, TEXTS
from worker.orders.model import Order
from worker.provisioning.lpa import ios_install_url

SHOP_TIME_ZONE = ZoneInfo("Asia/Almaty")
QR_CID = "qr"  # the inline image's Content-ID, referenced as cid:... in the HTML

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


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


def _context(order: Order, settings: Settings) -> dict[str, Any]:
    paid_at = order.payment.paid_at if order.payment else order.created_at
    profile = order.profile
    values = {
        "order_id": order.id,
        "package": order.package_title,
        "amount": _money(order.amount, order.lang),
        "expires": _when(profile.expires_at, order.lang) if profile and profile.expires_at else "",
        "whatsapp": SUPPORT_WHATSAPP,
        "email": settings.support_email,
    }
    return {
        "t": {key: text.format(**values) for key, text in TEXTS[order.lang].items()},
        "order": order,
        "profile": profile,
        "amount": values["amount"],
        "paid_at": _when(paid_at, order.lang),
        "payment": order.payment,
        "order_page_url": order_page_url(order, settings),
        "ios_install_url": ios_install_url(profile.lpa) if profile else "",
        "qr_cid": QR_CID,
        "seller_iin": SELLER_IIN,
        "support_html": escape(TEXTS[order.lang]["support"]).format(
            whatsapp=Markup('<a href="{}">{}</a>').format(SUPPORT_WHATSAPP_URL, SUPPORT_WHATSAPP),
            email=Markup('<a href="mailto:{}">{}</a>').format(
                settings.support_email, settings.support_email
            ),
        ),
    }


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
    context = _context(order, settings)
    message = _message(settings, order.email, context["t"]["subject_delivery"], msgid, order.lang)
    message.set_content(_templates.get_template("delivery.txt").render(context))
    message.add_alternative(
        _templates.get_template("delivery.html").render(context), subtype="html"
    )
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
    context = _context(order, settings)
    message = _message(settings, order.email, context["t"]["subject_failed"], msgid, order.lang)
    message.set_content(_templates.get_template("failed.txt").render(context))
    message.add_alternative(_templates.get_template("failed.html").render(context), subtype="html")
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
    message.set_content(_templates.get_template("support_alert.txt").render(order=order))
    return message
