"""The operator's `invoke` commands (worker/operator/commands.py) as a support person runs them:
what they print and their exit status, against the store and the sandboxes the worker uses.

They read their settings from the environment, as `invoke` does; run in-process here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from after_sale import AfterSale

from worker.config import Settings
from worker.operator import commands

pytestmark = pytest.mark.anyio
TODAY = str(datetime.now(UTC).date())


@pytest.fixture(autouse=True)
def command_env(after_sale_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment `invoke` would give the commands: the after-sale harness's world."""
    s = after_sale_settings
    for name, value in {
        "ORDERS_DB": str(s.orders_db), "CATALOG_PATH": str(s.catalog_path),
        "EPAY_OAUTH_URL": s.epay_oauth_url, "EPAY_API_URL": s.epay_api_url,
        "ESIMACCESS_URL": s.esimaccess_url, "ESIMACCESS_ACCESS_CODE": s.esimaccess_access_code,
        "ESIMACCESS_SECRET_KEY": str(s.esimaccess_secret_key), "SMTP_PORT": str(s.smtp_port),
    }.items():
        monkeypatch.setenv(name, value)


async def test_find_order_prints_the_order_and_its_timeline(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    order = await after_sale.order("delivered", email="anna@example.kz")

    assert await commands.find_order("Anna@example.kz") == 0

    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["order_id"] == order.id
    assert any(line.split()[1:2] == ["delivered"] for line in out[1:])  # the timeline


async def test_find_order_says_when_nothing_matches(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    assert await commands.find_order("nobody@example.kz") == 1
    assert capsys.readouterr().out == "no order matches 'nobody@example.kz'\n"


async def test_resend_qr_queues_the_email_or_says_why_not(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    delivered = await after_sale.order("delivered")
    failed = await after_sale.order("payment_failed")

    assert await commands.resend_qr(delivered.id, "aigerim") == 0
    assert await commands.resend_qr(failed.id, "aigerim") == 1
    assert await commands.resend_qr("123", "aigerim") == 1

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"order {delivered.id}: the worker sends the QR e-mail again"
    assert out[1].startswith("not sent: ") and "status payment_failed" in out[1]
    assert out[2].startswith("not sent: ")
    assert [j.kind for j in after_sale.store.jobs(delivered.id)] == ["send_email"]
    assert after_sale.store.jobs(failed.id) == []


async def test_export_csv_writes_the_file_or_prints_it(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    order = await after_sale.order("delivered")
    out = tmp_path / "orders.csv"

    assert await commands.export_csv("orders", TODAY, TODAY, str(out)) == 0
    assert await commands.export_csv("refunds", TODAY, TODAY, "") == 0

    printed = capsys.readouterr().out
    assert printed.startswith(f"1 orders written to {out}\n")
    assert order.id in out.read_text(encoding="utf-8")
    assert printed.count("\n") == 2  # the refunds' header line only: nothing refunded


async def test_a_malformed_date_is_named(after_sale: AfterSale) -> None:
    with pytest.raises(SystemExit, match=r"dates are YYYY-MM-DD, got --from '1\.12\.2026'"):
        await commands.reconcile("1.12.2026", TODAY)


async def test_queues_lists_the_orders_waiting_for_a_refund(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    stuck = await after_sale.order("provisioning_failed")
    await after_sale.order("delivered")

    assert await commands.queues() == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pending fiscal receipts:"
    assert out[1] == "refundable:"
    assert [line.split()[:2] for line in out[2:]] == [[stuck.id, "provisioning_failed"]]


async def test_personal_data_export_erase_and_purge(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    done = await after_sale.order("delivered", email="bek@example.kz")
    waiting = await after_sale.order("provisioning_failed", email="bek@example.kz")

    assert await commands.export_personal_data("bek@example.kz") == 0
    exported = json.loads(capsys.readouterr().out)
    assert json.dumps(exported).count(done.id) >= 1 and waiting.id in json.dumps(exported)

    assert await commands.erase_personal_data("bek@example.kz") == 1  # one is not finished
    out = capsys.readouterr().out.splitlines()
    assert out == [f"erased from 1 order(s): {done.id}",
                   f"kept until finished (money still moving): {waiting.id}; run again later"]

    assert await commands.purge_personal_data() == 0
    assert capsys.readouterr().out == (
        "personal data erased from 0 order(s) finished over 1095 days ago\n")


async def test_close_shift_without_a_register_says_so(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    assert await commands.close_shift() == 0
    assert capsys.readouterr().out.startswith("FISCAL_PROVIDER=none: there is no cash register")


async def test_a_refused_refund_names_the_rule_and_fails(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    order = await after_sale.order("delivered")

    assert await commands.refund(order.id, "changed my mind", "aigerim", False, None) == 1

    out = capsys.readouterr().out
    assert out.startswith("refused (failed_or_non_functional): ")
    assert after_sale.store.get(order.id).refund is None  # type: ignore[union-attr]


async def test_a_refund_epay_cannot_take_now_is_left_to_the_worker(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    order = await after_sale.order("provisioning_failed")
    monkeypatch.setenv("EPAY_OAUTH_URL", "http://127.0.0.1:9/oauth2/token")  # nothing listens
    monkeypatch.setenv("EPAY_API_URL", "http://127.0.0.1:9")

    assert await commands.refund(order.id, "no eSIM", "aigerim", False, None) == 0
    # Asked again at once: the first attempt holds the lease, the worker's job finishes it.
    assert await commands.refund(order.id, "no eSIM", "aigerim", False, None) == 0

    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("in progress: ") and first.endswith("; the worker retries the refund")
    assert second.startswith("in progress: ") and second.endswith("; the worker finishes it")
    assert [j.kind for j in after_sale.store.jobs(order.id)] == ["refund"]
    assert after_sale.transaction(order.id)["status"] == "CHARGE"


async def test_a_refund_epay_refuses_fails_saying_why(
        after_sale: AfterSale, capsys: pytest.CaptureFixture[str]) -> None:
    order = await after_sale.order("provisioning_failed")
    after_sale.epay_refund(order, 100)  # in the cabinet: less than the whole is left

    assert await commands.refund(order.id, "no eSIM", "aigerim", False, None) == 1

    out = capsys.readouterr().out
    assert out.startswith("failed: Epay refused the refund: ") and "exceeds" in out
    assert after_sale.store.get(order.id).status == "provisioning_failed"  # type: ignore[union-attr]
