"""The order as the buyer may see it (docs/architecture.md, fixed fields): the order page's
JSON, also the base of each order in "My eSIMs"."""

from __future__ import annotations

import re
from typing import Any

from worker.catalogue import Catalogue
from worker.config import Settings
from worker.orders.model import LANGS, Order
from worker.orders.rules import can_resend_email, esim_visible
from worker.provisioning.lpa import ios_install_url


def public_view(order: Order, settings: Settings, catalog: Catalogue) -> dict[str, Any]:
    """The order page's JSON. Personal data only masked; nothing of the card but its mask."""
    package = catalog.package(order.package_code)
    return {
        "order_id": order.id,
        "status": order.status,
        "lang": order.lang,
        "created_at": order.created_at,
        "package": {
            "code": order.package_code,
            "title": order.package_title,
            # In every language: a list of orders is read in the page's, not the order's.
            "titles": {lang: package.title(lang) for lang in LANGS} if package else None,
            "destination": order.destination,
            "data_mb": package.data_mb if package else None,
            "days": package.days if package else None,
        },
        "amount": order.amount,
        "currency": order.currency,
        "email_masked": mask_email(order.email),
        "payment": (
            {
                "paid_at": order.payment.paid_at,
                "card_mask": order.payment.card_mask,
                "reference": order.payment.reference,
            }
            if order.payment
            else None
        ),
        "failure_reason": order.failure_reason,
        "decline_code": decline_code(order),
        # Never paid, and no longer waited for (the reconciler gave up after a day).
        "abandoned": order.status == "awaiting_payment" and order.abandoned_at is not None,
        "esim": _esim(order, settings),
        "email_sent": order.email_sent_at is not None,
        "can_resend_email": can_resend_email(order),
        "refund": (
            {"amount": order.refund.amount, "refunded_at": order.refund.epay_refunded_at}
            if order.refund and order.refund.epay_refunded_at
            else None
        ),
    }


def decline_code(order: Order) -> int | None:
    """Epay's reasonCode of a declined payment (``"484: Insufficient funds"`` → 484): the page
    explains it in the buyer's words."""
    found = re.match(r"(\d+):", order.failure_reason or "")
    return int(found.group(1)) if found and order.status == "payment_failed" else None


def _esim(order: Order, settings: Settings) -> dict[str, Any] | None:
    p = order.profile
    if p is None or not esim_visible(order):
        return None
    return {
        "qr_svg_url": f"{settings.worker_url}/api/orders/{order.token}/qr.svg",
        "lpa": p.lpa,
        "smdp_address": p.smdp_address,
        "activation_code": p.activation_code,
        "ios_install_url": ios_install_url(p.lpa),
        "iccid": p.iccid,
        "expires_at": p.expires_at,  # install by
        "validity_starts": p.validity_starts,
        "plan_days": p.plan_days,
        "used_bytes": p.used_bytes,
        "total_bytes": p.total_bytes,
        "installed": p.installed,
    }


def mask_email(email: str | None) -> str | None:
    """``b***@example.kz``: enough for the buyer to recognise the address, not to learn it."""
    if not email or "@" not in email:
        return None
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"
