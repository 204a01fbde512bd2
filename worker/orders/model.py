"""The order: what the buyer bought, what happened to their money, and what they received.

An order is stored as a plain dict (TinyDB document) and handled as this dataclass.
Amounts are whole tenge (KZT). Times are ISO 8601 strings in UTC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, get_args

Status = Literal[
    "awaiting_payment",
    "paid",
    "provisioning",
    "delivered",
    "payment_failed",
    "provisioning_failed",
    "refunded",
    # A top-up (issue 12; `topup_of` set): paid → applying → applied, or failed (refundable).
    "applying",
    "applied",
    "failed",
]

Lang = Literal["kk", "ru", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)

# Orders whose payment Epay may still confirm: after a decline the buyer may try again on
# the payform with the same invoice.
SETTLEABLE: tuple[Status, ...] = ("awaiting_payment", "payment_failed")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Payment:
    """What Epay confirmed. Never more card data than the mask."""

    transaction_id: str  # Epay `id`: the :id of charge, cancel and refund
    reference: str | None = None  # RRN
    approval_code: str | None = None
    card_mask: str | None = None
    card_type: str | None = None
    status_name: str = "CHARGE"
    paid_at: str = field(default_factory=utc_now)


@dataclass
class Profile:
    """The eSIM bought from the aggregator for this order."""

    esim_tran_no: str
    iccid: str
    lpa: str  # LPA:1$<SM-DP+>$<matching id>
    smdp_address: str
    activation_code: str  # the matching id
    provider_order_no: str
    expires_at: str | None = None
    total_bytes: int | None = None
    used_bytes: int | None = None
    usage_checked_at: str | None = None
    installed: bool = False
    validity_starts: str | None = None  # "install", "first_use" or unknown (None)
    plan_days: int | None = None


@dataclass
class Refund:
    amount: int
    reason: str
    operator: str
    requested_at: str = field(default_factory=utc_now)
    profile_cancelled_at: str | None = None
    epay_refunded_at: str | None = None
    # Support confirmed the delivered profile does not work (offer 5.4); set by the operator.
    non_functional: bool = False
    # When a process last sent (or is sending) the Epay refund: a lease against a second
    # sender, and the sign that Epay must be asked before sending again (worker/refunds.py).
    epay_attempted_at: str | None = None


@dataclass
class Order:
    id: str  # the Epay invoiceId: digits only, 6-15 long; our order number
    token: str  # >= 128 random bits; the only thing that opens the order
    status: Status
    lang: Lang
    email: str | None  # None once personal data is purged
    phone: str | None  # E.164
    package_code: str
    destination: str  # catalogue destination code (ISO alpha-2 or region slug)
    package_title: str  # shown on the order page and the receipt, e.g. "Turkey 10 GB, 30 days"
    amount: int  # whole tenge, from the catalogue
    currency: str = "KZT"
    secret_hash: str = ""  # per-order secret sent with the Epay token request, echoed in callbacks
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    failure_reason: str | None = None
    payment: Payment | None = None
    # The last verified Epay callback: kind, code, reason, reason_code, transaction_id, at.
    # Never card data. Written by the callback handler, read by the confirm_payment job.
    epay_callback: dict[str, Any] | None = None
    # Set when awaiting_payment was given up (Epay never heard of a payment): no more polling.
    abandoned_at: str | None = None
    # Provisioning: our idempotency key at the aggregator and its order number
    provider_transaction_id: str | None = None
    provider_order_no: str | None = None
    provisioning_started_at: str | None = None
    profile: Profile | None = None
    email_sent_at: str | None = None
    email_message_id: str | None = None
    email_requested_at: str | None = None  # last "send the e-mail again" (rate limit)
    refund: Refund | None = None
    fiscal: dict[str, Any] = field(default_factory=dict)  # provider's receipt ids per operation
    # A top-up is an order of its own (its invoice, payment, receipt, refund) for the eSIM of
    # the order `topup_of`; `topup` holds what it adds and, once applied, the new totals.
    topup_of: str | None = None
    topup: dict[str, Any] | None = None
    topups: list[str] = field(default_factory=list)  # the eSIM's order: its top-ups' ids
    # Usage alerts (80 %, 100 %, last day) sent, one key each per top-up period; off: the
    # buyer unsubscribed from them.
    usage_alerts: list[str] = field(default_factory=list)
    alerts_off: bool = False
    timeline: list[dict[str, str]] = field(default_factory=list)

    def log(self, event: str, detail: str = "") -> None:
        """Add a timeline entry: what happened, no personal data."""
        self.timeline.append({"at": utc_now(), "event": event, "detail": detail})
        self.updated_at = utc_now()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("payment") is not None:
            values["payment"] = Payment(**values["payment"])
        if values.get("profile") is not None:
            values["profile"] = Profile(**values["profile"])
        if values.get("refund") is not None:
            values["refund"] = Refund(**values["refund"])
        return cls(**values)
