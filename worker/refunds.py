"""Refunds by the public offer's rules (5.4, 6.3): refuse naming the rule, or cancel, refund, notify.

A refund is requested (`request_refund`: the rules, then `order.refund` and a `refund` job
in one write) and carried out (`carry_out`, by the operator's command at once and by the
job as a backstop). Each step is persisted before the next:

1. the unused profile is cancelled at the aggregator (`refund.profile_cancelled_at`);
2. Epay refunds the transaction (`refund.epay_attempted_at` is written first, as a lease:
   a second process waits, and after a crash Epay is asked before anything is sent again);
3. the order becomes `refunded`, with the buyer's e-mail and the fiscal return as jobs.

So repeated or concurrent refunds of one order refund once, and a crash anywhere resumes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from worker.crashpoints import crashpoint
from worker.jobs import GiveUp, RetryLater
from worker.mail import compose, smtp
from worker.orders.model import Order, Refund, utc_now
from worker.orders.store import Unchanged
from worker.payments.epay import OperationRefused
from worker.provisioning.provider import ProfileStatus, ProviderError, RejectedError

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.refunds")

MIN_REFUND_KZT = 10  # Epay's minimum refund (spec epay.md §6, §7)
EPAY_LEASE_S = 120.0
BACKSTOP_S = 60.0  # when the `refund` job looks, should the operator's own call not finish  # an Epay call takes at most ~15 s: older attempts are presumed dead


class RefundRefused(Exception):
    """The offer does not allow this refund; ``rule`` names the rule, the message explains."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class RefundInProgress(Exception):
    """Another process is sending the Epay refund right now; look again after ``retry_in``."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"an Epay refund was sent {EPAY_LEASE_S - retry_in:.0f} s ago; "
                         f"its outcome is checked after {retry_in:.0f} s")
        self.retry_in = retry_in


class RefundFailed(Exception):
    """A step was refused for good (Epay or the aggregator said no); an operator must look."""


@dataclass(frozen=True)
class Unused:
    """What the aggregator says about the delivered profile (offer 5.4: 0 MB, never installed)."""

    used_bytes: int
    status: str | None


def words(status: ProfileStatus | None) -> str | None:
    """The aggregator's own words for the profile's state, for the order's timeline."""
    return status.words if status else None


# ---- the rules -------------------------------------------------------------------------


def check_rules(order: Order, non_functional: bool, amount: int) -> None:
    """The rules that need nothing but the order. Raise RefundRefused naming the first broken."""
    if order.payment is None or order.status in ("awaiting_payment", "payment_failed"):
        raise RefundRefused(
            "paid", f"order {order.id} was never paid (status {order.status}): nothing to refund"
        )
    if order.status == "refunded" or (order.refund and order.refund.epay_refunded_at):
        when = order.refund.epay_refunded_at if order.refund else None
        raise RefundRefused("not_refunded_already", f"order {order.id} was already refunded ({when})")
    if order.status == "applied":
        raise RefundRefused(
            "topup_not_applied",
            f"top-up {order.id} was added to the eSIM: it is delivered (offer 5.2); a top-up is "
            "refunded only when the aggregator refused it or never applied it",
        )
    if order.status in ("paid", "provisioning", "applying"):
        raise RefundRefused(
            "failed_or_non_functional",
            f"order {order.id} is still {order.status}: refund it once it is provisioning_failed, "
            "or delivered and confirmed non-functional",
        )
    if order.status == "delivered" and not non_functional:
        raise RefundRefused(
            "failed_or_non_functional",
            f"order {order.id} was delivered: a delivered eSIM is refunded only when support "
            "confirms it is non-functional (offer 5.4); record that with --non-functional",
        )
    if amount > order.amount:
        raise RefundRefused(
            "at_most_paid", f"{amount} KZT is more than the {order.amount} KZT paid (offer 6.3)"
        )
    if amount < MIN_REFUND_KZT:
        raise RefundRefused("epay_minimum", f"Epay refunds at least {MIN_REFUND_KZT} KZT, not {amount}")


