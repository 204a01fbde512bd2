"""Activation codes (GSMA SGP.22, spec §10): parse the LPA string and build install links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

IOS_INSTALL_BASE = "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="


class BadActivationCode(ValueError):
    """The aggregator's `ac` is not an SGP.22 activation code."""


@dataclass(frozen=True)
class ActivationCode:
    lpa: str  # always with the "LPA:" prefix, as phones expect it in a QR
    smdp_address: str
    matching_id: str


def parse_lpa(ac: str) -> ActivationCode:
    """Split `LPA:1$<SM-DP+>$<matching id>[$...]`; the prefix may be missing, extra fields are ignored."""
    raw = ac.strip()
    body = raw[4:] if raw[:4].upper() == "LPA:" else raw
    fields = body.split("$")
    if len(fields) < 3 or fields[0] != "1" or not fields[1] or not fields[2]:
        # The code itself is personal data: name the shape, not the value.
        raise BadActivationCode(
            f"activation code has {len(fields)} '$'-separated fields, expected 'LPA:1$host$id'"
        )
    return ActivationCode(lpa=f"LPA:{body}", smdp_address=fields[1], matching_id=fields[2])


def ios_install_url(lpa: str) -> str:
    """The iOS 17.4+ one-tap install link for this profile."""
    return IOS_INSTALL_BASE + quote(lpa, safe="")
