"""postLink / failurePostLink delivery (§4) with the duplicate, late, lost and retry switches."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import httpx

from .ledger import KZ, Ledger, Transaction
from .options import Options

log = logging.getLogger("sandboxes.epay")


def target(tx: Transaction) -> str:
    """Success goes to postLink; failure to failurePostLink, or postLink when none was given."""
    if tx.approved:
        return tx.post_link
    return tx.failure_post_link or tx.post_link


class Courier:
    """Sends callbacks and remembers every attempt in `ledger.deliveries`."""

    def __init__(self, ledger: Ledger, options: Options) -> None:
        self.ledger = ledger
        self.options = options
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, tx: Transaction, copies: int = 1, delay: float = 0.0) -> None:
        """Deliver in the background (after the browser got its answer)."""
        task = asyncio.get_running_loop().create_task(self._later(tx, copies, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _later(self, tx: Transaction, copies: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        # Duplicates go out together: the harshest case for an idempotent handler.
        await asyncio.gather(*(self.deliver(tx, f"copy {n + 1}/{copies}" if copies > 1 else "")
                               for n in range(copies)))

    async def dispatch(self, tx: Transaction) -> None:
        """Apply the `callback` switch: `early` delivers before returning, the rest later."""
        mode = self.options.callback
        if mode == "lost":
            self._record(tx, target(tx), 0, None, "lost on purpose (callback=lost)")
        elif mode == "early":
            await self.deliver(tx)
        elif mode == "late":
            self.spawn(tx, delay=self.options.late_seconds)
        elif mode == "duplicate":
            self.spawn(tx, copies=max(self.options.duplicates, 1))
        else:
            self.spawn(tx)

    async def deliver(self, tx: Transaction, note: str = "") -> bool:
        """POST the JSON body, retrying on a non-2xx answer or a network error."""
        if self.ledger.transactions.get(tx.id) is not tx:
            return False  # forgotten by a reset while this delivery waited
        url = target(tx)
        if not url:
            self._record(tx, "", 0, None, "no postLink given: nothing sent")
            return False
        body = tx.callback_body()
        attempts = 1 + self.options.retries
        async with httpx.AsyncClient(timeout=self.options.callback_timeout) as client:
            for attempt in range(1, attempts + 1):
                try:
                    answer = await client.post(url, json=body)
                except httpx.HTTPError as error:
                    self._record(tx, url, attempt, None, f"{type(error).__name__} {note}".strip())
                else:
                    self._record(tx, url, attempt, answer.status_code, note)
                    if answer.is_success:
                        return True
                if attempt < attempts:
                    await asyncio.sleep(self.options.retry_interval)
        return False

    def _record(self, tx: Transaction, url: str, attempt: int, status: int | None,
                note: str) -> None:
        entry: dict[str, Any] = {
            "at": dt.datetime.now(KZ).isoformat(timespec="milliseconds"),
            "transaction_id": tx.id, "invoice_id": tx.invoice_id, "code": tx.callback_body()["code"],
            "url": url, "attempt": attempt, "http_status": status, "note": note,
        }
        self.ledger.deliveries.append(entry)
        log.info("epay sandbox callback: invoice %s tx %s -> %s attempt %s: %s %s",
                 tx.invoice_id, tx.id, url or "-", attempt, status, note)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
