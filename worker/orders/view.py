"""GET /api/orders/{token}: the order as the buyer may see it (docs/architecture.md, fixed fields)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from worker.catalog import Catalog
from worker.config import Settings
from worker.orders.model import RESEND_EMAIL_INTERVAL_S, RESENDS_PER_HOUR, Order
from worker.provisioning.lpa import ios_install_url
from worker.services import Services

NOT_FOUND = {"error": "not found"}


async def order_view(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse(
        public_view(order, services.settings, services.catalog),
        headers={"Cache-Control": "no-store"},
    )


def public_view(order: Order, settings: Settings, catalog: Catalog) -> dict[str, Any]:
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
        "esim": _esim(order, settings),
        "email_sent": order.email_sent_at is not None,
        "can_resend_email": can_resend_email(order),
        "refund": (
            {"amount": order.refund.amount, "refunded_at": order.refund.epay_refunded_at}
            if order.refund and order.refund.epay_refunded_at
            else None
        ),
    }


def _esim(order: Order, settings: Settings) -> dict[str, Any] | None:
    p = order.profile
    if p is None or order.status == "refunded":  # a refunded order's profile was cancelled
        return None
    return {
        "qr_svg_url": f"{settings.worker_url}/api/orders/{order.token}/qr.svg",
        "lpa": p.lpa,
        "smdp_address": p.smdp_address,
        "activation_code": p.activation_code,
        "ios_install_url": ios_install_url(p.lpa),
        "iccid": p.iccid,
        "expires_at": p.expires_at,
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


def can_resend_email(order: Order, now: datetime | None = None) -> bool:
    """Delivered, with an address, not asked within RESEND_EMAIL_INTERVAL_S, and asked fewer
    than RESENDS_PER_HOUR times in the last hour. The button and the route share this rule."""
    if order.status != "delivered" or order.profile is None or not order.email:
        return False
    now = now or datetime.now(UTC)
    if order.email_requested_at is not None:
        asked = datetime.fromisoformat(order.email_requested_at)
        if (now - asked).total_seconds() < RESEND_EMAIL_INTERVAL_S:
            return False
    return resends_in_last_hour(order, now) < RESENDS_PER_HOUR


def resends_in_last_hour(order: Order, now: datetime) -> int:
    since = now - timedelta(hours=1)
    return sum(
        1
        for entry in order.timeline
        if entry["event"] == "email_resend_requested"
        and datetime.fromisoformat(entry["at"]) > since
    )