async def check_unused(services: Services, order: Order) -> Unused:
    """Offer 5.4 for a delivered profile: 0 bytes used and never installed, as the aggregator says."""
    profile = order.profile
    if profile is None:
        return Unused(0, None)
    try:
        usage = await services.provider.usage([profile.esim_tran_no])
        status = await services.provider.status(profile.provider_order_no)
    except ProviderError as error:
        raise RefundRefused(
            "zero_usage",
            f"the aggregator could not confirm that no data was used ({error}); try again later",
        ) from None
    used = max([u.used_bytes for u in usage] + [profile.used_bytes or 0])
    if used > 0:
        raise RefundRefused(
            "zero_usage",
            f"the aggregator reports {used} bytes used: offer 5.4 refunds only a profile with 0 MB used",
        )
    if profile.installed or (status is not None and status.installed):
        raise RefundRefused(
            "never_installed",
            f"the profile was installed on a device (aggregator status {words(status)}): offer 5.4 "
            "refunds only a profile never activated",
        )
    return Unused(used, words(status))


# ---- requesting ------------------------------------------------------------------------


async def request_refund(
    services: Services,
    order_id: str,
    *,
    reason: str,
    operator: str,
    non_functional: bool = False,
    amount: int | None = None,
) -> Order:
    """Check the rules and record the refund with its job. A refund already requested and not
    finished is returned as it is (the caller then carries it out): asking twice refunds once."""
    order = services.store.get(order_id)
    if order is None:
        raise RefundRefused("order_exists", f"there is no order {order_id}")
    if not reason.strip():
        raise RefundRefused("reason", "say why: --reason \"...\" is recorded with the refund")
    if order.refund is not None and order.status != "refunded":
        return order
    wanted = order.amount if amount is None else amount
    check_rules(order, non_functional, wanted)
    unused = await check_unused(services, order) if order.status == "delivered" else None

    def change(o: Order) -> None:
        if o.refund is not None and o.status != "refunded":
            raise Unchanged  # a concurrent request recorded it first
        check_rules(o, non_functional, wanted)  # the order may have moved meanwhile
        o.refund = Refund(amount=wanted, reason=reason.strip()[:500], operator=operator[:100],
                          non_functional=non_functional)
        checked = f"; aggregator: {unused.used_bytes} bytes, {unused.status}" if unused else ""
        o.log("refund_requested", f"{wanted} KZT by {operator[:100]}{checked}")

    # The caller carries the refund out at once; the job is the backstop after a crash.
    order = await services.store.update(order_id, change, enqueue=("refund",), delay_s=BACKSTOP_S)
    log.info("refunds: order %s refund requested", order_id)
    return order


# ---- carrying out ----------------------------------------------------------------------


async def carry_out(services: Services, order_id: str, *, lease_s: float = EPAY_LEASE_S) -> Order:
    """Run the remaining steps of a requested refund. Raises RefundInProgress or RefundFailed."""
    order = services.store.get(order_id)
    if order is None:
        raise RefundRefused("order_exists", f"there is no order {order_id}")
    if order.refund is None or order.status == "refunded":
        return order
    if order.refund.profile_cancelled_at is None:
        order = await _cancel_profile(services, order)
        crashpoint("refund.after_cancel")
    return await _refund_at_epay(services, order, lease_s)


async def _cancel_profile(services: Services, order: Order) -> Order:
    """Cancel the unused profile so that it can never be used; the aggregator refunds us."""
    order_no = order.profile.provider_order_no if order.profile else order.provider_order_no
    detail = "no profile was ordered"
    if order_no:
        detail = await _cancel_at_aggregator(services, order, order_no)

    def change(o: Order) -> None:
        assert o.refund is not None
        if o.refund.profile_cancelled_at:
            raise Unchanged
        o.refund.profile_cancelled_at = utc_now()
        o.log("refund_profile_cancelled", detail)

    return await services.store.update(order.id, change)


