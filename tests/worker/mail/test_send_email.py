"""The `send_email` job (worker/mail/send_email.py) against a real SMTP mailbox: a refused
address ends the job and says so on the timeline, an outage is retried, a job run twice (or
with a stale copy of the order) sends one Message-ID and records one event."""

from __future__ import annotations

import pytest
from after_sale import AfterSale
from smtp_mailbox import Mailbox

from worker.jobs import GiveUp
from worker.mail.send_email import send_email
from worker.mail.smtp import MailError
from worker.orders.model import Order

pytestmark = pytest.mark.anyio


async def unsent(after_sale: AfterSale, **options: object) -> Order:
    """A delivered order whose delivery e-mail is still to be sent (a resend, or never sent)."""
    order = await after_sale.order("delivered", **options)  # type: ignore[arg-type]

    def forget(o: Order) -> None:
        o.email_sent_at = None
        o.email_message_id = None

    return await after_sale.store.update(order.id, forget)


def events(after_sale: AfterSale, order: Order) -> list[str]:
    stored = after_sale.store.get(order.id)
    assert stored is not None
    return [e["event"] for e in stored.timeline]


async def test_an_address_the_server_refuses_ends_the_job_and_is_noted(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await unsent(after_sale)
    after_sale_mailbox.refuse_recipients = True

    with pytest.raises(GiveUp, match="refused the recipient"):
        await send_email(order, after_sale.services)

    stored = after_sale.store.get(order.id)
    assert stored is not None and stored.email_sent_at is None
    assert events(after_sale, order)[-1] == "email_refused"


async def test_a_mail_server_outage_is_retried_and_then_sent_once(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await unsent(after_sale)
    after_sale_mailbox.down()

    with pytest.raises(MailError) as failed:
        await send_email(order, after_sale.services)
    assert not failed.value.permanent  # the job runner tries again later
    assert "email_refused" not in events(after_sale, order)

    after_sale_mailbox.up()
    await send_email(order, after_sale.services)  # the retry, with the job's copy of the order

    [mail] = after_sale_mailbox.wait_for(1)
    stored = after_sale.store.get(order.id)
    assert stored is not None and stored.email_sent_at is not None
    assert mail["Message-ID"] == stored.email_message_id


async def test_a_job_run_twice_with_a_stale_order_sends_one_message_id(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await unsent(after_sale)

    await send_email(order, after_sale.services)
    await send_email(order, after_sale.services)  # the same stale copy: no Message-ID yet

    first, second = after_sale_mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]  # mail providers show it once
    assert events(after_sale, order).count("email_sent") == 1


async def test_a_stale_run_sends_the_message_id_another_run_chose(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    stale = await unsent(after_sale)

    def chosen_elsewhere(o: Order) -> None:  # a concurrent run chose its id and is sending
        o.email_message_id = "<chosen.elsewhere@qazaq-esim.com>"

    await after_sale.store.update(stale.id, chosen_elsewhere)
    await send_email(stale, after_sale.services)

    [mail] = after_sale_mailbox.wait_for(1)
    assert mail["Message-ID"] == "<chosen.elsewhere@qazaq-esim.com>"
    assert events(after_sale, stale).count("email_sent") == 1


async def test_an_order_whose_address_was_purged_sends_nothing(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await unsent(after_sale, email=None)

    await send_email(order, after_sale.services)

    assert after_sale_mailbox.messages == []
    stored = after_sale.store.get(order.id)
    assert stored is not None and stored.email_sent_at is None


async def test_a_failed_provisioning_alerts_support_and_the_buyer_once(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await after_sale.order("provisioning_failed")

    await send_email(order, after_sale.services)
    await send_email(order, after_sale.services)  # the stale copy: notices not yet recorded
    stored = after_sale.store.get(order.id)
    assert stored is not None
    await send_email(stored, after_sale.services)  # the fresh copy: nothing more to send

    recipients = sorted(str(m["To"]) for m in after_sale_mailbox.wait_for(4))
    assert recipients.count("buyer@example.kz") == 2  # the stale run sends again, same id
    assert events(after_sale, order).count("support_alerted") == 1
    assert events(after_sale, order).count("failure_email_sent") == 1
    assert len(after_sale_mailbox.messages) == 4


async def test_without_an_address_only_support_hears_of_the_failure(
        after_sale: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await after_sale.order("provisioning_failed", email=None)

    await send_email(order, after_sale.services)

    [alert] = after_sale_mailbox.wait_for(1)
    assert str(alert["To"]) == after_sale.services.settings.support_email
    assert events(after_sale, order).count("failure_email_sent") == 0
