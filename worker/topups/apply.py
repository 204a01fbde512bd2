"""The `apply_topup` job: add the paid top-up to the eSIM at the aggregator, then tell the buyer.

Each step is written before the next, so a crash anywhere resumes and never adds data twice:

1. `paid` → `applying`, with `provider_transaction_id` = "topup-" + the top-up's id: the
   idempotency key every attempt at esim/topup reuses (the aggregator answers a repeated id
   with the first result, or `310402`, after which the totals are read with esim/query);
2. esim/topup → the eSIM's new totals on its order (what the order page shows), then the
   top-up `applied` with a `send_email` job, one write each; a crash between them repeats
   esim/topup with the same key, which adds nothing.

A refusal (expired eSIM, a plan without top-ups: `200002`) makes the top-up `failed`:
support is alerted, the buyer told, and it is refundable like a `provisioning_failed` order.
An unknown outcome is retried with the same key until PROVISION_GIVE_UP_AFTER.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from worker.crashpoints import crashpoint
from worker.jobs import RetryLater
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged
from worker.provisioning.provider import RejectedError, TopUpResult, TransientError
from worker.retry import Backoff

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.topups")

AFTER_ERROR = Backoff(first_s=1.0, ceiling_s=60.0, share=0.5)


def transaction_id(topup_id: str) -> str:
    """The top-up's idempotency key at the aggregator: never an order's (those are bare ids)."""
    return f"topup-{topup_id}"


async def apply_topup(order: Order, services: Services) -> None:
    """Handler of the `apply_topup` job (idempotent: an applied or failed top-up is left alone)."""
    esim_id = order.topup_of
    if esim_id is None or order.status not in ("paid", "applying"):
        return
    store = services.store
    if order.status == "paid":
        order = await store.update(order.id, _start)
    esim = store.get(esim_id)
    if esim is None or esim.profile is None or order.topup is None:
        await _fail(order, services, f"order {esim_id} has no eSIM to top up")
        return
    crashpoint("topup.before_apply")
    try:
        result = await services.provider.topup(
            esim.profile.esim_tran_no,
            str(order.topup["provider_code"]),
            transaction_id(order.id),
            esim.profile.provider_order_no,
        )
    except RejectedError as error:
        await _fail(order, services, str(error))
        return
    except TransientError as error:
        await _later(order, services, str(error))
        return
    crashpoint("topup.after_apply")
    await store.update(esim.id, _new_totals(order.id, result))
    await store.update(order.id, _applied(result), enqueue=("send_email",))
    log.info("topups: top-up %s applied to order %s", order.id, esim.id)


def _start(order: Order) -> None:
    if order.status != "paid":
        raise Unchanged
    order.status = "applying"
    order.provider_transaction_id = transaction_id(order.id)
    order.log("applying", f"transactionId {order.provider_transaction_id}")


def _new_totals(topup_id: str, result: TopUpResult) -> Callable[[Order], None]:
    def change(esim: Order) -> None:
        profile = esim.profile
        if profile is None or any(e["event"] == "topped_up" and e["detail"] == topup_id
                                  for e in esim.timeline):
            raise Unchanged
        # Absolute totals from the aggregator: never lower than a later top-up already wrote.
        if result.total_bytes is not None:
            profile.total_bytes = max(result.total_bytes, profile.total_bytes or 0)
        if result.expires_at is not None:
            profile.expires_at = max(result.expires_at, profile.expires_at or "")
        if result.used_bytes is not None:
            profile.used_bytes = max(result.used_bytes, profile.used_bytes or 0)
        esim.log("topped_up", topup_id)

    return change


def _applied(result: TopUpResult) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        if order.status != "applying" or order.topup is None:
            raise Unchanged
        order.status = "applied"
        order.failure_reason = None
        order.topup.update(
            total_bytes=result.total_bytes, expires_at=result.expires_at, applied_at=utc_now()
        )
        order.log("applied", f"total {result.total_bytes} bytes, until {result.expires_at}")

    return change


async def _later(order: Order, services: Services, error: str) -> None:
    """An unknown outcome: ask again with the same key, or give up past the bound."""
    started = datetime.fromisoformat(order.payment.paid_at if order.payment else order.created_at)
    waited = (datetime.now(UTC) - started).total_seconds()
    give_up_after = services.settings.provision_give_up_after
    if waited >= give_up_after:
        await _fail(order, services, f"not applied after {int(give_up_after)} s: {error}"[:300])
        return
    log.warning("topups: top-up %s: %s", order.id, error)
    raise RetryLater(AFTER_ERROR.after_waiting(waited), error)


async def _fail(order: Order, services: Services, reason: str) -> None:
    def change(o: Order) -> None:
        if o.status not in ("paid", "applying"):
            raise Unchanged
        o.status = "failed"
        o.failure_reason = reason[:300]
        o.log("failed", reason[:300])

    log.error("topups: top-up %s failed: %s", order.id, reason)
    await services.store.update(order.id, change, enqueue=("send_email",))
