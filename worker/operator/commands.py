"""The operator's `invoke` commands (tasks.py). Each opens the order store directly, beside the
running worker (the store serializes writers across processes), and prints for a person.

They return the process exit status: 0 done, 1 refused or found something to settle.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from worker.config import load_settings
from worker.console.accounts import Accounts
from worker.refunds import refundable
from worker.services import Services

from . import privacy, support
from .mismatches import find_mismatches


async def _with_services(work: Callable[[Services], Awaitable[int]]) -> int:
    services = Services.open(load_settings())
    try:
        return await work(services)
    finally:
        await services.aclose()


def _period(start: str, end: str) -> tuple[date, date]:
    try:
        return date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise SystemExit(f"dates are YYYY-MM-DD, got --from {start!r} --to {end!r}") from None


async def refund(order_id: str, reason: str, operator: str, non_functional: bool,
                 amount: int | None) -> int:
    async def work(services: Services) -> int:
        outcome = await support.refund(services, order_id, reason=reason, operator=operator,
                                       non_functional=non_functional, amount=amount)
        if outcome.state == "refused":
            print(f"refused ({outcome.rule}): {outcome.detail}")
            return 1
        if outcome.state == "failed":
            print(f"failed: {outcome.detail}")
            return 1
        if outcome.state == "in_progress":
            print(f"in progress: {outcome.detail}; the worker finishes it")
            return 0
        if outcome.state == "retrying":
            print(f"in progress: {outcome.detail}; the worker retries the refund")
            return 0
        order = outcome.order
        assert order is not None and order.refund is not None
        print(f"order {order.id}: {order.status}, {order.refund.amount} KZT "
              f"(profile: {order.refund.profile_cancelled_at}, Epay: {order.refund.epay_refunded_at})")
        return 0

    return await _with_services(work)


async def find_order(query: str) -> int:
    async def work(services: Services) -> int:
        found = support.find_orders(services.store, query)
        for order in found:
            print(json.dumps(support.summary(order), ensure_ascii=False))
        if len(found) == 1:
            for entry in found[0].timeline:
                print(f"  {entry['at']}  {entry['event']:<28} {entry['detail']}")
        if not found:
            print(f"no order matches {query!r}")
        return 0 if found else 1

    return await _with_services(work)


async def resend_qr(order_id: str, operator: str) -> int:
    async def work(services: Services) -> int:
        try:
            await support.resend_qr(services.store, order_id, operator)
        except (KeyError, ValueError) as error:
            print(f"not sent: {error}")
            return 1
        print(f"order {order_id}: the worker sends the QR e-mail again")
        return 0

    return await _with_services(work)


async def export_csv(what: str, start: str, end: str, out: str) -> int:
    first, last = _period(start, end)

    async def work(services: Services) -> int:
        make = support.orders_csv if what == "orders" else support.refunds_csv
        text = make(services.store, first, last)
        if out:
            Path(out).write_text(text, encoding="utf-8")
            print(f"{text.count(chr(10)) - 1} {what} written to {out}")
        else:
            print(text, end="")
        return 0

    return await _with_services(work)


async def reconcile(start: str, end: str) -> int:
    first, last = _period(start, end)

    async def work(services: Services) -> int:
        found = await find_mismatches(services, first, last)
        for m in found:
            print(f"{m.order_id}  {m.kind:<29} ours={m.ours} epay={m.epay} aggregator={m.aggregator}"
                  f"  ({m.detail})")
        print(f"{len(found)} mismatch(es) for {first} .. {last}")
        return 1 if found else 0

    return await _with_services(work)


async def queues() -> int:
    async def work(services: Services) -> int:
        print("pending fiscal receipts:")
        for row in support.pending_receipts(services.store):
            print(f"  {row['order_id']}  {row['kind']}  attempts={row['attempts']}  {row['last_error']}")
        print("refundable:")
        for order in refundable(services):
            print(f"  {order.id}  {order.status}  {order.failure_reason or ''}")
        return 0

    return await _with_services(work)


async def purge_personal_data() -> int:
    async def work(services: Services) -> int:
        days = services.settings.personal_data_retention_days
        erased = await privacy.purge(services.store, days, chat=services.chat)
        print(f"personal data erased from {len(erased)} order(s) finished over {days} days ago")
        return 0

    return await _with_services(work)


async def export_personal_data(email: str) -> int:
    async def work(services: Services) -> int:
        print(json.dumps(privacy.export(services.store, email, chat=services.chat), ensure_ascii=False, indent=2))
        return 0

    return await _with_services(work)


async def erase_personal_data(email: str) -> int:
    async def work(services: Services) -> int:
        erased, kept = await privacy.erase(services.store, email, chat=services.chat)
        print(f"erased from {len(erased)} order(s): {' '.join(erased)}")
        if kept:
            print(f"kept until finished (money still moving): {' '.join(kept)}; run again later")
        return 1 if kept else 0

    return await _with_services(work)


async def close_shift() -> int:
    async def work(services: Services) -> int:
        if services.register is None:
            print("FISCAL_PROVIDER=none: there is no cash register shift to close")
            return 0
        await services.register.close_shift()
        print("the cash register's shift is closed (Z report)")
        return 0

    return await _with_services(work)


async def add_operator(email: str, name: str, totp: bool = False) -> int:
    """Add a support person (or reset their password): print their one-time set-password link,
    and with ``totp`` the second factor to add to their authenticator app."""
    async def work(services: Services) -> int:
        token, uri = Accounts(services.store.document("operators")).add(email, name, totp)
        print(f"{name or email}: set a password within 24 hours at "
              f"{services.settings.worker_url}/console/set-password/{token}"
              "\n(the link works once; send it to them privately)")
        if uri:
            print(f"Second factor: add this to their authenticator app (QR or text), then they sign in "
                  f"with its 6-digit code:\n{uri}")
        return 0

    return await _with_services(work)


async def operator_token(email: str) -> int:
    """Print a new personal API token for the operator (their previous one stops working)."""
    async def work(services: Services) -> int:
        try:
            token = Accounts(services.store.document("operators")).new_api_token(email)
        except KeyError:
            print(f"no operator {email}: add them first with `invoke add-operator {email} --name NAME`")
            return 1
        print(f"{email}: Authorization: Bearer {token}\n(shown once; a new one replaces it)")
        return 0

    return await _with_services(work)
