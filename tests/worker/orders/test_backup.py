"""Backups of the order store (worker/orders/backup.py): consistent while a writer keeps
writing, and a restore that refuses anything it cannot vouch for."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from store_helpers import make_order

from worker.orders.backup import BackupError, backup, restore
from worker.orders.model import Order
from worker.orders.store import OrderStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def quiet(line: str) -> None:
    pass


def fail(order: Order) -> None:
    order.status = "payment_failed"


@pytest.fixture
def store_with_orders(tmp_path: Path) -> Path:
    """Ten orders, three of them finished (archived), and the accounts' registry."""
    db = tmp_path / "live" / "orders.json"
    store = OrderStore.open(db)

    async def write() -> None:
        for n in range(10):
            await store.create(make_order(n))
        for n in (0, 4, 8):
            await store.update(make_order(n).id, fail)

    asyncio.run(write())
    store.close()
    (db.parent / "accounts.json").write_text('{"nonces": {}, "sessions": {"s": 9e9}}')
    for name in ("chat.json", "operators.json", "claims.json"):  # the support desk's files
        (db.parent / name).write_text(json.dumps({"kept": name}))
    (db.parent / "chat-files").mkdir()
    (db.parent / "chat-files" / "shot.png").write_bytes(b"\x89PNG screenshot")
    return db


def test_restore_brings_back_every_order_and_the_accounts(
    store_with_orders: Path, tmp_path: Path
) -> None:
    summary = backup(store_with_orders, tmp_path / "backup", say=quiet)
    assert summary.orders == 10
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"orders.json", "orders.archive.jsonl", "accounts.json"}
    restored = restore(tmp_path / "backup", tmp_path / "restored", say=quiet).folder
    store = OrderStore.open(restored / "orders.json")
    assert store.count() == 10
    assert store.get(make_order(4).id).status == "payment_failed"  # type: ignore[union-attr]
    assert store.by_token(make_order(7).token).email == "buyer7@example.kz"  # type: ignore[union-attr]
    store.close()
    assert json.loads((restored / "accounts.json").read_text())["sessions"] == {"s": 9e9}
    for name in ("chat.json", "operators.json", "claims.json"):
        assert json.loads((restored / name).read_text()) == {"kept": name}
    assert (restored / "chat-files" / "shot.png").read_bytes() == b"\x89PNG screenshot"


def test_restore_refuses_a_manifest_naming_a_file_outside_the_backup(
    store_with_orders: Path, tmp_path: Path
) -> None:
    backup(store_with_orders, tmp_path / "backup", say=quiet)
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["../escaped.json"] = manifest["files"]["chat.json"]
    manifest_path.write_text(json.dumps(manifest))
    (tmp_path / "escaped.json").write_text(json.dumps({"kept": "chat.json"}))
    with pytest.raises(BackupError, match="outside the backup"):
        restore(tmp_path / "backup", tmp_path / "restored", say=quiet)
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize("damage", ["flipped byte", "cut short", "missing file", "no manifest"])
def test_restore_refuses_a_damaged_or_partial_backup_and_writes_nothing(
    store_with_orders: Path, tmp_path: Path, damage: str
) -> None:
    folder = backup(store_with_orders, tmp_path / "backup", say=quiet).folder
    archive = folder / "orders.archive.jsonl"
    if damage == "flipped byte":
        raw = bytearray(archive.read_bytes())
        raw[10] ^= 1
        archive.write_bytes(bytes(raw))
    elif damage == "cut short":
        archive.write_bytes(archive.read_bytes()[:-5])
    elif damage == "missing file":
        archive.unlink()
    else:
        (folder / "manifest.json").unlink()
    expected = {"flipped byte": "checksum", "cut short": "bytes", "missing file": "missing",
                "no manifest": "no manifest.json"}[damage]
    with pytest.raises(BackupError, match=expected):
        restore(folder, tmp_path / "restored", say=quiet)
    assert not (tmp_path / "restored").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_restore_refuses_a_folder_that_holds_anything(
    store_with_orders: Path, tmp_path: Path
) -> None:
    folder = backup(store_with_orders, tmp_path / "backup", say=quiet).folder
    with pytest.raises(BackupError, match="not empty"):
        restore(folder, store_with_orders.parent, say=quiet)
    store = OrderStore.open(store_with_orders)
    assert store.count() == 10
    store.close()


def test_backup_while_a_writer_keeps_writing_holds_every_order_acknowledged_before(
    tmp_path: Path,
) -> None:
    db = tmp_path / "live" / "orders.json"
    writer = subprocess.Popen(
        [sys.executable, str(HERE / "store_writer.py"), str(db), "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    acknowledged: list[str] = []

    def read() -> None:
        assert writer.stdout is not None
        for line in writer.stdout:
            acknowledged.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    snapshots: list[tuple[list[str], Path, int]] = []
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        for n in range(8):  # several, at different moments of the writer's cycle
            before = list(acknowledged)  # printed, so written, before the backup began
            folder = tmp_path / f"backup{n}"
            snapshots.append((before, folder, backup(db, folder, say=quiet).orders))
            time.sleep(0.05)
        assert len(acknowledged) > len(before), "the writer was not writing during the backups"
    finally:
        writer.kill()
        writer.wait()
    for n, (before, folder, orders) in enumerate(snapshots):
        store = OrderStore.open(restore(folder, tmp_path / f"restored{n}", say=quiet).folder
                                / "orders.json")
        created = {line.split()[1] for line in before if line.startswith("created ")}
        archived = {line.split()[1] for line in before if line.startswith("archived ")}
        assert [i for i in created if store.get(i) is None] == [], f"backup {n}"
        assert [i for i in archived if store.get(i).status != "payment_failed"] == []  # type: ignore[union-attr]
        assert store.count() == orders >= len(created)
        store.close()


@pytest.mark.parametrize(("manifest", "says"), [
    ("{not json", "manifest.json is damaged"),
    ('{"format": 99, "files": {}}', "not a backup manifest this version reads"),
])
def test_restore_refuses_a_manifest_it_cannot_read(
    store_with_orders: Path, tmp_path: Path, manifest: str, says: str
) -> None:
    folder = backup(store_with_orders, tmp_path / "backup", say=quiet).folder
    (folder / "manifest.json").write_text(manifest)

    with pytest.raises(BackupError, match=says):
        restore(folder, tmp_path / "restored", say=quiet)
    assert not (tmp_path / "restored").exists()


def test_restore_refuses_a_backup_whose_order_count_disagrees_and_leaves_no_trace(
    store_with_orders: Path, tmp_path: Path
) -> None:
    folder = backup(store_with_orders, tmp_path / "backup", say=quiet).folder
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["orders"] = 11
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupError, match="holds 10 orders, its manifest says 11"):
        restore(folder, tmp_path / "restored", say=quiet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "live"]  # no staging left


def test_restore_into_an_empty_folder_fills_it(store_with_orders: Path, tmp_path: Path) -> None:
    folder = backup(store_with_orders, tmp_path / "backup", say=quiet).folder
    (tmp_path / "restored").mkdir()

    restored = restore(folder, tmp_path / "restored", say=quiet).folder

    assert (restored / "orders.json").is_file()


def test_backup_names_a_missing_store_and_refuses_a_used_folder(
    store_with_orders: Path, tmp_path: Path
) -> None:
    with pytest.raises(BackupError, match="there is no order store at .*check ORDERS_DB"):
        backup(tmp_path / "nowhere" / "orders.json", tmp_path / "backup", say=quiet)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(BackupError, match="not empty: back up into a new folder"):
        backup(store_with_orders, tmp_path / "used", say=quiet)
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["notes.txt"]
