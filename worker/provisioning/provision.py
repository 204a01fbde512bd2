"""The `provision` job: buy the paid order's eSIM, follow it until it is ready, deliver it.

Each step is written to the store before the next one starts, so a crash anywhere resumes
from the last written step and never buys a second profile:

1. `paid` → `provisioning`, with `provider_transaction_id` = the order id: the idempotency
   key every attempt at the aggregator reuses;
2. esim/order → `provider_order_no` (an unknown outcome, e.g. a timeout, is retried with
   the same key; the aggregator answers with the first order);
3. esim/query until the profile is ready: asked at once, then after a delay that grows with
   the time already waited; an ORDER_STATUS webhook makes the job due at once;
4. the profile, `delivered` and a `send_email` job, in one atomic write.

Transient failures are retried with backoff and jitter. PROVISION_GIVE_UP_AFTER seconds
after step 1 the order becomes `provisioning_failed` and `send_email` alerts support and
tells the buyer what happens next (public offer 5.4: refundable).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from worker import metrics
from worker.config import Settings
from worker.crashpoints import crashpoint
from worker.jobs import RetryLater
from worker.mail.compose import delivery_message_id
from worker.orders.model import Order, Profile, utc_now
from worker.orders.store import Unchanged
from worker.provisioning.provider import (
    ProviderProfile,
    RejectedError,
    TransientError,
)
from worker.retry import Backoff

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.provisioning")

# Time-to-QR matters: look again after a second, then about half the time waited so far.
POLL = Backoff(first_s=1.0, ceiling_s=30.0, share=0.5)
AFTER_ERROR = Backoff(first_s=1.0, ceiling_s=60.0, share=0.5)


async def provision(order: Order, services: Services) -> None:
    """Handler of the `provision` job (idempotent: a delivered or failed order is left alone)."""
    if order.profile is not None or order.status not in ("paid", "provisioning"):
        return
    store = services.store
    if order.provider_transaction_id is None:
        order = await store.update(order.id, _start)
        if order.status != "provisioning" or order.provider_transaction_id is None:
            return
    transaction_id = order.provider_transaction_id
    started = order.provisioning_started_at or utc_now()
    provider = services.provider
    try:
        if order.provider_order_no is None:
            crashpoint("before_aggregator_order")
            package = services.catalogue.package(order.package_code)
            if package is None:
                await _fail(
                    order, services, f"package {order.package_code} is not in the catalogue"
                )
                return
            placed = await provider.order(
                transaction_id,
                package.provider_code,
                since=started,
                period_days=package.provider_period,
            )
            crashpoint("after_aggregator_order")
            order = await store.update(order.id, _ordered(placed.order_no))
            if order.provider_order_no is None:
                return
        profile = await provider.query(order.provider_order_no)
    except RejectedError as error:
        await _fail(order, services, str(error))
        return
    except TransientError as error:
        await _later(order, services, started, str(error))
        return
    if profile is None:
        await _later(order, services, started, None)
        return
    if profile.transaction_id and profile.transaction_id != transaction_id:
        # Never hand one buyer a profile bought for another order.
        await _fail(
            order, services, f"orderNo {order.provider_order_no} belongs to another transaction"
        )
        return
    delivered = await store.update(
        order.id, _deliver(profile, services.settings), enqueue=("send_email",)
    )
    if delivered.payment is not None and delivered.payment.paid_at:
        metrics.PAYMENT_TO_DELIVERY_SECONDS.observe(_waited(delivered.payment.paid_at))
    crashpoint("after_profile_stored")
    log.info("provisioning: order %s delivered", order.id)


def _start(order: Order) -> None:
    if order.status != "paid" or order.provider_transaction_id is not None:
        raise Unchanged
    order.status = "provisioning"
    order.provider_transaction_id = order.id
    order.provisioning_started_at = utc_now()
    order.log("provisioning_started", f"transactionId {order.id}")


def _ordered(order_no: str) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        if order.provider_order_no is not None:
            raise Unchanged
        order.provider_order_no = order_no
        order.log("aggregator_ordered", f"orderNo {order_no}")

    return change


def _deliver(profile: ProviderProfile, settings: Settings) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        if order.profile is not None or order.status != "provisioning":
            raise Unchanged
        order.profile = Profile(
            esim_tran_no=profile.provider_id,
            iccid=profile.iccid,
            lpa=profile.lpa,
            smdp_address=profile.smdp_address,
            activation_code=profile.matching_id,
            provider_order_no=profile.order_no or order.provider_order_no or "",
            expires_at=profile.expires_at,
            validity_starts=profile.validity_starts,
            plan_days=profile.days,
            total_bytes=profile.total_bytes,
            used_bytes=profile.used_bytes,
            usage_checked_at=utc_now(),
        )
        order.status = "delivered"
        order.failure_reason = None
        order.log("delivered", f"esimTranNo {profile.provider_id}")
        # Chosen in this same write, so send_email can go straight to SMTP (time-to-QR).
        order.email_message_id = delivery_message_id(order, settings)

    return change


def _waited(started: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds()


async def _later(order: Order, services: Services, started: str, error: str | None) -> None:
    """Not ready or a transient failure: retry later, or give up past the bound."""
    waited = _waited(started)
    give_up_after = services.settings.provision_give_up_after
    if waited >= give_up_after:
        why = error or "the aggregator did not allocate the profile"
        await _fail(order, services, f"no profile after {int(give_up_after)} s: {why}"[:300])
        return
    if error is None:
        raise RetryLater(POLL.after_waiting(waited), "profile not allocated yet")
    log.warning("provisioning: order %s: %s", order.id, error)
    last = order.timeline[-1] if order.timeline else {}
    if last.get("event") != "aggregator_error" or last.get("detail") != error[:300]:

        def note(o: Order) -> None:
            o.log("aggregator_error", error[:300])

        await services.store.update(order.id, note)
    raise RetryLater(AFTER_ERROR.after_waiting(waited), error)


async def _fail(order: Order, services: Services, reason: str) -> None:
    def change(o: Order) -> None:
        if o.status not in ("paid", "provisioning") or o.profile is not None:
            raise Unchanged
        o.status = "provisioning_failed"
        o.failure_reason = reason
        o.log("provisioning_failed", reason)

    log.error("provisioning: order %s failed: %s", order.id, reason)
    await services.store.update(order.id, change, enqueue=("send_email",))
