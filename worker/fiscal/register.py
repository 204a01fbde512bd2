"""What the store asks of an online cash register, whichever one it is (Webkassa now, re:Kassa next).

Money is integer tiyn (1 tenge = 100 tiyn). Every call is idempotent on `Ticket.key`: after
`RegisterUnavailable` the caller repeats the identical call later, never with a new key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


class RegisterUnavailable(Exception):
    """The register did not answer or the outcome is unknown: repeat the same call later."""


class RegisterRefused(Exception):
    """The register refused the receipt (credentials, cashbox, data); an operator must act.

    Repeating may still succeed once the operator fixes the cause, so jobs keep retrying.
    """


@dataclass(frozen=True)
class Ticket:
    """One receipt to register: a sale, or the return of a sale."""

    key: str  # idempotency key, derived from the payment or refund id; never reused
    item_name: str  # the receipt line, e.g. "eSIM Turkey 10 GB, 30 days"
    amount_tiyn: int
    order_id: str
    link_id: str  # one id per order: groups its sale and return on one public page
    email: str | None = None  # the register mails its receipt itself when given


@dataclass(frozen=True)
class Receipt:
    """A registered receipt: what a return needs of its sale, and the links for the buyer."""

    key: str
    fiscal_number: str  # Webkassa CheckNumber
    registration_number: str  # the cashbox's registration number (RNM)
    registered_at: str  # ISO 8601 with offset
    total_tiyn: int
    offline: bool  # registered while the tax office's operator was unreachable
    shift_number: int | None = None
    ticket_url: str | None = None  # the OFD check page (what the buyer opens)
    print_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        return cls(**data)


class CashRegister(Protocol):
    async def sale(self, ticket: Ticket) -> Receipt:
        """Register a card sale; on a repeated key return the first receipt."""

    async def refund(self, ticket: Ticket, original: Receipt) -> Receipt:
        """Register the return of `original` for `ticket.amount_tiyn` (≤ the original total)."""

    async def close_shift(self) -> None:
        """Close the current shift (Z report); closing a closed shift is not an error."""
