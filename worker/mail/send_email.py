"""The `send_email` job: the delivery e-mail once per delivery; on failure, support and buyer.

Exactly once, as far as SMTP allows: the Message-ID is chosen and written before sending,
`email_sent_at` is written the moment the server accepts. A crash between those two moments
(a few milliseconds) sends again with the same Message-ID, which mail providers show once.
If the server is down the job is retried with backoff; the order page shows the QR meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING

from worker.crashpoints import crashpoint
from worker.jobs import GiveUp
from worker.mail import compose, smtp
from worker.mail.smtp import MailError
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.mail")

Compose = Callable[[Order, "Services", str], EmailMessage]


async def send_email(order: Order, services: Services) -> None:
    """Handler of the `send_email` job; idempotent."""
    if order.status == "delivered":
        await _delivery(order, services)
    elif order.status == "provisioning_failed":
        await _once(order, services, "support_alerted", "support-alert", _support_alert)
        await _once(order, services, "failure_email_sent", "failure", _failure_notice)
    elif order.status == "applied":
        await _topup_applied(order, services)
    elif order.status == "failed":
        await _once(order, services, "support_alerted", "support-alert", _support_alert)
        await _once(order, services, "failure_email_sent", "failure", _topup_failed)


async def _delivery(order: Order, services: Services) -> None:
    if order.email_sent_at is not None or order.profile is None:
        return
    if not order.email:
        log.warning("mail: order %s has no e-mail address (purged); nothing sent", order.id)
        return
    msgid = order.email_message_id
    if msgid is None:  # a resend: the delivery itself wrote its Message-ID with the profile
        chosen = compose.delivery_message_id(order, services.settings)

        def choose(o: Order) -> None:
            if o.email_message_id is not None:
                raise Unchanged
            o.email_message_id = chosen

        order = await services.store.update(order.id, choose)
        msgid = order.email_message_id or chosen
    crashpoint("before_email_sent")
    await _send(order, services, compose.delivery(order, services.settings, msgid))
    crashpoint("after_smtp_accepted")

    def sent(o: Order) -> None:
        if o.email_sent_at is not None or o.email_message_id != msgid:
            raise Unchanged
        o.email_sent_at = utc_now()
        o.log("email_sent", msgid)

    await services.store.update(order.id, sent)
    crashpoint("after_email_sent")
    log.info("mail: order %s delivery e-mail accepted", order.id)


async def _topup_applied(order: Order, services: Services) -> None:
    """The top-up's e-mail, once: `email_sent_at` as for a delivery (then it is finished)."""
    esim = services.store.get(order.topup_of or "")
    if order.email_sent_at is not None or not order.email or esim is None:
        return
    message = compose.topup_applied(order, esim, services.settings)
    await _send(order, services, message)

    def sent(o: Order) -> None:
        if o.email_sent_at is not None:
            raise Unchanged
        o.email_sent_at = utc_now()
        o.log("email_sent", str(message["Message-ID"]))

    await services.store.update(order.id, sent)


def _topup_failed(order: Order, services: Services, msgid: str) -> EmailMessage:
    return compose.topup_failed(order, services.settings, msgid)


def _support_alert(order: Order, services: Services, msgid: str) -> EmailMessage:
    return compose.support_alert(order, services.settings, msgid)


def _failure_notice(order: Order, services: Services, msgid: str) -> EmailMessage:
    return compose.failure_notice(order, services.settings, msgid)


async def _once(order: Order, services: Services, event: str, kind: str, build: Compose) -> None:
    """Send one notice unless the timeline records it; record it once the server took it."""
    if any(e["event"] == event for e in order.timeline):
        return
    if kind == "failure" and not order.email:
        return
    msgid = compose.message_id(order, kind, 1, services.settings)
    await _send(order, services, build(order, services, msgid))

    def record(o: Order) -> None:
        if any(e["event"] == event for e in o.timeline):
            raise Unchanged
        o.log(event, msgid)

    await services.store.update(order.id, record)


async def _send(order: Order, services: Services, message: EmailMessage) -> None:
    try:
        await smtp.send(services.settings, message)
    except MailError as error:
        if not error.permanent:
            raise  # the job runner retries with backoff and jitter
        reason = str(error)

        def note(o: Order) -> None:
            o.log("email_refused", reason)

        await services.store.update(order.id, note)
        raise GiveUp(reason) from None
