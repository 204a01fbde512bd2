"""`GET /metrics`: the worker's figures in the Prometheus text format, for this host only.

Event figures (worker/metrics.py) plus what the order store holds at the moment of the
scrape: unfinished orders by status, pending jobs and the age of the oldest due job per
kind. Reachable from loopback without a proxy in between (Caddy answers 404 for it on the
public host), or from anywhere with ``Authorization: Bearer METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import get_args

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from worker import metrics
from worker.config import Settings
from worker.orders.backends import Store
from worker.orders.model import Status

LOOPBACK = ("127.0.0.1", "::1")


class StoreCollector(Collector):
    """Read the store at each scrape (its live set is small; the archive is not read)."""

    def __init__(self, store: Store, runner_alive: Callable[[], bool | None]) -> None:
        self.store = store
        self.runner_alive = runner_alive

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        statuses = Counter(o.status for o in self.store.live_orders())
        live = GaugeMetricFamily("qazaq_live_orders", "Unfinished orders by status",
                                 labels=["status"])
        for status in get_args(Status):
            live.add_metric([status], statuses.get(status, 0))
        yield live
        yield GaugeMetricFamily("qazaq_orders_stored", "Orders in the store, finished or not",
                                value=self.store.count())
        jobs = self.store.jobs()
        pending = GaugeMetricFamily("qazaq_jobs_pending", "Pending jobs by kind", labels=["kind"])
        oldest = GaugeMetricFamily(
            "qazaq_job_oldest_due_seconds",
            "How long the oldest due job of each kind has been waiting (0: none due)",
            labels=["kind"],
        )
        for kind in sorted({j.kind for j in jobs}):
            mine = [j for j in jobs if j.kind == kind]
            pending.add_metric([kind], len(mine))
            oldest.add_metric([kind], max([now - j.due_at for j in mine if j.due_at <= now],
                                          default=0.0))
        yield pending
        yield oldest
        alive = self.runner_alive()
        if alive is not None:  # None: another process runs this store's jobs
            yield GaugeMetricFamily("qazaq_job_runner_alive", "1 while the job runner runs",
                                    value=int(alive))


def registry(store: Store, runner_alive: Callable[[], bool | None]) -> CollectorRegistry:
    """One app's registry: the shared event figures and this store's figures."""
    found = CollectorRegistry(auto_describe=True)
    for metric in metrics.EVENT_METRICS:
        found.register(metric)
    found.register(StoreCollector(store, runner_alive))
    return found


def allowed(request: Request, settings: Settings) -> bool:
    """From this host directly (not through the proxy), or with the bearer METRICS_TOKEN."""
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token}".encode()
        if hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return True
    host = request.client.host if request.client else ""
    return host in LOOPBACK and "x-forwarded-for" not in request.headers


async def metrics_page(request: Request) -> Response:
    if not allowed(request, request.app.state.services.settings):
        return PlainTextResponse(
            "metrics: only from this host, or with Authorization: Bearer METRICS_TOKEN\n", 403
        )
    body = generate_latest(request.app.state.metrics)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
