"""Buying the eSIM from the wholesale aggregator and following it until it is ready."""

from __future__ import annotations

import httpx

from worker.config import Settings

from .esimaccess import EsimAccess
from .provider import Provider


def open_provider(settings: Settings, http: httpx.AsyncClient | None = None) -> Provider:
    """The aggregator client ESIM_PROVIDER names, configured from the settings.

    ``http`` is the worker's shared client; command-line tools pass none."""
    if settings.esim_provider == "esimaccess":
        return EsimAccess(
            settings.esimaccess_url,
            settings.esimaccess_access_code,
            str(settings.esimaccess_secret_key),
            http=http,
        )
    raise ValueError(f"ESIM_PROVIDER={settings.esim_provider!r} has no client (README, Settings)")
