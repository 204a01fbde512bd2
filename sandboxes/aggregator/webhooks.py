"""Webhook delivery (spec §7): JSON envelopes posted in the background, with fault modes."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx

from .options import Options

log = logging.getLogger("sandboxes.aggregator.webhooks")


def notification(notify_type: str, content: dict[str, Any], now: float) -> dict[str, Any]:
    moment = datetime.fromtimestamp(now, UTC)
    return {
        "notifyType": notify_type,
        "notifyId": secrets.token_hex(16),
        "eventGenerateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z",
        "content": content,
    }


class Notifier:
    """Posts notifications to the saved URL; every attempt is kept for `/_sandbox/webhooks`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.url = ""
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.options.webhook_timeout_s)

    def cancel_pending(self) -> None:
        """Forget deliveries not yet made (a reset must not leak into the next test)."""
        for task in list(self._tasks):
            task.cancel()

    async def stop(self) -> None:
        self.cancel_pending()
        if self._client is not None:
            await self._client.aclose()

    async def post(self, url: str, body: dict[str, Any]) -> str:
        """One delivery; returns "ok" or the reason it failed."""
        assert self._client is not None, "Notifier.start() was not awaited (app lifespan)"
        try:
            response = await self._client.post(
                url, json=body, timeout=self.options.webhook_timeout_s
            )
        except httpx.HTTPError as error:
            outcome = f"error: {type(error).__name__}"
        else:
            outcome = "ok" if response.is_success else f"HTTP {response.status_code}"
        self.log.append({"url": url, "body": body, "outcome": outcome})
        return outcome

    def emit(self, batch: list[dict[str, Any]]) -> None:
        """Send the events of one action in the background, as the webhook mode says."""
        if not self.url or not batch:
            return
        mode = self.options.webhook_mode
        if mode == "drop":
            self.log.extend({"url": self.url, "body": body, "outcome": "dropped"} for body in batch)
            return
        if mode == "reorder":
            batch = list(reversed(batch))
        if mode == "duplicate":
            batch = [body for body in batch for _ in range(2)]
        delay = self.options.webhook_delay_s if mode == "delay" else 0.0
        task = asyncio.get_running_loop().create_task(self._send(self.url, batch, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, url: str, batch: list[dict[str, Any]], delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        for body in batch:
            outcome = await self.post(url, body)
            if outcome != "ok":
                log.info("webhook %s to %s failed: %s", body["notifyType"], url, outcome)
