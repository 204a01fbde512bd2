"""Personal data (offer 8.1): kept only for the order. Retention purge, a buyer's export and erasure.

Erasing keeps every money record (amounts, Epay transaction id and reference, fiscal numbers,
refunds, the timeline) and removes what identifies the buyer: e-mail, phone, card mask, and
the eSIM's LPA and activation code. The archive is then compacted, so no old copy remains.

Support chat threads (issue 11) are the buyer's words: a thread with the buyer's address, or
about one of their orders, is exported with them and removed whole on erasure; a closed
thread quiet for the retention period is removed by the purge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from worker.chat.threads import ChatStore, Thread
from worker.orders.backends import Store
from worker.orders.model import Order
from worker.orders.store import Unchanged, is_finished

ERASED_EVENT = "personal_data_erased"


def finished(order: Order, store: Store) -> bool:
    """Settled and nothing pending (a provisioning_failed order still awaits its refund)."""
    return is_finished(order, len(store.jobs(order.id)))


def has_personal_data(order: Order) -> bool:
    return bool(order.email or order.phone or (order.payment and order.payment.card_mask)
                or (order.profile and (order.profile.lpa or order.profile.activation_code)))


def _erase(order: Order, why: str) -> None:
    if not has_personal_data(order):
        raise Unchanged
    order.email = None
    order.phone = None
    if order.payment is not None:
        order.payment.card_mask = None
    if order.profile is not None:
        order.profile.lpa = ""
        order.profile.activation_code = ""
    order.log(ERASED_EVENT, why)


def _last_activity(thread: Thread) -> str:
    return max([thread.created_at] + [m.at for m in thread.messages] + [e["at"] for e in thread.events])


def _threads_of(chat: ChatStore, orders: list[Order], email: str) -> list[Thread]:
    wanted = email.strip().lower()
    order_ids = {o.id for o in orders}
    return [t for t in chat.all() if (t.email or "").lower() == wanted or t.order_id in order_ids]


async def purge(store: Store, retention_days: int, now: datetime | None = None, *,
                chat: ChatStore | None = None) -> list[str]:
    """Erase the personal data of finished orders last changed more than `retention_days` ago
    (and remove closed chat threads as quiet as that)."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).isoformat()
    if chat is not None:
        chat.remove([t.id for t in chat.all() if t.status == "closed" and _last_activity(t) < cutoff])
    due = store.search(lambda o: o.updated_at < cutoff and has_personal_data(o))
    erased = []
    for order in due:
        if not finished(order, store):
            continue
        await store.update(order.id, lambda o: _erase(o, f"retention of {retention_days} days"))
        erased.append(order.id)
    if erased:
        store.compact_archive()
    return erased


def _orders_of(store: Store, email: str) -> list[Order]:
    wanted = email.strip().lower()
    return [o for o in store.by_email(wanted) if o.email and o.email.strip().lower() == wanted]


def export(store: Store, email: str, *, chat: ChatStore | None = None) -> dict[str, Any]:
    """Everything we hold about the buyer with this address (their right of access)."""
    orders = _orders_of(store, email)
    threads = _threads_of(chat, orders, email) if chat is not None else []
    return {
        "chat_threads": [
            {"created_at": t.created_at, "status": t.status, "language": t.lang, "email": t.email,
             "order_id": t.order_id, "messages": t.public()["messages"]}
            for t in threads
        ],
        "email": email.strip().lower(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "orders": [
            {
                "order_id": o.id, "created_at": o.created_at, "status": o.status,
                "email": o.email, "phone": o.phone, "language": o.lang,
                "package": o.package_title, "amount_kzt": o.amount,
                "card_mask": o.payment.card_mask if o.payment else None,
                "paid_at": o.payment.paid_at if o.payment else None,
                "iccid": o.profile.iccid if o.profile else None,
                "refund": {"amount": o.refund.amount, "refunded_at": o.refund.epay_refunded_at}
                if o.refund else None,
                "timeline": o.timeline,
            }
            for o in orders
        ],
    }


async def erase(store: Store, email: str, *,
                chat: ChatStore | None = None) -> tuple[list[str], list[str]]:
    """Erase the buyer's data from their finished orders and their chat threads; return
    (erased orders, orders kept until finished)."""
    erased, kept = [], []
    orders = _orders_of(store, email)
    if chat is not None:
        chat.remove([t.id for t in _threads_of(chat, orders, email)])
    for order in orders:
        if not finished(order, store):
            kept.append(order.id)
            continue
        await store.update(order.id, lambda o: _erase(o, "the buyer asked"))
        erased.append(order.id)
    if erased:
        store.compact_archive()
    return erased, kept
