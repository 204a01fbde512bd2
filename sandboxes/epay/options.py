"""The sandbox's switches: credentials, terminals and the fault-injection knobs of spec §10."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Published test credentials (spec §1.1).
TEST_CLIENT_ID = "test"
TEST_CLIENT_SECRET = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG"
TEST_TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"

CALLBACK_MODES = ("normal", "duplicate", "late", "lost", "early")
TERMINAL_MODES = ("sms", "dms")
TOKEN_ERROR_STYLES = ("oauth", "code", "empty")
UNKNOWN_CARD_OUTCOMES = ("decline", "approve")
POST_LINK_SOURCES = ("token", "payment_object")
PARTIAL_REFUND_STATUSES = ("CHARGE", "REFUND")


@dataclass
class Options:
    """Everything the sandbox can be told, by CLI flags or `POST /_sandbox/options`."""

    client_id: str = TEST_CLIENT_ID
    client_secret: str = TEST_CLIENT_SECRET
    # terminal UUID -> "sms" (one-step, the documented default) or "dms" (two-step)
    terminals: dict[str, str] = field(default_factory=lambda: {TEST_TERMINAL: "sms"})
    merchant_name: str = "Qazaq eSIM"
    # Where the sandbox says it lives (payment-api.js pageUrL); empty: the request's base URL.
    public_url: str = ""
    # Token: lifetime and whether `expires_in` is sent as a JSON number or a string (§2.1).
    expires_in: int = 7200
    expires_in_as_string: bool = False
    token_error_style: str = "oauth"
    # Callback delivery (§4.5): normal = after the browser redirect; early = before it.
    callback: str = "normal"
    duplicates: int = 2
    late_seconds: float = 5.0
    retries: int = 0
    retry_interval: float = 1.0
    callback_timeout: float = 10.0
    # Which postLink wins when both the token request and the paymentObject carry one.
    post_link_source: str = "token"
    # Check-status: HTTP status for resultCode != 100 (§5.2), and how long a new
    # transaction answers 107 "in progress".
    error_http_status: int = 200
    new_seconds: float = 0.0
    # A Luhn-valid card that is neither a test card nor a magic card.
    unknown_cards: str = "decline"
    # statusName after a partial refund (UNCONFIRMED in §6).
    partial_refund_status: str = "CHARGE"

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update; raise ValueError naming the bad key and the allowed values."""
        known = {f.name: f for f in fields(self)}
        for key in changes:
            if key not in known:
                raise ValueError(f"unknown option {key!r}; known options: {', '.join(known)}")
        candidate = Options(**{**asdict(self), **changes})
        candidate.check()
        for key in changes:
            setattr(self, key, getattr(candidate, key))

    def check(self) -> None:
        """Raise ValueError for a value the sandbox cannot act on, naming it and the fix."""
        _choice("callback", self.callback, CALLBACK_MODES)
        _choice("token_error_style", self.token_error_style, TOKEN_ERROR_STYLES)
        _choice("unknown_cards", self.unknown_cards, UNKNOWN_CARD_OUTCOMES)
        _choice("post_link_source", self.post_link_source, POST_LINK_SOURCES)
        _choice("partial_refund_status", self.partial_refund_status, PARTIAL_REFUND_STATUSES)
        if self.error_http_status not in (200, 400):
            raise ValueError(f"error_http_status={self.error_http_status!r} must be 200 or 400")
        if not isinstance(self.terminals, dict) or not self.terminals:
            raise ValueError("terminals must be an object {terminal UUID: 'sms' | 'dms'}")
        for terminal, mode in self.terminals.items():
            _choice(f"terminals[{terminal}]", mode, TERMINAL_MODES)
        for name in ("expires_in", "duplicates", "retries"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}={value!r} must be a whole number >= 0")
        for name in ("late_seconds", "retry_interval", "callback_timeout", "new_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}={value!r} must be a number of seconds >= 0")
        if not isinstance(self.expires_in_as_string, bool):
            raise TypeError("expires_in_as_string must be true or false")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} must be one of {', '.join(allowed)}")
