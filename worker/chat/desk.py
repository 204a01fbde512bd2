"""What support does with threads, for the operator API and the console alike."""

from __future__ import annotations

import asyncio
from typing import Any

from worker.services import Services

from .notify import away
from .threads import Message, Thread


def inbox(services: Services, status: str = "open") -> list[Thread]:
    """Threads in ``status``, the longest waiting first (answered ones after, newest first)."""
    threads = [t for t in services.chat.all() if t.status == status]
    waiting = sorted((t for t in threads if t.waiting_since), key=lambda t: t.waiting_since or "")
    answered = sorted((t for t in threads if not t.waiting_since), key=lambda t: t.created_at,
                      reverse=True)
    return waiting + answered


def view(services: Services, thread: Thread) -> dict[str, Any]:
    """The thread for support: its order's number and state, never the order's token."""
    order = services.store.get(thread.order_id) if thread.order_id else None
    return {
        "id": thread.id, "status": thread.status, "lang": thread.lang, "email": thread.email,
        "created_at": thread.created_at, "waiting_since": thread.waiting_since,
        "order": {"order_id": order.id, "status": order.status} if order else None,
        "messages": [{"id": m.id, "author": m.author, "text": m.text, "at": m.at,
                      "operator": m.operator, "screenshot": m.screenshot} for m in thread.messages],
        "events": thread.events,
    }


async def reply(services: Services, thread_id: str, text: str, operator: str) -> Message:
    """Support's answer; e-mailed to the buyer when their panel is closed (worker/chat/notify.py)."""
    def change(t: Thread) -> Message:
        message = t.add("support", text, operator)
        t.email_due = t.email_due or (t.email is not None and away(services, t))
        return message

    message: Message = await asyncio.to_thread(services.chat.change, thread_id, change)
    return message


async def close(services: Services, thread_id: str, operator: str) -> None:
    def change(t: Thread) -> None:
        t.status = "closed"
        t.waiting_since = None
        t.log("closed", operator)

    await asyncio.to_thread(services.chat.change, thread_id, change)
