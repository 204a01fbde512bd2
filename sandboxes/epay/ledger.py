"""The sandbox's memory: issued tokens, payment sessions and transactions with their state machine."""

from __future__ import annotations

import datetime as dt
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KZ = dt.timezone(dt.timedelta(hours=5))
# statusID is a numeric string whose mapping is UNCONFIRMED (§5.2); these values are ours.
STATUS_IDS = {"NEW": "1", "AUTH": "2", "CHARGE": "3", "CANCEL": "4", "CANCEL_OLD": "5",
              "REFUND": "6", "REJECT": "7", "FAILED": "8", "3D": "9"}


class OperationError(Exception):
    """A charge, cancel or refund the state machine refuses; the message says why."""


@dataclass
class Token:
    access_token: str
    scope: str
    expires_at: float
    # Payment grant only (§2.1): the session the token is bound to.
    invoice_id: str | None = None
    amount: Decimal | None = None
    currency: str = "KZT"
    terminal: str = ""
    secret_hash: str = ""
    post_link: str = ""
    failure_post_link: str = ""

    def alive(self) -> bool:
        return time.time() < self.expires_at


@dataclass
class Transaction:
    id: str
    invoice_id: str
    terminal: str
    amount: Decimal  # authorised amount
    currency: str
    status: str
    reason_code: int
    reason: str
    created: dt.datetime
    post_link: str
    failure_post_link: str
    secret_hash: str
    card_mask: str = ""
    card_type: str = ""
    name: str = ""
    payment: dict[str, str] = field(default_factory=dict)  # the decoded paymentObject
    reference: str = ""
    approval_code: str = ""
    int_reference: str = ""
    charged: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    refunds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.reason_code == 0

    def charge(self, amount: Decimal | None) -> None:
        if self.status != "AUTH":
            raise OperationError(f"charge needs status AUTH, the transaction is {self.status}")
        amount = self.amount if amount is None else amount
        if not 0 < amount <= self.amount:
            raise OperationError(f"charge amount {amount} must be above 0 and at most {self.amount}")
        self.charged = amount
        self.status = "CHARGE"

    def cancel(self) -> None:
        if self.status != "AUTH":
            raise OperationError(f"cancel needs status AUTH, the transaction is {self.status}")
        self.status = "CANCEL"

    def lapse(self) -> None:
        """The hold runs out unclaimed (the real lifetime of an AUTH is UNCONFIRMED, §6.1)."""
        if self.status != "AUTH":
            raise OperationError(f"only a hold (AUTH) can lapse, the transaction is {self.status}")
        self.status = "CANCEL_OLD"

    def refund(self, amount: Decimal | None, external_id: str, partial_status: str) -> None:
        left = self.charged - self.refunded
        refundable = self.status == "CHARGE" or (self.status == "REFUND" and left > 0)
        if not refundable:
            raise OperationError(f"refund needs status CHARGE, the transaction is {self.status}")
        amount = left if amount is None else amount
        if amount < 10:
            raise OperationError(f"refund amount {amount} is below the minimum of 10 KZT")
        if amount > left:
            raise OperationError(
                f"refund amount {amount} exceeds what is left to refund ({left} of {self.charged})")
        self.refunded += amount
        self.refunds.append({"amount": _number(amount), "externalID": external_id,
                             "at": dt.datetime.now(KZ).isoformat()})
        self.status = "REFUND" if self.refunded == self.charged else partial_status

    def callback_body(self) -> dict[str, Any]:
        """The postLink / failurePostLink JSON body (§4.2)."""
        p = self.payment
        return {
            "id": self.id,
            "dateTime": self.created.isoformat(timespec="microseconds"),
            "invoiceId": self.invoice_id,
            "invoiceIdAlt": p.get("invoiceIdAlt", ""),
            "amount": _number(self.amount),
            "currency": self.currency,
            "terminal": self.terminal,
            "accountId": p.get("accountId", ""),
            "description": p.get("description", ""),
            "language": p.get("language", "rus"),
            "cardMask": self.card_mask,
            "cardType": self.card_type,
            "issuer": "HALYK BANK" if self.card_mask else "",
            "issuerBankCountry": "KZ" if self.card_mask else None,
            "reference": self.reference or None,
            "approvalCode": self.approval_code or None,
            "cardId": None,
            "secure": "yes" if self.approved else "no",
            "secureDetails": None,
            "code": "ok" if self.approved else "error",
            "reason": self.reason,
            "reasonCode": self.reason_code,
            "name": self.name,
            "email": p.get("email") or None,
            "phone": p.get("phone") or None,
            "ip": "127.0.0.1", "ipCountry": "KZ", "ipCity": "", "ipRegion": "", "ipDistrict": "",
            "ipLatitude": 0, "ipLongitude": 0,
            "data": p.get("data", ""),
            "secret_hash": self.secret_hash,
        }

    def status_view(self) -> dict[str, Any]:
        """`transaction` of the check-status answer (§5.2): its own casing and types."""
        p = self.payment
        return {
            "id": self.id,
            "createdDate": self.created.isoformat(timespec="microseconds"),
            "invoiceID": self.invoice_id,
            "amount": _number(self.charged if self.charged else self.amount),
            "amountBonus": 0,
            "payoutAmount": _number(self.refunded),
            "orgAmount": _number(self.amount),
            "approvalCode": self.approval_code,
            "data": p.get("data", ""),
            "currency": self.currency,
            "terminal": processing_terminal(self.terminal),
            "terminalID": self.terminal,
            "accountID": p.get("accountId", ""),
            "description": p.get("description", ""),
            "language": p.get("language", "rus"),
            "cardMask": self.card_mask,
            "cardType": self.card_type,
            "issuer": "HALYK BANK" if self.card_mask else "",
            "reference": self.reference,
            "reason": self.reason,
            "reasonCode": str(self.reason_code),
            "intReference": self.int_reference,
            "secure": self.approved,
            "secureDetails": "",
            "statusID": STATUS_IDS.get(self.status, "0"),
            "statusName": self.status,
            "name": self.name,
            "email": p.get("email", ""),
            "phone": p.get("phone", ""),
            "cardID": "",
            "xlsRRN": self.reference,
            "ip": "127.0.0.1", "ipCountry": "KZ", "ipCity": "", "ipRegion": "", "ipDistrict": "",
            "ipLatitude": 0, "ipLongitude": 0,
        }

    def legacy_view(self) -> dict[str, Any]:
        """`GET /operation/{invoiceId}` (§5.4): postLink-shaped, `code` holds the status."""
        body = self.callback_body()
        body.pop("secret_hash")
        body.update(code=self.status, reason="Successfully" if self.approved else self.reason)
        return body


