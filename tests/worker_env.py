"""What the tests give the worker: every required setting (loopback only) and a small catalogue."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TEST_ENV = {
    "SITE_URL": "http://127.0.0.1:9",
    "WORKER_URL": "http://127.0.0.1:9",
    "EPAY_OAUTH_URL": "http://127.0.0.1:9/oauth2/token",
    "EPAY_API_URL": "http://127.0.0.1:9",
    "EPAY_PAYMENT_JS_URL": "http://127.0.0.1:9/payform/payment-api.js",
    "EPAY_CLIENT_ID": "test",
    "EPAY_CLIENT_SECRET": "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG",
    "EPAY_TERMINAL_ID": "67e34d63-102f-4bd1-898e-370781d0074d",
    "ORDERS_DB": str(ROOT / "var" / "test-orders.json"),
    "ESIMACCESS_URL": "http://127.0.0.1:9",
    "ESIMACCESS_ACCESS_CODE": "test-access-code",
    "ESIMACCESS_SECRET_KEY": "test-secret-key",
    "AGGREGATOR_WEBHOOK_SECRET": "test-webhook-secret-0123456789abcdef",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "9",
    "SMTP_SECURITY": "none",
    "MAIL_FROM": "Qazaq eSIM <no-reply@qazaq-esim.com>",
    "SESSION_SECRET": "test-session-secret-0123456789abcdefghij",
    "FISCAL_PROVIDER": "none",
    "EMAIL_CHECK_DELIVERABILITY": "false",  # no DNS in the tests
}

TEST_CATALOG: dict[str, Any] = {
    "version": 1,
    "generated_at": "2026-11-25T10:00:00Z",
    "source": "esimaccess",
    "currency": "KZT",
    "destinations": [
        {
            "code": "TR", "type": "country", "countries": ["TR"], "names": None, "popular": True,
            "packages": [
                {"code": "TR-10GB-30D", "provider": "esimaccess", "provider_code": "CKH002",
                 "data_mb": 10240, "fair_use": None, "days": 30, "price_kzt": 4990,
                 "speed": "4G/5G", "hotspot": True,
                 "networks": [{"country": "TR", "operators": ["Turkcell", "Vodafone"]}]},
            ],
        },
        {
            "code": "europe", "type": "region", "countries": ["DE", "FR"],
            "names": {"kk": "Еуропа", "ru": "Европа", "en": "Europe"}, "popular": False,
            "packages": [
                {"code": "EU-UNL-7D", "provider": "esimaccess", "provider_code": "EUU7",
                 "data_mb": None, "fair_use": {"daily_high_speed_mb": 2048, "throttled_kbps": 512},
                 "days": 7, "price_kzt": 12900, "speed": "4G/5G", "hotspot": False,
                 "networks": [{"country": "DE", "operators": ["Telekom"]},
                              {"country": "FR", "operators": ["Orange"]}]},
            ],
        },
    ],
}


def coverage_env() -> dict[str, str]:
    """What a worker process started with an environment of its own needs for `make test` to
    measure it (coverage's subprocess patch passes its configuration this way)."""
    return {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