async def _cancel_at_aggregator(services: Services, order: Order, order_no: str) -> str:
    status = await services.provider.status(order_no)  # ProviderError: the job retries
    if status is None or status.gone:
        return f"nothing to cancel (aggregator status {words(status)})"
    if order.profile is not None:
        provider_id = order.profile.esim_tran_no
    else:  # allocated after provisioning gave up
        allocated = await services.provider.query(order_no)
        if allocated is None:
            return "nothing to cancel (still allocating)"
        provider_id = allocated.provider_id
    try:
        await services.provider.cancel(provider_id)
    except RejectedError as error:
        now = await services.provider.status(order_no)
        if now is None or not now.cancelled:
            raise RefundFailed(
                f"the aggregator would not cancel the profile (status {words(now)}): {error}"
            ) from None
    return f"profile cancelled at the aggregator (was {status.words})"


async def _refund_at_epay(services: Services, order: Order, lease_s: float) -> Order:
    assert order.refund is not None and order.payment is not None
    attempted = order.refund.epay_attempted_at
    if attempted is not None:
        age = (datetime.now(UTC) - datetime.fromisoformat(attempted)).total_seconds()
        if age < lease_s:
            raise RefundInProgress(lease_s - age)
        if await _epay_shows_refund(services, order):  # the earlier attempt did go through
            return await _mark_refunded(services, order.id)
    won: list[bool] = []  # set by our own write only: two claims can carry the same timestamp

    def claim(o: Order) -> None:
        won.clear()  # a change may run again on a fresher copy: its last run decides
        assert o.refund is not None
        if o.refund.epay_attempted_at != attempted or o.status == "refunded":
            raise Unchanged  # another process claimed it since we read the order
        o.refund.epay_attempted_at = utc_now()
        won.append(True)

    claimed = await services.store.update(order.id, claim)
    if claimed.status == "refunded":
        return claimed
    if not won:
        raise RefundInProgress(lease_s)
    try:
        await services.epay.refund(
            order.payment.transaction_id, order.refund.amount, external_id=f"refund-{order.id}"
        )
    except OperationRefused as error:
        if not await _epay_shows_refund(services, order):
            raise RefundFailed(f"Epay refused the refund: {error}") from None
    crashpoint("refund.after_epay")
    return await _mark_refunded(services, order.id)


async def _epay_shows_refund(services: Services, order: Order) -> bool:
    assert order.refund is not None
    status = await services.epay.check_status(order.id)
    tx = status.transaction or {}
    payout = tx.get("payoutAmount")
    if isinstance(payout, int | float | str) and str(payout).replace(".", "", 1).isdigit():
        return float(payout) >= order.refund.amount
    return status.status_name == "REFUND"


async def _mark_refunded(services: Services, order_id: str) -> Order:
    def change(o: Order) -> None:
        assert o.refund is not None
        if o.status == "refunded":
            raise Unchanged
        o.refund.epay_refunded_at = utc_now()
        o.status = "refunded"
        o.log("refunded", f"{o.refund.amount} KZT refunded through Epay")

    fiscal = ("fiscal_return",) if services.register is not None else ()
    order = await services.store.update(order_id, change, enqueue=("refund_email", *fiscal))
    log.info("refunds: order %s refunded", order_id)
    return order


# ---- jobs ------------------------------------------------------------------------------


async def refund_job(order: Order, services: Services) -> None:
    """The `refund` job: finish a requested refund (after a crash, or after the command)."""
    try:
        await carry_out(services, order.id)
    except RefundInProgress as waiting:  # most often the operator's own command, done in seconds
        raise RetryLater(min(waiting.retry_in, 15.0) + 1, str(waiting)) from None
    except RefundFailed as error:
        raise GiveUp(str(error)) from None


async def refund_email(order: Order, services: Services) -> None:
    """The `refund_email` job: tell the buyer the money is on its way back."""
    if order.email is None or order.refund is None:
        return
    try:
        await smtp.send(services.settings, compose.refunded(order, services.settings))
    except smtp.MailError as error:
        if not error.permanent:
            raise
        log.warning("refunds: order %s refund e-mail refused: %s", order.id, error)


def refundable(services: Services) -> list[Order]:
    """The operator's queue: paid orders that could not be provisioned and top-ups that could
    not be applied, not refunded, and refunds requested but not finished."""
    return sorted(
        services.store.search(
            lambda o: (o.status in ("provisioning_failed", "failed") and o.refund is None)
            or (o.refund is not None and o.status != "refunded")
        ),
        key=lambda o: o.created_at,
    )
