"""The Webkassa sandbox's memory: tokens, cashboxes, shifts, receipts, the clock and the switches."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

LOCAL = timezone(timedelta(hours=5))  # Kazakhstan, one zone since 2024
SHIFT_LIMIT = timedelta(hours=24)
OFFLINE_LIMIT = timedelta(hours=72)

def num(value: Decimal) -> int | float:
    """Money as a JSON number: 4990, or 499.5."""
    return int(value) if value == value.to_integral_value() else float(value)


def local(dt: datetime) -> str:
    """Webkassa's `dd.MM.yyyy HH:mm:ss`, in Kazakhstan's time."""
    return dt.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M:%S")


DUPLICATE_MODES = ("14+data", "14", "replay")
FAILURE_MODES = (
    "http_502",             # HTML 502, nothing recorded
    "http_504",             # HTML 504, nothing recorded
    "timeout",              # hang `seconds`, then HTML 504, nothing recorded
    "commit_then_504",      # receipt recorded, reply lost as an HTML 504
    "commit_then_timeout",  # receipt recorded, hang `seconds`, then HTML 504
    "error",                # a business error `code` with HTTP 200
    "505",                  # code 505 with the AlternativeDomainNames header
)


@dataclass
class Faults:
    """Switches a test flips through POST /_sandbox/faults; defaults are the normal service."""

    duplicate_mode: str = "14+data"
    ofd_offline: bool = False
    latency_s: float = 0.0
    lookup_requires_shift: bool = True
    strict_returns: bool = True
    mail_fails: bool = False
    response_variant: str = "v"   # "v": Cashbox.RegistrationNumber, no Total; "flat": both flat
    lookup_shape: str = "history"  # "history": Number/IsOffline; "check": CheckNumber/OfflineMode
    void_token_on_authorize: bool = True
    down_hosts: list[str] = field(default_factory=list)
    alternative_domains: str = ""
    next_failures: list[dict[str, Any]] = field(default_factory=list)

    def take_failure(self, endpoint: str) -> dict[str, Any] | None:
        for i, failure in enumerate(self.next_failures):
            if failure.get("endpoint", "check").lower() == endpoint:
                failure["count"] = int(failure.get("count", 1)) - 1
                if failure["count"] <= 0:
                    del self.next_failures[i]
                return failure
        return None


@dataclass
class Shift:
    number: int
    open_date: datetime
    close_date: datetime | None = None
    document_count: int = 0
    check_order_number: int = 0
    sell: Decimal = Decimal(0)
    return_sell: Decimal = Decimal(0)
    offline: bool = False


@dataclass
class Receipt:
    cashbox: str
    key: str | None
    request_hash: str
    operation_type: int
    check_number: str
    shift_number: int
    date: datetime
    total: Decimal
    offline: bool
    link_id: str | None
    data: dict[str, Any]
    lines: list[str]
    returned: Decimal = Decimal(0)


@dataclass
class Cashbox:
    unique_number: str
    registration_number: str
    identity_number: str
    vat_payer: bool = False
    shifts: list[Shift] = field(default_factory=list)
    busy: bool = False
    report_number: int = 0
    offline_since: datetime | None = None

    def open_shift(self) -> Shift | None:
        if self.shifts and self.shifts[-1].close_date is None:
            return self.shifts[-1]
        return None


@dataclass
class Token:
    login: str
    expires_at: datetime
    void: bool = False


@dataclass
class State:
    api_key: str
    users: dict[str, str]
    cashboxes: dict[str, Cashbox]
    token_ttl: timedelta = timedelta(hours=24)
    clock_offset: timedelta = timedelta(0)
    tokens: dict[str, Token] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    offline_backlog: list[str] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def issue_token(self, login: str) -> str:
        if self.faults.void_token_on_authorize:
            for token in self.tokens.values():
                if token.login == login:
                    token.void = True
        value = secrets.token_hex(16)
        self.tokens[value] = Token(login, self.now() + self.token_ttl)
        return value

    def receipt(self, cashbox: str, key: str) -> Receipt | None:
        for receipt in self.receipts:
            if receipt.cashbox == cashbox and receipt.key == key:
                return receipt
        return None

    def new_check_number(self) -> str:
        while True:
            number = str(secrets.randbelow(9 * 10**9) + 10**9)  # 10 digits: within 9-13
            if all(r.check_number != number for r in self.receipts):
                return number


def default_state(api_key: str, login: str, password: str, cashbox: str) -> State:
    return State(
        api_key=api_key,
        users={login: password},
        cashboxes={
            cashbox: Cashbox(
                unique_number=cashbox,
                registration_number="032600010282",
                identity_number="910109301239",
            )
        },
    )
