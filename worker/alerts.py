"""Alerts to support by e-mail (SUPPORT_EMAIL) when the shop stops working by itself.

Checked every minute by the process that runs the jobs:

- ``job_overdue``: a job has been due for more than 10 minutes (the runner is stuck or a
  partner keeps failing);
- ``deliveries_failing``: provisioning or the delivery e-mail failed three times running
  for some order;
- ``balance_low``: the aggregator's prepaid balance (``balance/query``) is below
  AGGREGATOR_BALANCE_ALERT_USD; at zero every delivery stops.

Each kind is mailed at most once per 15 minutes while it lasts. The e-mail names order ids
and job kinds, never a buyer's data. Failed paid orders still get their own alert
(worker/mail/delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from worker.mail import smtp
from worker.mail.smtp import MailError
from worker.provisioning.provider import ProviderError
from worker.services import Services

log = logging.getLogger("worker.alerts")

CHECK_EVERY_S = 60.0
REPEAT_AFTER_S = 15 * 60.0
OVERDUE_AFTER_S = 10 * 60.0
FAILING_AFTER_ATTEMPTS = 3
DELIVERY_KINDS = ("provision", "send_email")
BALANCE_UNIT = 10_000  # balance/query answers in 1/10000 USD


class Alerts:
    def __init__(self, services: Services, clock: Callable[[], float] = time.time) -> None:
        self.services = services
        self.clock = clock
        self.sent_at: dict[str, float] = {}

    async def conditions(self) -> dict[str, str]:
        """Each alert kind that holds now, with the text for support."""
        now, found = self.clock(), {}
        jobs = self.services.store.jobs()
        overdue = [j for j in jobs if now - j.due_at > OVERDUE_AFTER_S]
        if overdue:
            lines = [f"  {j.kind} for order {j.order_id}: due {int((now - j.due_at) / 60)} min "
                     f"ago, {j.attempts} attempts, last error: {j.last_error or '-'}"
                     for j in overdue[:20]]
            found["job_overdue"] = (
                f"{len(overdue)} job(s) have been due for more than 10 minutes:\n"
                + "\n".join(lines)
                + "\n\nIs the worker running (systemctl status qazaq-worker)? Is a partner down?"
                " See docs/operations.md, When a partner is down."
            )
        failing = [j for j in jobs
                   if j.kind in DELIVERY_KINDS and j.attempts >= FAILING_AFTER_ATTEMPTS]
        if failing:
            lines = [f"  {j.kind} for order {j.order_id}: {j.attempts} attempts, last error: "
                     f"{j.last_error or '-'}" for j in failing[:20]]
            found["deliveries_failing"] = (
                f"Deliveries are failing for {len(failing)} order(s):\n" + "\n".join(lines)
                + "\n\nThe worker keeps retrying; see docs/operations.md, When a partner is down."
            )
        low = await self._balance_low()
        if low:
            found["balance_low"] = low
        return found

    async def _balance_low(self) -> str | None:
        try:
            balance = await self.services.provider.balance() / BALANCE_UNIT
        except ProviderError as error:  # counted in qazaq_external_errors; not an alert itself
            log.warning("alerts: balance/query failed: %s", error)
            return None
        threshold = self.services.settings.aggregator_balance_alert_usd
        if balance >= threshold:
            return None
        return (
            f"The aggregator's prepaid balance is {balance:.2f} USD, below "
            f"AGGREGATOR_BALANCE_ALERT_USD={threshold:g}. Every eSIM is paid from it: at zero "
            "every delivery stops. Top it up in the eSIM Access console."
        )

    async def check(self) -> list[str]:
        """Mail each condition not mailed in the last 15 minutes; returns the kinds mailed."""
        mailed = []
        for kind, text in (await self.conditions()).items():
            last = self.sent_at.get(kind)
            if last is not None and self.clock() - last < REPEAT_AFTER_S:
                continue
            try:
                await smtp.send(self.services.settings, self._message(kind, text))
            except MailError as error:
                log.error("alerts: %s alert could not be mailed: %s", kind, error)
                continue
            log.warning("alerts: %s mailed to support", kind)
            self.sent_at[kind] = self.clock()
            mailed.append(kind)
        return mailed

    def _message(self, kind: str, text: str) -> EmailMessage:
        settings = self.services.settings
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or None
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = settings.support_email
        message["Subject"] = f"[alert] {kind.replace('_', ' ')}: {text.splitlines()[0]}"[:200]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid("alert", domain=domain)
        message.set_content(text + "\n\nAt most one such e-mail per 15 minutes while it lasts.\n")
        return message


async def run(services: Services) -> None:
    """Check every minute, forever (the lifespan cancels it)."""
    alerts = Alerts(services)
    while True:
        await asyncio.sleep(CHECK_EVERY_S)
        try:
            await alerts.check()
        except Exception:  # keep watching; the next check retries
            log.exception("alerts: check failed")
