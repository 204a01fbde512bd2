"""eSIM profiles and orders as the sandbox keeps them, and how they look in esim/query."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SMDP_HOST = "rsp-eu.simlessly.com"
DAY = 86400.0
LIVE = ("GOT_RESOURCE", "IN_USE", "USED_UP", "SUSPENDED")


def stamp(moment: float | None) -> str | None:
    """Times in answers: UTC written with +0000 (spec §8)."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def luhn_digit(digits: str) -> str:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_iccid() -> str:
    body = "8986" + "".join(secrets.choice("0123456789") for _ in range(15))
    return body + luhn_digit(body)


@dataclass
class Profile:
    esim_tran_no: str
    order_no: str
    transaction_id: str
    package: dict[str, Any]
    period: int  # periodNum of a day pass, 1 otherwise
    price_paid: int
    created: float
    iccid: str = field(default_factory=new_iccid)
    matching_id: str = field(default_factory=lambda: secrets.token_hex(16).upper())
    qr_id: str = field(default_factory=lambda: secrets.token_hex(16))
    imsi: str = field(
        default_factory=lambda: "454" + "".join(secrets.choice("0123456789") for _ in range(12))
    )
    puk: str = field(
        default_factory=lambda: "".join(secrets.choice("0123456789") for _ in range(8))
    )
    esim_status: str = "GETTING_RESOURCE"
    smdp_status: str = "RELEASED"
    eid: str = ""
    installed_at: float | None = None
    activated_at: float | None = None
    expires_at: float = 0.0
    total_volume: int = 0
    total_duration: int = 0
    used: int = 0
    usage_updated: float | None = None
    status_before_suspend: str = ""
    thresholds_sent: set[float] = field(default_factory=set)
    validity_warned: bool = False
    sms: list[str] = field(default_factory=list)
    topups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ac(self) -> str:
        return f"LPA:1${SMDP_HOST}${self.matching_id}"

    def package_entry(
        self, package: dict[str, Any], transaction_id: str, esim_tran_no: str, created: float
    ) -> dict[str, Any]:
        return {
            "packageName": package["name"],
            "packageCode": package["packageCode"],
            "slug": package["slug"],
            "duration": package["duration"],
            "volume": package["volume"],
            "locationCode": package["locationCode"],
            "createTime": stamp(created),
            "esimTranNo": esim_tran_no,
            "transactionId": transaction_id,
        }

    def ids(self) -> dict[str, Any]:
        return {
            "iccid": self.iccid,
            "orderNo": self.order_no,
            "esimTranNo": self.esim_tran_no,
            "transactionId": self.transaction_id,
        }

    def as_json(self, base_url: str) -> dict[str, Any]:
        """One row of esim/query's esimList (spec §5)."""
        package = self.package
        return {
            "esimTranNo": self.esim_tran_no,
            "orderNo": self.order_no,
            "transactionId": self.transaction_id,
            "imsi": self.imsi,
            "iccid": self.iccid,
            "msisdn": "",
            "eid": self.eid,
            "pin": "8888",
            "puk": self.puk,
            "apn": "plus",
            "ac": self.ac,
            "qrCodeUrl": f"{base_url}/p/{self.qr_id}.png",
            "shortUrl": f"{base_url}/s/{self.qr_id[:10]}",
            "smdpStatus": self.smdp_status,
            "esimStatus": self.esim_status,
            "activeType": package["activeType"],
            "dataType": package["dataType"],
            "smsStatus": package["smsStatus"],
            "activateTime": stamp(self.activated_at),
            "installationTime": stamp(self.installed_at),
            "expiredTime": stamp(self.expires_at),
            "totalVolume": self.total_volume,
            "totalDuration": self.total_duration,
            "durationUnit": "DAY",
            "orderUsage": self.used,
            "ipExport": package["ipExport"],
            "supportTopUpType": package["supportTopUpType"],
            "fupPolicy": package["fupPolicy"],
            "packageList": [
                self.package_entry(package, self.transaction_id, self.esim_tran_no, self.created),
                *self.topups,
            ],
        }


@dataclass
class Order:
    order_no: str
    transaction_id: str
    created: float
    ready_at: float
    amount: int
    profiles: list[Profile]
    allocated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "orderNo": self.order_no,
            "transactionId": self.transaction_id,
            "createTime": stamp(self.created),
            "amount": self.amount,
            "allocated": self.allocated,
            "profiles": [
                {
                    **p.ids(),
                    "packageCode": p.package["packageCode"],
                    "esimStatus": p.esim_status,
                    "smdpStatus": p.smdp_status,
                    "ac": p.ac,
                    "orderUsage": p.used,
                    "totalVolume": p.total_volume,
                    "expiredTime": stamp(p.expires_at),
                    "sms": p.sms,
                }
                for p in self.profiles
            ],
        }
