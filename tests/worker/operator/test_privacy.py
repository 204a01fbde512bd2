"""Personal data: purged after the retention period, exported and erased on request;
orders and money records stay, and no copy of the erased data stays in the store's files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from after_sale import AfterSale

from worker.operator import privacy, support
from worker.orders.model import Order
from worker.orders.store import OrderStore

pytestmark = pytest.mark.anyio
YEARS_LATER = datetime.now(UTC) + timedelta(days=1096)


def personal(order: Order) -> list[str]:
    values = [order.email, order.phone, order.payment.card_mask if order.payment else None]
    if order.profile:
        values += [order.profile.lpa, order.profile.activation_code]
    return [v for v in values if v]


def store_files_text(store: OrderStore) -> str:
    folder = store.path.parent
    return "".join(p.read_text(errors="replace") for p in folder.iterdir() if p.is_file())


async def test_purge_erases_personal_data_of_finished_orders_and_keeps_the_money(
        after_sale: AfterSale) -> None:
    delivered = await after_sale.order("delivered", email="anna@example.kz", phone="+77011112233")
    failed = await after_sale.order("payment_failed", email="bek@example.kz", phone="+77014445566")
    waiting = await after_sale.order("provisioning_failed", email="dana@example.kz")  # not settled
    secrets_before = personal(delivered) + personal(failed)
    assert all(s in store_files_text(after_sale.store) for s in secrets_before)

    erased = await privacy.purge(after_sale.store, 1095, now=YEARS_LATER)

    assert sorted(erased) == sorted([delivered.id, failed.id])
    text = store_files_text(after_sale.store)
    for secret in secrets_before:
        assert secret not in text, secret
    kept = after_sale.store.get(delivered.id)
    assert kept is not None and delivered.payment is not None and kept.payment is not None
    assert (kept.status, kept.amount, kept.payment.transaction_id, kept.payment.reference) == (
        "delivered", 4990, delivered.payment.transaction_id, "512345678901")
    assert kept.profile is not None and kept.profile.iccid == delivered.profile.iccid  # type: ignore[union-attr]
    assert kept.timeline[-1]["event"] == "personal_data_erased"
    still = after_sale.store.get(waiting.id)
    assert still is not None and still.email == "dana@example.kz"
    today = datetime.now(UTC).date()
    exported = support.orders_csv(after_sale.store, today, today)
    assert delivered.id in exported and failed.id in exported


async def test_purge_within_the_retention_period_erases_nothing(after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    assert await privacy.purge(after_sale.store, 1095) == []
    assert after_sale.store.get(order.id).email == "buyer@example.kz"  # type: ignore[union-attr]


async def test_a_buyer_gets_their_data_and_nobody_elses(after_sale: AfterSale) -> None:
    mine = await after_sale.order("delivered", email="Anna@Example.kz")
    await after_sale.order("delivered", email="bek@example.kz")
    exported = privacy.export(after_sale.store, "anna@example.kz")
    assert [o["order_id"] for o in exported["orders"]] == [mine.id]
    assert exported["orders"][0]["phone"] == "+77011234567"
    assert "bek@example.kz" not in json.dumps(exported)


async def test_erasure_on_request_leaves_no_trace_and_waits_for_unsettled_orders(
        after_sale: AfterSale) -> None:
    done = await after_sale.order("delivered", email="anna@example.kz", phone="+77019998877")
    pending = await after_sale.order("provisioning_failed", email="anna@example.kz")
    other = await after_sale.order("delivered", email="bek@example.kz")
    erased, kept = await privacy.erase(after_sale.store, "ANNA@example.kz")
    assert (erased, kept) == ([done.id], [pending.id])
    text = store_files_text(after_sale.store)
    assert "+77019998877" not in text and done.profile.lpa not in text  # type: ignore[union-attr]
    assert privacy.export(after_sale.store, "anna@example.kz")["orders"][0]["order_id"] == pending.id
    assert after_sale.store.get(other.id).email == "bek@example.kz"  # type: ignore[union-attr]
    assert after_sale.store.get(done.id).amount == 4990  # type: ignore[union-attr]


async def test_another_process_reads_the_store_after_it_was_compacted(after_sale: AfterSale) -> None:
    orders = [await after_sale.order("delivered", email=f"b{i}@example.kz") for i in range(3)]
    reader = OrderStore.open(after_sale.store.path)  # as the worker, beside an invoke command
    try:
        assert reader.get(orders[1].id) is not None
        await privacy.erase(after_sale.store, "b0@example.kz")
        for order in orders:
            seen = reader.get(order.id)
            assert seen is not None and seen.id == order.id
        assert reader.get(orders[0].id).email is None  # type: ignore[union-attr]
        assert reader.get(orders[2].id).email == "b2@example.kz"  # type: ignore[union-attr]
    finally:
        reader.close()


async def test_chat_threads_are_exported_erased_and_purged_with_the_buyers_data(
        after_sale: AfterSale) -> None:
    chat = after_sale.services.chat
    order = await after_sale.order("delivered", email="anna@example.kz")
    by_address, _ = chat.open_thread("ru", "Мой номер +77015550011", "anna@example.kz", None)
    by_order, _ = chat.open_thread("en", "About my order", None, order.id)
    shot = chat.add_screenshot(by_order.id, b"\x89PNG image", "png").screenshot
    other, _ = chat.open_thread("en", "Bek's question", "bek@example.kz", None)
    exported = privacy.export(after_sale.store, "Anna@example.kz", chat=chat)
    assert sorted(t["messages"][0]["text"] for t in exported["chat_threads"]) == [
        "About my order", "Мой номер +77015550011"]
    await privacy.erase(after_sale.store, "anna@example.kz", chat=chat)
    assert chat.get(by_address.id) is None and chat.get(by_order.id) is None
    assert "+77015550011" not in store_files_text(after_sale.store)
    with pytest.raises(FileNotFoundError):  # the screenshot went too
        chat.screenshot(str(shot))
    assert chat.get(other.id) is not None
    await privacy.purge(after_sale.store, 1095, now=YEARS_LATER, chat=chat)
    assert chat.get(other.id) is not None  # still open: support has not answered yet
    chat.change(other.id, lambda t: setattr(t, "status", "closed"))
    await privacy.purge(after_sale.store, 1095, chat=chat)
    assert chat.get(other.id) is not None  # closed today: kept for the retention period
    await privacy.purge(after_sale.store, 1095, now=YEARS_LATER, chat=chat)
    assert chat.get(other.id) is None
