"""What a card typed on the payform does: the spec's test cards (§1.1) and magic decline cards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

APPROVED = 0


@dataclass(frozen=True)
class SpecCard:
    pan: str
    # (expiry MM/YY, CVC) pairs: the current revision of the docs first, then older ones.
    revisions: tuple[tuple[str, str], ...]
    reason_code: int  # 0 approves
    note: str


@dataclass(frozen=True)
class Outcome:
    reason_code: int
    reason: str
    status: str  # statusName when declined; "" when approved (AUTH or CHARGE by terminal)

    @property
    def approved(self) -> bool:
        return self.reason_code == APPROVED


# Decline texts for the reason codes of §5.3.
REASONS: dict[int, tuple[str, str]] = {
    455: ("3-D Secure unavailable or wrong card number", "REJECT"),
    457: ("Wrong card expiry date or CVC", "REJECT"),
    465: ("Card is blocked", "REJECT"),
    478: ("Card has expired", "REJECT"),
    483: ("Card reported stolen", "REJECT"),
    484: ("Insufficient funds", "REJECT"),
    486: ("Internet purchases are disabled on this card", "REJECT"),
    488: ("Amount exceeds the card limit", "REJECT"),
    493: ("Issuer unavailable, try again later", "FAILED"),
    499: ("3-D Secure password wrong or not entered", "3D"),
}

SPEC_CARDS: tuple[SpecCard, ...] = (
    SpecCard("4405639704015096", (("01/27", "321"), ("01/25", "815")), APPROVED, "Visa, approves"),
    SpecCard("5522042705066736", (("01/27", "775"), ("01/25", "525")), APPROVED,
             "MasterCard, approves"),
    SpecCard("377514500004820", (("01/28", "0198"), ("01/25", "4169")), APPROVED,
             "Amex, approves"),
    SpecCard("4003032704547597", (("09/20", "170"),), 465, "Visa, locked: declines"),
    SpecCard("5578342710750560", (("09/20", "254"),), 465, "MasterCard, locked: declines"),
    SpecCard("377514500000794", (("09/23", "1687"),), 465, "Amex, withdrawal-only: declines"),
)


def luhn_valid(pan: str) -> bool:
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable: one check digit always fits")


# Magic cards: any future expiry, any CVC; the reason code is readable in the PAN.
MAGIC_CARDS: dict[str, int] = {
    _with_check_digit(f"400000000000{code}"): code for code in (484, 457, 465, 478, 483, 486,
                                                                 488, 493, 499)
}


def card_type(pan: str) -> str:
    if pan.startswith("4"):
        return "VISA"
    if pan[:2] in ("34", "37"):
        return "AMEX"
    if pan[:1] == "5" or pan[:2] == "22":
        return "MasterCard"
    return "UNKNOWN"


def card_mask(pan: str) -> str:
    """First 6 + `...` + last 4, the style of the real postLink (§4.2)."""
    return f"{pan[:6]}...{pan[-4:]}"


def expired(expiry: str, today: dt.date) -> bool:
    month, year = int(expiry[:2]), 2000 + int(expiry[3:])
    return (year, month) < (today.year, today.month)


def decide(pan: str, expiry: str, cvc: str, today: dt.date, approve_unknown: bool) -> Outcome:
    """The gateway's answer for a well-formed card (the form has checked the formats)."""
    for card in SPEC_CARDS:
        if card.pan == pan:
            if (expiry, cvc) not in card.revisions:
                return _decline(457)
            return _decline(card.reason_code) if card.reason_code else Outcome(0, "success", "")
    if pan in MAGIC_CARDS:
        return _decline(MAGIC_CARDS[pan])
    if expired(expiry, today):
        return _decline(478)
    return Outcome(0, "success", "") if approve_unknown else _decline(455)


def _decline(code: int) -> Outcome:
    reason, status = REASONS[code]
    return Outcome(code, reason, status)
