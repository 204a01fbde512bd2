"""Usage alerts (issue 12): an e-mail when 80 % and when all of the data is used, and on the
plan's last day, each once per eSIM and per top-up period, in the order's language, with the
usage and the "Add data" link; a one-click way out (List-Unsubscribe).

The aggregator's DATA_USAGE and VALIDITY_USAGE webhooks are hints only (its usage lags 2–3
hours and nothing in a webhook is signed): they make the order's `check_usage` job due, and
the job asks esim/query for the truth. A periodic refresh (USAGE_REFRESH_INTERVAL) queues
the job for every active eSIM, spaced so that it keeps well under the aggregator's limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from worker.mail import compose, smtp
from worker.orders.model import Order, utc_now
from worker.provisioning.provider import ProviderProfile, RejectedError

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.topups.usage")

# The jobs of one refresh start this far apart: 4 a second, half of eSIM Access's 8.
SPACING_S = 0.25
LAST_DAY = timedelta(days=1)


def active(order: Order, now: datetime) -> bool:
    """A delivered eSIM that has not expired: its usage is worth asking for."""
    profile = order.profile
    return (
        order.status == "delivered"
        and profile is not None
        and (profile.expires_at is None or datetime.fromisoformat(profile.expires_at) > now)
    )


async def refresh_active(services: Services) -> int:
    """Queue `check_usage` for every active eSIM; return how many."""
    now = datetime.now(UTC)
    orders = services.store.search(lambda o: active(o, now))
    for n, order in enumerate(orders):
        await services.store.enqueue(order.id, "check_usage", delay_s=n * SPACING_S)
    log.info("usage: refresh of %d active eSIMs queued", len(orders))
    return len(orders)


async def run(services: Services) -> None:
    """Refresh forever, every USAGE_REFRESH_INTERVAL seconds (the lifespan cancels it)."""
    while True:
        await asyncio.sleep(services.settings.usage_refresh_interval)
        try:
            await refresh_active(services)
        except Exception:  # keep refreshing; the next pass retries
            log.exception("usage: refresh failed")


def due(order: Order, now: datetime) -> list[str]:
    """The alerts this order should get now and has not had: "kind@period" keys, where the
    period (total volume and end) changes with each top-up."""
    profile = order.profile
    assert profile is not None
    kinds = []
    if profile.total_bytes and profile.used_bytes is not None:
        share = profile.used_bytes / profile.total_bytes
        if share >= 1:
            kinds.append("data_100")
        elif share >= 0.8:
            kinds.append("data_80")
    if profile.expires_at:
        left = datetime.fromisoformat(profile.expires_at) - now
        if timedelta(0) < left <= LAST_DAY:
            kinds.append("last_day")
    period = f"{profile.total_bytes}/{profile.expires_at}"
    keys = [f"{kind}@{period}" for kind in kinds]
    return [key for key in keys if key not in order.usage_alerts]


async def check_usage(order: Order, services: Services) -> None:
    """The `check_usage` job: the eSIM's usage and end from esim/query, then its alerts."""
    profile = order.profile
    if order.status != "delivered" or profile is None:
        return
    try:
        fresh = await services.provider.query(profile.provider_order_no)
    except RejectedError as error:  # cancelled, revoked or expired: nothing left to watch
        log.info("usage: order %s: %s", order.id, error)
        return
    if fresh is not None:
        order = await services.store.update(order.id, _keep(fresh))
    if order.alerts_off or not order.email:
        return
    for key in due(order, datetime.now(UTC)):
        await _alert(order, services, key)


def _keep(fresh: ProviderProfile) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        profile = order.profile
        assert profile is not None
        profile.used_bytes = max(fresh.used_bytes or 0, profile.used_bytes or 0)
        profile.total_bytes = fresh.total_bytes or profile.total_bytes
        profile.expires_at = fresh.expires_at or profile.expires_at
        profile.usage_checked_at = utc_now()

    return change


async def _alert(order: Order, services: Services, key: str) -> None:
    """Send one alert and record it; a crash in between sends it again with the same
    Message-ID, which mail providers show once."""
    settings = services.settings
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    msgid = compose.message_id(order, f"alert-{digest}", 1, settings)
    try:
        await smtp.send(settings, compose.usage_alert(order, key.partition("@")[0], settings, msgid))
    except smtp.MailError as error:
        if not error.permanent:
            raise  # the job is retried with backoff
        log.warning("usage: order %s alert refused: %s", order.id, error)

    def record(o: Order) -> None:
        if key not in o.usage_alerts:  # a second run of the job may have recorded it
            o.usage_alerts.append(key)
            o.log("usage_alert", key.partition("@")[0])

    await services.store.update(order.id, record)
