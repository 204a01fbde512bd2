"""Decisions about an order that the order page, "My eSIMs" and support share, made once here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.orders.model import Order, utc_now

# "Send the e-mail again" is offered at most once per this many seconds, and this many times an hour.
RESEND_EMAIL_INTERVAL_S = 60
RESENDS_PER_HOUR = 3


def esim_visible(order: Order) -> bool:
    """The QR and codes are the buyer's to see: delivered, and not refunded (a refunded
    order's profile was cancelled at the aggregator)."""
    return order.status == "delivered" and order.profile is not None


def mailable(order: Order) -> bool:
    """A delivered eSIM and an address to send it to."""
    return esim_visible(order) and bool(order.email)


def can_resend_email(order: Order, now: datetime | None = None) -> bool:
    """The buyer may ask again: mailable, not asked within RESEND_EMAIL_INTERVAL_S, and asked
    fewer than RESENDS_PER_HOUR times in the last hour (support is not limited)."""
    if not mailable(order):
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


def request_email(order: Order, detail: str = "") -> None:
    """Mark the delivery e-mail to be sent again (the `send_email` job sends a new message)."""
    order.email_requested_at = utc_now()
    order.email_sent_at = None
    order.email_message_id = None
    order.log("email_resend_requested", detail)
