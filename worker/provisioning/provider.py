"""The small provider interface the order flow talks to, with normalised types (spec §12).

eSIM Access (`esimaccess.py`) is the first implementation; a second aggregator (Airalo)
fits behind the same `Provider` protocol without touching the order flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """The aggregator refused or failed a call. `code` is the provider's error code, if any.

    `retryable` says whether asking again (with the same idempotency key) may succeed.
    The message carries no personal data, so it may go to logs and order timelines.
    """

    def __init__(self, message: str, *, code: str | None = None, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class TransientError(ProviderError):
    """Timeout, 5xx, malformed body, busy: the outcome is unknown, so retry with the same id."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, retryable=True)


class RejectedError(ProviderError):
    """A definite refusal (unknown package, wrong price, bad parameters): retrying will not help."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, retryable=False)


@dataclass(frozen=True)
class Network:
    country: str  # ISO alpha-2
    operators: tuple[str, ...]


@dataclass(frozen=True)
class Package:
    """A plan the aggregator sells. Prices are integers in 1/`price_scale` of `currency`."""

    code: str
    slug: str
    name: str
    location_code: str  # ISO alpha-2 for a country, the provider's region code otherwise
    countries: tuple[str, ...]
    wholesale_price: int
    retail_price: int
    currency: str
    price_scale: int
    data_bytes: int | None  # None = unlimited
    days: int
    daily: bool  # the volume is per day (a day pass), not for the whole validity
    throttled_kbps: int | None  # speed once the (daily) volume is used up; None = cut off
    speed: str
    networks: tuple[Network, ...]
    top_up: bool
    sms: bool
    # When the days start: "install" or "first_use" (first connection at the destination);
    # the storefront tells the buyer (plugins/catalogue/schema.py ACTIVATIONS).
    activation: str = "install"


@dataclass(frozen=True)
class ProviderOrder:
    transaction_id: str  # our idempotency key (the order id)
    order_no: str  # the aggregator's order number


@dataclass(frozen=True)
class ProviderProfile:
    """An allocated eSIM, as the aggregator reports it now."""

    provider_id: str  # eSIM Access esimTranNo: ICCIDs are reused, this is not
    order_no: str
    transaction_id: str
    iccid: str
    lpa: str
    smdp_address: str
    matching_id: str
    status: str  # the provider's own status words, e.g. "GOT_RESOURCE/RELEASED"
    used_bytes: int | None
    total_bytes: int | None
    expires_at: str | None  # ISO 8601 UTC: install by then
    # When the plan's days start counting: "install" or "first_use" (the first connection
    # abroad); None when the provider does not say.
    validity_starts: str | None = None
    days: int | None = None  # how long the plan runs once it starts


@dataclass(frozen=True)
class ProfileStatus:
    """A profile's state in the order flow's words; ``words`` are the provider's own, for
    logs, timelines and support (e.g. eSIM Access "IN_USE/ENABLED")."""

    words: str
    installed: bool  # it reached a phone, or carried data: never refundable as unused
    cancelled: bool  # cancelled at the aggregator (our refund, or its cabinet)
    gone: bool  # cancelled, revoked or expired: there is nothing left to cancel


@dataclass(frozen=True)
class TopUpResult:
    """The eSIM's totals after a top-up, as the aggregator reports them."""

    transaction_id: str
    total_bytes: int | None
    expires_at: str | None  # ISO 8601 UTC
    used_bytes: int | None


@dataclass(frozen=True)
class Usage:
    provider_id: str
    used_bytes: int
    total_bytes: int | None
    updated_at: str | None = None


class Provider(Protocol):
    """What the order flow needs from an aggregator. Every call may raise ProviderError."""

    name: str

    async def list_packages(self) -> list[Package]:
        """Every base plan on sale now."""
        ...

    async def order(
        self, transaction_id: str, package_code: str, *, since: str, period_days: int | None = None
    ) -> ProviderOrder:
        """Buy one eSIM. Idempotent: the same `transaction_id` never buys twice.

        `since` (ISO 8601 UTC, no later than the first attempt) bounds the search for an
        earlier order with this id when the provider reports it as a duplicate.
        `period_days` orders a day pass for that many days.
        """
        ...

    async def query(self, order_no: str) -> ProviderProfile | None:
        """The order's profile once allocated; None while it is still pending."""
        ...

    async def cancel(self, provider_id: str) -> None:
        """Cancel an unused profile (the aggregator refunds it)."""
        ...

    async def list_topups(self) -> list[Package]:
        """Every top-up package on sale now (each fits the base plans of its location)."""
        ...

    async def topup(
        self, provider_id: str, package_code: str, transaction_id: str, order_no: str
    ) -> TopUpResult:
        """Add a top-up package to a profile. Idempotent: the same `transaction_id` never adds
        twice. `order_no` (the profile's order) finds the totals when the provider reports the
        id as a duplicate. RejectedError when the eSIM expired or its plan takes no top-ups."""
        ...

    async def status(self, order_no: str) -> ProfileStatus | None:
        """The profile's state even when cancelled or expired (refunds, reconciliation,
        usage); None while the order is still allocating."""
        ...

    async def usage(self, provider_ids: list[str]) -> list[Usage]:
        """Data used per profile, as fresh as the aggregator has it."""
        ...

    async def balance(self) -> int:
        """The prepaid balance every order is paid from, in 1/10000 USD (at zero every
        delivery stops)."""
        ...

    async def save_webhook(self, url: str) -> None:
        """Ask the aggregator to post its notifications to `url` (it checks the URL answers)."""
        ...

    async def aclose(self) -> None: ...
