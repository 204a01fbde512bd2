"""The sandbox's start-up options and run-time switches (README, "Switches", explains each)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

SignatureMode = Literal["off", "if-present", "required"]
DuplicateMode = Literal["same-order", "310402"]
PendingStyle = Literal["200010", "empty"]
RateLimitStyle = Literal["off", "429", "envelope"]
WebhookMode = Literal["normal", "drop", "duplicate", "reorder", "delay"]
MessageField = Literal["errorMsg", "errorMessage"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "signature_mode": ("off", "if-present", "required"),
    "unknown_key_code": ("101003", "401001"),
    "duplicate_mode": ("same-order", "310402"),
    "pending_style": ("200010", "empty"),
    "rate_limit_style": ("off", "429", "envelope"),
    "webhook_mode": ("normal", "drop", "duplicate", "reorder", "delay"),
    "message_field": ("errorMsg", "errorMessage"),
}


class OptionError(ValueError):
    """A switch has an unknown name or a value it cannot take; the message names both."""


@dataclass
class Options:
    """Everything that changes how the sandbox answers; `/_sandbox/config` edits it live."""

    access_code: str = "demoAccessCode"
    secret_key: str = "demoSecretKey"
    # The spec's default (§11.3): the vendor's quick-start sends the access code alone, so an
    # unsigned call passes and a wrong signature is still refused. Our own tests ask `required`.
    signature_mode: SignatureMode = "if-present"
    # The vendor's own script signs with the access code when it has no secret (spec §3).
    signature_key_fallback: bool = False
    timestamp_window_s: float = 300.0
    unknown_key_code: str = "101003"
    # Shifts the sandbox's clock for the timestamp check only (fault "clock skew").
    clock_skew_s: float = 0.0
    balance: int = 10_000_000_000  # 1/10000 USD: one million dollars, enough for any benchmark
    seed: int = 20261125
    allocation_delay_s: float = 5.0
    allocation_stuck: bool = False
    duplicate_mode: DuplicateMode = "same-order"
    pending_style: PendingStyle = "200010"
    # Package codes refused with 200011; "*" refuses every package.
    out_of_stock: list[str] = field(default_factory=list)
    rate_limit_style: RateLimitStyle = "off"
    rate_limit_per_s: int = 8
    webhook_mode: WebhookMode = "normal"
    webhook_delay_s: float = 2.0
    webhook_timeout_s: float = 5.0
    success_as_string: bool = False
    message_field: MessageField = "errorMsg"
    # usage/query answers `obj` as a bare array instead of {"esimUsageList": [...]} (spec §5).
    usage_bare_array: bool = False
    # New profiles take the ICCID of an earlier cancelled or expired one (spec §5: reused).
    iccid_reuse: bool = False

    def update(self, changes: dict[str, Any]) -> None:
        """Apply switches from a JSON object; nothing changes if any of them is bad."""
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise OptionError(f"unknown switch {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if isinstance(current, bool):
                ok = isinstance(value, bool)
            elif isinstance(current, (int, float)) and not isinstance(current, bool):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                value = type(current)(value) if ok else value
            elif isinstance(current, list):
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            else:
                ok = isinstance(value, str)
            if ok and name in _CHOICES:
                ok = value in _CHOICES[name]
            if not ok:
                allowed = _CHOICES.get(name) or (type(current).__name__,)
                raise OptionError(
                    f"switch {name}={value!r} is invalid; expected {', '.join(allowed)}"
                )
            staged[name] = value
        for name, value in staged.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        shown["secret_key"] = "*" * len(self.secret_key)
        return shown
