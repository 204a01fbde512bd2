"""POST /aggregator/webhook/{secret}: eSIM Access notifications, used only as hints;
and `invoke aggregator-webhook`, which saves that URL at the aggregator.

The spec documents no signature (§7), so the URL carries a secret (compared in constant
time; a wrong one gets the same 404 as any unknown path), notifications are de-duplicated
on notifyId, and nothing in them is trusted: ORDER_STATUS only makes the order's
`provision` job due now, and that job asks esim/query for the truth.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from worker.config import SettingError, Settings, load_settings
from worker.json_body import parse
from worker.provisioning import open_provider
from worker.provisioning.provider import ProviderError

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.provisioning.webhook")


async def aggregator_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    expected = str(services.settings.aggregator_webhook_secret).encode()
    if not hmac.compare_digest(request.path_params["secret"].encode(), expected):
        # Word for word what an unknown path gets: the URL must not tell that it exists.
        return PlainTextResponse("Not Found", status_code=404)
    try:
        notice = parse(await request.body())
    except ValueError:
        return JSONResponse({"error": "send a JSON notification"}, status_code=400)
    if not isinstance(notice, dict):
        return JSONResponse({"error": "send a JSON notification"}, status_code=400)
    notify_id = str(notice.get("notifyId") or "")
    if notify_id and not services.webhook_ids.first_time(notify_id):
        return JSONResponse({"ok": True, "duplicate": True})
    await _hint(notice, services)
    return JSONResponse({"ok": True})


async def _hint(notice: dict[str, Any], services: Services) -> None:
    kind = notice.get("notifyType")
    raw_content = notice.get("content")
    content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
    if kind in ("DATA_USAGE", "VALIDITY_USAGE"):
        await _usage_hint(content, services)
        return
    if kind != "ORDER_STATUS":
        log.info("webhook: %s noted", kind)
        return
    transaction_id = str(content.get("transactionId") or "")
    order = services.store.get(transaction_id) if transaction_id else None
    if order is None or order.provider_transaction_id != transaction_id:
        log.info("webhook: ORDER_STATUS for an order we do not know; ignored")
        return
    if order.status != "provisioning" or order.profile is not None:
        return
    log.info(
        "webhook: ORDER_STATUS %s for order %s: query now", content.get("orderStatus"), order.id
    )
    await services.store.enqueue(order.id, "provision")


async def _usage_hint(content: dict[str, Any], services: Services) -> None:
    """Usage moved (issue 12): the order's `check_usage` job asks esim/query and alerts."""
    order = services.store.get(str(content.get("transactionId") or ""))
    if order is None or order.profile is None or (
        order.profile.esim_tran_no != str(content.get("esimTranNo") or "")
    ):
        log.info("webhook: usage of an eSIM we do not know; ignored")
        return
    await services.store.enqueue(order.id, "check_usage")


def webhook_url(settings: Settings) -> str:
    return f"{settings.worker_url}/aggregator/webhook/{settings.aggregator_webhook_secret}"


def main() -> int:
    """`invoke aggregator-webhook`: save our webhook URL at the aggregator (once per account)."""
    try:
        settings = load_settings()
    except SettingError as error:
        print(f"aggregator-webhook: {error}", file=sys.stderr)
        return 2

    async def save() -> int:
        provider = open_provider(settings)
        try:
            await provider.save_webhook(webhook_url(settings))
        except ProviderError as error:
            print(
                f"aggregator-webhook: {error}; the worker must answer at WORKER_URL "
                f"({settings.worker_url}) for the aggregator's test delivery",
                file=sys.stderr,
            )
            return 1
        finally:
            await provider.aclose()
        print(f"saved {settings.worker_url}/aggregator/webhook/<AGGREGATOR_WEBHOOK_SECRET>")
        return 0

    # Everything after the request runs inside the coroutine: on Python 3.11 the tracer loses
    # the lines of asyncio.run's caller once httpx has connected (coveragepy issue 1911).
    return asyncio.run(save())


if __name__ == "__main__":
    raise SystemExit(main())
