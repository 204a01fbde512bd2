"""The worker's route table, middleware and lifespan: `uvicorn worker.app:app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from worker import access_log, alerts, log_config, monitor, readiness, request_ids
from worker.account import routes as account
from worker.account.usage import refresh_usage
from worker.catalogue import CatalogueError
from worker.chat import notify as chat_notify
from worker.chat import routes as chat
from worker.config import SettingError, Settings, load_settings
from worker.console import routes as console
from worker.fiscal.receipts import fiscal_return, fiscal_sale
from worker.job_runner import JobRunner
from worker.jobs import Handler
from worker.mail import smtp
from worker.mail.send_email import send_email
from worker.middleware import BodyLimit, JsonErrors, SecurityHeaders
from worker.operator import routes as operator
from worker.order_page import routes as order_page
from worker.payments import back_links, callbacks, checkout, reconciler
from worker.payments.confirm import confirm_payment, recheck_payment
from worker.provisioning.provision import provision
from worker.provisioning.webhook import aggregator_webhook
from worker.refunds import refund_email, refund_job
from worker.request_gauge import CountRequests, RequestGauge
from worker.services import Services
from worker.topups import routes as topups
from worker.topups import usage_alerts
from worker.topups.apply import apply_topup

log = logging.getLogger("worker")


async def warn_if_mail_is_down(settings: Settings) -> None:
    problem = await smtp.unreachable(settings)
    if problem:
        log.warning("mail: %s", problem)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def job_handlers() -> dict[str, Handler]:
    """The handler of each job kind (docs/architecture.md, "Durable jobs"). Add yours here."""
    return {
        "confirm_payment": confirm_payment,
        "recheck_payment": recheck_payment,
        "fiscal_sale": fiscal_sale,
        "fiscal_return": fiscal_return,
        "provision": provision,
        "send_email": send_email,
        "refund": refund_job,
        "refund_email": refund_email,
        "refresh_usage": refresh_usage,
        "apply_topup": apply_topup,
        "check_usage": usage_alerts.check_usage,
    }


def out_of_the_collectors_way() -> None:
    """Move what start-up made (modules, translations, the catalogue, the store's indexes) out
    of the garbage collector's sight: it lives as long as the process, and every full
    collection walked all of it, 30-150 ms each, now and then in the middle of a burst of
    postLinks (bench_backends.py). A full collection now walks what requests made since."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None, *, handlers: dict[str, Handler] | None = None,
    whole_process: bool = False,
) -> Starlette:
    """Build the worker for ``settings`` (default: from the environment).

    ``handlers`` replaces the job table (tests run only the kinds they examine).
    ``whole_process``: the app is its process's only one (under uvicorn), so what its start-up
    made lives as long as the process and is moved out of the garbage collector's way.
    """
    settings = settings or load_settings()
    jobs = job_handlers() if handlers is None else handlers
    access_log.install()
    request_ids.install()
    services = Services.open(settings)
    # Shared by this store's processes on this host: a job slows its siblings' requests too.
    gauge = RequestGauge(settings.orders_url or str(settings.orders_db.resolve()))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The embedded store: one process runs its jobs and reconciler, the one holding its
        # runner.lock. PostgreSQL: every process runs jobs (claimed with leases), and the
        # reconciler and alerts run where the lead (an advisory lock) is held.
        store = services.store
        lead = store.take_lead()
        runner: JobRunner | None = None
        reconciling: asyncio.Task[None] | None = None
        alerting: asyncio.Task[None] | None = None
        chat_mail: asyncio.Task[None] | None = None
        refreshing: asyncio.Task[None] | None = None
        gauge.open()
        checking = asyncio.get_running_loop().create_task(warn_if_mail_is_down(settings))
        if lead is None and not store.shares_jobs:
            log.warning(
                "jobs: another worker process runs the jobs of %s (its runner.lock is taken); "
                "this one serves HTTP only and runs no jobs or reconciler",
                settings.orders_db,
            )
        else:
            runner = JobRunner(services, jobs, busy=gauge.busy)
            runner.start()
        if lead is not None:
            reconciling = asyncio.get_running_loop().create_task(reconciler.run(services))
            alerting = asyncio.get_running_loop().create_task(alerts.run(services))
            chat_mail = asyncio.get_running_loop().create_task(chat_notify.run(services))
            refreshing = asyncio.get_running_loop().create_task(usage_alerts.run(services))
            log.info("worker: started; this process runs the jobs and the reconciler")
        app.state.runner = runner
        if whole_process:
            out_of_the_collectors_way()
        try:
            yield
        finally:
            for task in (reconciling, alerting, refreshing, chat_mail, checking):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            if runner is not None:
                await runner.stop()
            gauge.close()
            await services.aclose()
            if lead is not None:
                lead.release()

    routes = [
        Route("/api/checkout", checkout.checkout, methods=["POST"]),
        Route("/api/orders/{token}", order_page.order_view, methods=["GET"]),
        Route("/api/orders/{token}/qr.svg", order_page.qr_svg, methods=["GET"]),
        Route("/api/orders/{token}/qr.png", order_page.qr_png, methods=["GET"]),
        Route("/api/orders/{token}/resend-email", order_page.resend_email, methods=["POST"]),
        Route("/api/orders/{token}/topups", topups.list_topups, methods=["GET"]),
        Route("/api/orders/{token}/topups", topups.buy_topup, methods=["POST"]),
        Route("/api/orders/{token}/alerts/off", topups.alerts_off, methods=["GET", "POST"]),
        Route("/epay/post-link", callbacks.post_link, methods=["POST"]),
        Route("/epay/failure-post-link", callbacks.failure_post_link, methods=["POST"]),
        Route("/epay/back/{token}", back_links.back, methods=["GET"]),
        Route("/epay/failure-back/{token}", back_links.failure_back, methods=["GET"]),
        Route("/aggregator/webhook/{secret}", aggregator_webhook, methods=["POST"]),
        Route("/api/account/sign-in-link", account.sign_in_link, methods=["POST"]),
        Route("/api/account/session", account.session, methods=["POST"]),
        Route("/api/account/orders", account.orders, methods=["GET"]),
        Route("/api/account/sign-out", account.sign_out, methods=["POST"]),
        Route("/api/chat/threads", chat.open_thread, methods=["POST"]),
        Route("/api/chat/threads/{key}", chat.read_thread, methods=["GET"]),
        Route("/api/chat/threads/{key}/messages", chat.post_message, methods=["POST"]),
        Route("/api/chat/threads/{key}/screenshot", chat.post_screenshot, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness.readyz, methods=["GET"]),
        Route("/metrics", monitor.metrics_page, methods=["GET"]),
        *operator.routes(),
        *console.routes(),
    ]
    middleware = [
        Middleware(request_ids.RequestIds),  # outermost: every line of the request has its id
        Middleware(CountRequests, gauge=gauge),
        Middleware(SecurityHeaders),
        Middleware(
            CORSMiddleware,
            allow_origins=[settings.site_url],
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
            max_age=600,
        ),
        Middleware(JsonErrors),  # inside CORS and the headers, so its answers carry them
        Middleware(BodyLimit),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.services = services
    app.state.runner = None
    app.state.requests = gauge
    app.state.metrics = monitor.registry(
        services.store, lambda: app.state.runner.alive if app.state.runner else None
    )
    return app


def __getattr__(name: str) -> Starlette:
    # `uvicorn worker.app:app` builds the app on first access, so importing this module
    # (tests with their own settings) reads no environment.
    if name != "app":
        raise AttributeError(name)
    log_config.configure()
    try:
        app = create_app(whole_process=True)
    except (SettingError, CatalogueError) as exc:
        raise SystemExit(f"worker: {exc}") from None
    globals()["app"] = app
    return app