def processing_terminal(terminal_uuid: str) -> str:
    """The 8-digit processing terminal number the status API shows next to the UUID."""
    return "9812" + str(uuid.UUID(terminal_uuid).int % 10_000).zfill(4) if _is_uuid(
        terminal_uuid) else "98120001"


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _number(value: Decimal) -> int | float:
    """Amounts are JSON numbers in tenge: whole numbers stay integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


class Ledger:
    """All state; one event loop owns it, so no locks."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.transactions: dict[str, Transaction] = {}
        self.by_invoice: dict[str, list[str]] = {}
        # terminal -> last 6 digits -> the invoice that claimed them (§3.2 uniqueness)
        self.suffixes: dict[str, dict[str, str]] = {}
        self.deliveries: list[dict[str, Any]] = []

    def issue(self, token: Token) -> None:
        self.tokens[token.access_token] = token

    def bearer(self, authorization: str) -> Token | None:
        scheme, _, value = authorization.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return token if token and token.alive() else None

    def claim_suffix(self, terminal: str, invoice_id: str) -> str | None:
        """Claim the invoice's last 6 digits; answer the other invoice holding them, if any."""
        owners = self.suffixes.setdefault(terminal, {})
        holder = owners.setdefault(invoice_id[-6:], invoice_id)
        return holder if holder != invoice_id else None

    def add(self, tx: Transaction) -> None:
        self.transactions[tx.id] = tx
        self.by_invoice.setdefault(tx.invoice_id, []).append(tx.id)

    def latest(self, invoice_id: str) -> Transaction | None:
        ids = self.by_invoice.get(invoice_id)
        return self.transactions[ids[-1]] if ids else None

    def paid(self, invoice_id: str) -> Transaction | None:
        """The invoice's approved transaction, if one exists (an invoice is paid once)."""
        for tx_id in self.by_invoice.get(invoice_id, []):
            if self.transactions[tx_id].approved:
                return self.transactions[tx_id]
        return None


def new_transaction(token: Token, payment: dict[str, str], status: str, reason_code: int,
                    reason: str, post_link: str, failure_post_link: str) -> Transaction:
    assert token.invoice_id is not None and token.amount is not None
    approved = reason_code == 0
    return Transaction(
        id=str(uuid.uuid4()), invoice_id=token.invoice_id, terminal=token.terminal,
        amount=token.amount, currency=token.currency, status=status,
        reason_code=reason_code, reason=reason, created=dt.datetime.now(KZ),
        post_link=post_link, failure_post_link=failure_post_link,
        secret_hash=token.secret_hash, payment=payment,
        reference=digits(12) if approved else "", approval_code=digits(6) if approved else "",
        int_reference=digits(16) if approved else "",
        charged=token.amount if status == "CHARGE" else Decimal(0),
    )
