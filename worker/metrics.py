"""The worker's event figures (Prometheus, prometheus-client), counted where events happen.

A leaf module: the store, the reconciler, the provisioning runner and the HTTP clients
import it; `worker/monitor.py` adds the figures read from the store at each scrape and
serves `GET /metrics`.
"""

from __future__ import annotations

import httpx
from prometheus_client import Counter, Histogram

from worker.config import Settings

EXTERNAL_ERRORS = Counter(
    "qazaq_external_errors", "Failed calls to a partner, by service and kind of failure",
    ["service", "kind"], registry=None,
)
RECONCILER_PASSES = Counter(
    "qazaq_reconciler_passes", "Passes of the payment reconciler, by outcome", ["outcome"],
    registry=None,
)
STORE_WRITE_SECONDS = Histogram(
    "qazaq_store_write_seconds", "Durable writes of the order store (one group commit each)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), registry=None,
)
PAYMENT_TO_DELIVERY_SECONDS = Histogram(
    "qazaq_payment_to_delivery_seconds", "From Epay's payment to the eSIM profile stored",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 900, 3600), registry=None,
)
EVENT_METRICS = (EXTERNAL_ERRORS, RECONCILER_PASSES, STORE_WRITE_SECONDS,
                 PAYMENT_TO_DELIVERY_SECONDS)


def partner_hosts(settings: Settings) -> dict[str, str]:
    """host:port -> service name, for the calls of the shared HTTP client."""
    hosts = {httpx.URL(settings.epay_oauth_url).netloc.decode(): "epay",
             httpx.URL(settings.epay_api_url).netloc.decode(): "epay",
             httpx.URL(settings.esimaccess_url).netloc.decode(): "aggregator"}
    if settings.webkassa_url:
        hosts[httpx.URL(settings.webkassa_url).netloc.decode()] = "cash_register"
    return hosts


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts timeouts, unreachable partners and their 5xx/429 answers in EXTERNAL_ERRORS."""

    def __init__(self, service: str | dict[str, str], inner: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        self.service = service
        self.inner = inner or httpx.AsyncHTTPTransport()

    def _name(self, request: httpx.Request) -> str:
        if isinstance(self.service, str):
            return self.service
        return self.service.get(request.url.netloc.decode(), "other")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TimeoutException:
            EXTERNAL_ERRORS.labels(self._name(request), "timeout").inc()
            raise
        except httpx.TransportError:
            EXTERNAL_ERRORS.labels(self._name(request), "unreachable").inc()
            raise
        if response.status_code >= 500 or response.status_code == 429:
            EXTERNAL_ERRORS.labels(self._name(request), f"http_{response.status_code}").inc()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
