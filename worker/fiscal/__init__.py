"""Fiscal receipts: the cash-register interface, its Webkassa implementation and the receipt jobs."""

from __future__ import annotations

import httpx

from worker.config import Settings

from .register import CashRegister
from .webkassa import Webkassa


def make_register(settings: Settings, http: httpx.AsyncClient) -> CashRegister | None:
    """The configured register, or None when FISCAL_PROVIDER=none (receipts are off)."""
    if settings.fiscal_provider == "webkassa":
        return Webkassa(
            settings.webkassa_url,
            str(settings.webkassa_api_key),
            settings.webkassa_login,
            str(settings.webkassa_password),
            settings.webkassa_cashbox,
            http,
        )
    return None
