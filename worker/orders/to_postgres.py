"""`invoke migrate-store --from var/orders.json --to postgresql://…`: copy an embedded order store
into an empty PostgreSQL database, then check that every order arrived unchanged.

The copy is one transaction: orders (live and archived, their current version), pending
jobs with their attempts and due times, and the support desk's state beside the store (the
chat's threads and screenshots, the console's operators and claims; worker/orders/documents.py). Then the database is read back and compared: the
counts, and a SHA-256 of each order's record. Stop the worker first: orders written to the
embedded store during the copy would be left behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from worker.orders.model import Order
from worker.orders.postgres import PgOrderStore, insert_order, migrate
from worker.orders.records import record_of
from worker.orders.store import OrderStore

DOCUMENTS = ("chat", "operators", "claims")  # the store's documents the worker keeps
SCREENSHOTS = "chat-files"


class MigrationRefused(RuntimeError):
    """The copy cannot start or did not verify; the message says what to do."""


@dataclass(frozen=True)
class Copied:
    orders: int
    jobs: int


def checksum(order: Order) -> str:
    """The order's record, canonically encoded and hashed: equal on both sides after a copy."""
    encoded = json.dumps(record_of(order), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def differences(source: OrderStore, target: PgOrderStore) -> list[str]:
    """What differs between the two stores (empty when the copy is faithful)."""
    wanted = {o.id: checksum(o) for o in source.search(lambda o: True)}
    found = {o.id: checksum(o) for o in target.search(lambda o: True)}
    problems = [f"order {i}: missing" for i in sorted(set(wanted) - set(found))]
    problems += [f"order {i}: not in the source" for i in sorted(set(found) - set(wanted))]
    problems += [f"order {i}: checksum differs" for i in sorted(wanted)
                 if i in found and found[i] != wanted[i]]
    jobs = sorted((j.order_id, j.kind, j.attempts, j.requests) for j in source.jobs())
    copied = sorted((j.order_id, j.kind, j.attempts, j.requests) for j in target.jobs())
    if jobs != copied:
        problems.append(f"jobs: {len(jobs)} in the source, {len(copied)} copied or changed")
    problems += [f"document {name}: differs" for name in DOCUMENTS
                 if source.document(name).read() != target.document(name).read()]
    problems += [f"screenshot {name}: differs" for name, data in _screenshots(source)
                 if target.files(SCREENSHOTS).get(name) != data]
    return problems


def _screenshots(source: OrderStore) -> list[tuple[str, bytes]]:
    folder = source.path.with_name(SCREENSHOTS)
    return [(f.name, f.read_bytes()) for f in sorted(folder.glob("*"))]


def copy_store(source_path: Path, url: str, say: Callable[[str], None] = print) -> Copied:
    """Copy the embedded store at ``source_path`` into the empty database at ``url``, verified."""
    if not source_path.exists():
        raise MigrationRefused(f"there is no order store at {source_path}: check --from")
    try:
        migrate(url)
        target = PgOrderStore.open(url)
    except psycopg.Error as error:
        raise MigrationRefused(f"PostgreSQL at {url.rsplit('@', 1)[-1]} cannot be used "
                               f"({' '.join(str(error).split())[:200]}): check --to") from None
    source = OrderStore.open(source_path)
    try:
        if target.count() or target.jobs():
            raise MigrationRefused(
                f"{url.rsplit('@', 1)[-1]} already holds orders: copy only into an empty database "
                "(create a new one, or drop this one's tables if it is a failed copy)")
        orders = source.search(lambda o: True)
        jobs = source.jobs()
        live = {o.id for o in source.live_orders()}  # the embedded store's "not finished"
        with target.pool.connection() as conn, conn.transaction():
            for order in orders:
                insert_order(conn, order, finished=order.id not in live)
            for job in jobs:
                conn.execute(
                    "INSERT INTO jobs (id, kind, order_id, attempts, due_at, last_error, "
                    "requests, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, now()::text)",
                    (job.id, job.kind, job.order_id, job.attempts, job.due_at, job.last_error,
                     job.requests))
            conn.execute("SELECT setval('jobs_id_seq', greatest(1, (SELECT max(id) FROM jobs)))")
            for name in DOCUMENTS:
                conn.execute("INSERT INTO documents (name, body) VALUES (%s, %s)",
                             (name, Jsonb(source.document(name).read())))
            for name, data in _screenshots(source):
                conn.execute("INSERT INTO files (name, body) VALUES (%s, %s)",
                             (f"{SCREENSHOTS}/{name}", data))
        say(f"copied {len(orders)} orders and {len(jobs)} pending jobs; verifying…")
        problems = differences(source, target)
        if problems:
            raise MigrationRefused("the copy does not match the source: "
                                   + "; ".join(problems[:10])
                                   + ". Drop the database's tables and copy again")
        say(f"verified: {target.count()} orders, {len(target.jobs())} jobs, every checksum equal")
        return Copied(orders=len(orders), jobs=len(jobs))
    finally:
        source.close()
        target.close()
