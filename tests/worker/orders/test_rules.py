"""worker/orders/rules.py: what the buyer may see and ask for, decided once for every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store_helpers import delivered_order, make_order

from worker.orders.rules import (
    RESENDS_PER_HOUR,
    can_resend_email,
    esim_visible,
    mailable,
    request_email,
    resends_in_last_hour,
)

delivered = delivered_order


@pytest.mark.parametrize(
    ("status", "visible"),
    [("delivered", True), ("refunded", False), ("paid", False), ("provisioning_failed", False)],
)
def test_the_esim_is_shown_only_while_delivered(status: str, visible: bool) -> None:
    assert esim_visible(delivered(status=status)) is visible
    assert esim_visible(delivered(status=status, profile=None)) is False


def test_an_order_without_an_address_is_not_mailable() -> None:
    assert mailable(delivered())
    assert not mailable(delivered(email=None))  # personal data purged
    assert not mailable(delivered(status="refunded"))


def test_asking_for_the_email_again_clears_the_sent_mark_and_notes_who_asked() -> None:
    order = delivered(email_message_id="<7.delivery.1@qazaq-esim.com>")

    request_email(order, "by support")

    assert (order.email_sent_at, order.email_message_id) == (None, None)
    assert order.email_requested_at is not None
    assert order.timeline[-1]["event"] == "email_resend_requested"
    assert order.timeline[-1]["detail"] == "by support"


def test_the_email_again_button_is_rate_limited() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    just = (now - timedelta(seconds=10)).isoformat()
    while_ago = (now - timedelta(minutes=5)).isoformat()

    assert can_resend_email(delivered(email_requested_at=None), now)
    assert not can_resend_email(delivered(email_requested_at=just), now)
    assert can_resend_email(delivered(email_requested_at=while_ago), now)
    assert not can_resend_email(delivered(email=None), now)  # personal data purged
    assert not can_resend_email(make_order(1), now)


def test_the_email_again_button_hides_after_three_resends_in_an_hour() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    order = delivered(email_requested_at=(now - timedelta(minutes=5)).isoformat())
    for minutes_ago in (50, 20, 5):
        at = (now - timedelta(minutes=minutes_ago)).isoformat()
        order.timeline.append({"at": at, "event": "email_resend_requested", "detail": ""})

    assert not can_resend_email(order, now)  # the route would answer 429
    assert can_resend_email(order, now + timedelta(minutes=11))  # the oldest one left the hour


def test_at_most_three_resends_count_in_any_hour() -> None:
    order = delivered_order()
    now = datetime.now(UTC)
    for minutes_ago in (90, 50, 20, 5):
        at = (now - timedelta(minutes=minutes_ago)).isoformat()
        order.timeline.append({"at": at, "event": "email_resend_requested", "detail": ""})
    assert resends_in_last_hour(order, now) == 3 == RESENDS_PER_HOUR
    assert resends_in_last_hour(order, now + timedelta(minutes=15)) == 2
