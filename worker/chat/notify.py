"""The chat's e-mails: to the buyer when support answered while their panel was closed (with a
link that reopens the thread), and to SUPPORT_EMAIL about new questions, batched.

The reply marks the thread (``email_due``, in the same write), and this loop, running in the
process that runs the jobs, sends and clears the mark: a crash or an SMTP outage delays the
e-mail, never loses it. Buyers' messages support has not been told about (``support_told``)
go to SUPPORT_EMAIL in one e-mail at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

from worker.mail import compose, smtp
from worker.services import Services

from .threads import KEY_BYTES, Thread, key_hash

log = logging.getLogger("worker.chat")

AWAY_S = 15.0  # the panel reads the thread every 3 s: silence this long means it is closed
TICK_S = 2.0
RETRY_S = 60.0
SUPPORT_EVERY_S = 60.0


def seen(services: Services, thread: Thread) -> None:
    """The buyer's panel is open on this thread now (a reply then needs no e-mail). On
    PostgreSQL a mark every host sees: the panel and support may reach different hosts."""
    if services.store.marks is not None:
        services.store.marks.touch("chat_seen", thread.id, AWAY_S)
    else:
        services.chat_seen[thread.id] = time.monotonic()


def away(services: Services, thread: Thread) -> bool:
    if services.store.marks is not None:
        return not services.store.marks.marked("chat_seen", thread.id)
    return time.monotonic() - services.chat_seen.get(thread.id, float("-inf")) > AWAY_S


async def send_due(services: Services) -> int:
    """Send every due e-mail once; return how many went out."""
    sent = 0
    for thread in services.chat.all():
        if not thread.email_due or thread.email is None:
            continue
        if services.chat_retry_at.get(thread.id, 0.0) > time.monotonic():
            continue
        key = secrets.token_urlsafe(KEY_BYTES)  # the link's own key: the panel's stays private
        link = f"{services.settings.site_url}/{thread.lang}/#chat={key}"
        try:
            await smtp.send(services.settings,
                            compose.chat_reply(services.settings, thread.email, thread.lang, link,
                                               thread.messages[-1].text))
        except smtp.MailError as error:
            log.warning("chat %s: the reply e-mail failed (%s); trying again in %.0f s",
                        thread.id, error, RETRY_S)
            services.chat_retry_at[thread.id] = time.monotonic() + RETRY_S
            continue

        def sent_with(t: Thread, link_key: str = key) -> None:
            t.email_due = False
            t.key_hashes.append(key_hash(link_key))

        await asyncio.to_thread(services.chat.change, thread.id, sent_with)
        sent += 1
    return sent


async def tell_support(services: Services, last_sent: float) -> float:
    """One e-mail to SUPPORT_EMAIL with every buyer message it has not heard of, unless one went
    out less than a minute ago; returns when the last one went out."""
    if time.monotonic() - last_sent < SUPPORT_EVERY_S:
        return last_sent
    news = [(t, [m for m in t.messages[t.support_told:] if m.author == "buyer"])
            for t in services.chat.all()]
    news = [(t, fresh) for t, fresh in news if fresh]
    if not news:
        return last_sent
    items = [(f"{services.settings.worker_url}/console/threads/{t.id}", t.lang,
              t.order_id, [m.text for m in fresh]) for t, fresh in news]
    try:
        await smtp.send(services.settings, compose.chat_digest(services.settings, items))
    except smtp.MailError as error:
        log.warning("chat: the e-mail to support failed (%s); trying again in %.0f s",
                    error, SUPPORT_EVERY_S)
        return time.monotonic()
    for thread, _ in news:
        await asyncio.to_thread(services.chat.change, thread.id, _told(len(thread.messages)))
    return time.monotonic()


def _told(count: int) -> Callable[[Thread], None]:
    def change(thread: Thread) -> None:
        thread.support_told = max(thread.support_told, count)

    return change


async def run(services: Services) -> None:
    last_sent = float("-inf")
    while True:
        await send_due(services)
        last_sent = await tell_support(services, last_sent)
        await asyncio.sleep(TICK_S)
