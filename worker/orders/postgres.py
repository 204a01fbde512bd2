"""The order store on PostgreSQL (ORDERS_DB=postgresql://…): the same interface as the embedded
store (worker/orders/store.py), shared by any number of worker processes on any number of hosts.

An order is a row: its record as JSON plus the columns its lookups need (token, the id's last
six digits, the hashed e-mail, phone, ICCID; migrations/0001_orders_and_jobs.sql). An update
reads the row with its revision, applies the change and writes the order and its new jobs in
one statement that succeeds only if the revision is still the one read; when another writer
came in between, it reads again under ``SELECT … FOR UPDATE`` and applies the change to that
copy. So two processes never apply a transition twice. Updates that arrive while others are
being written go together (worker/orders/write_batches.py): one read and one write statement
for the batch. Under 100 simultaneous postLinks a statement per update, not the rows, was
what filled the cores (issue 13: ~1 ms of CPU per postLink in this process with five
statements each, ~0.5 ms batched, as much as on the embedded store).

Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease of JOB_LEASE seconds that the
claiming process renews while the job runs; a crashed process's jobs are taken over by
another one once the lease has run out. Reads run on the event loop (a lookup by index is a
fraction of a millisecond on loopback); writes run in a thread.
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from worker.orders.documents import PgDocument, PgFiles
from worker.orders.model import Order, utc_now
from worker.orders.queue import Job
from worker.orders.records import Record, email_key, is_finished, order_of, record_of
from worker.orders.store import ORDER_ID_DIGITS, DuplicateOrder, Unchanged, UnknownOrder
from worker.orders.write_batches import WriteBatches

Change = Callable[[Order], None]
JOB_COLUMNS = "id, kind, order_id, attempts, due_at, last_error, requests"
# A kind already pending for the order is one job: made due at the earlier time, and counted
# as asked for again (the runner re-runs it if it was running).
JOB_ASKED_AGAIN = ("ON CONFLICT (order_id, kind) DO UPDATE SET "
                   "due_at = least(jobs.due_at, excluded.due_at), requests = jobs.requests + 1")
CLAIM_BATCH = 16  # jobs one process claims at a time (its runner's concurrency); others claim the rest


def migrations() -> list[tuple[str, str]]:
    """The schema's migrations, (name, SQL), in the order they run."""
    folder = resources.files("worker.orders").joinpath("migrations")
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in files]


def migrate(url: str) -> list[str]:
    """Apply the migrations this database has not had yet, each in its own transaction and
    recorded in ``schema_migrations``; return the names applied. Safe to run concurrently."""
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for name, sql in migrations():
            with conn.transaction():
                # One migrator at a time (two processes or hosts starting together).
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))")
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY,"
                             " applied_at timestamptz NOT NULL DEFAULT now())")
                if conn.execute("SELECT 1 FROM schema_migrations WHERE name = %s",
                                (name,)).fetchone():
                    continue
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied.append(name)
    return applied


def _columns(record: Record) -> dict[str, Any]:
    profile = record.get("profile") or {}
    email = record.get("email")
    return {
        "id": record["id"], "token": record["token"], "suffix": record["id"][-6:],
        "email_key": email_key(email) if email else None, "phone": record.get("phone"),
        "iccid": profile.get("iccid"), "status": record["status"],
        "created_at": record["created_at"], "updated_at": record["updated_at"],
        "data": Jsonb(record),
    }


def insert_order(conn: psycopg.Connection[Any], order: Order, finished: bool = False) -> None:
    """A new row (also `invoke migrate-store`'s copy); UniqueViolation when id, suffix or token
    is taken."""
    columns = _columns(record_of(order))
    columns["finished"] = finished
    conn.execute(f"INSERT INTO orders ({', '.join(columns)}) VALUES "
                 f"({', '.join('%(' + c + ')s' for c in columns)})", columns)


def _job(row: dict[str, Any]) -> Job:
    return Job(id=row["id"], kind=row["kind"], order_id=row["order_id"], attempts=row["attempts"],
               due_at=row["due_at"], last_error=row["last_error"], requests=row["requests"],
               created_at=row.get("created_at") or utc_now())


@dataclass
class Update:
    """One ``update`` call, as the write batches carry it."""

    order_id: str
    change: Change
    kinds: list[str]
    due_at: float


def _applied(update: Update, row: dict[str, Any]) -> tuple[Order, dict[str, Any] | None]:
    """The order after the update's change, and its row for ``_save`` (None: Unchanged)."""
    order = order_of(row["data"])
    try:
        update.change(order)
    except Unchanged:
        return order_of(row["data"]), None
    order.updated_at = utc_now()
    save = _columns(record_of(order))
    # Finished once settled and no job is pending (is_finished), new ones included.
    save.update(data=save["data"].obj, rev=row["rev"], kinds=update.kinds, due=update.due_at,
                now=utc_now(), done=is_finished(order, 0) and not update.kinds)
    return order, save


class PgOrderStore:
    """See the module docstring. One instance (one connection pool) per process."""

    def __init__(self, url: str, lease_s: float, pool_size: int = 16) -> None:
        self.url = url
        self.lease_s = lease_s
        # Who holds a lease: this process (host and pid, for an operator reading the table).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        # A thread per pooled connection: concurrent writes wait on PostgreSQL (which flushes
        # their commits together), not on the event loop's small default executor.
        self._threads = ThreadPoolExecutor(pool_size, thread_name_prefix="orders-pg")
        self.pool = psycopg_pool.ConnectionPool(
            url, min_size=4, max_size=pool_size, open=False,
            kwargs={"row_factory": dict_row, "autocommit": True})
        self.on_jobs_added: Callable[[], None] | None = None
        self._updates: WriteBatches[Update, Order | None] = WriteBatches(
            self._write_updates, self._in_thread, key=lambda u: u.order_id)
        # The runner renews the leases of its running jobs this often: well before they end.
        self.renew_every = lease_s / 3

    @classmethod
    def open(cls, url: str, lease_s: float = 30.0) -> PgOrderStore:
        """Connect (waiting up to 10 s for the server) and bring the schema up to date."""
        migrate(url)
        store = cls(url, lease_s)
        store.pool.open(wait=True, timeout=10.0)
        return store

    async def wait_idle(self) -> None:
        """Nothing to wait for: every write is answered when its transaction commits."""

    def close(self) -> None:
        self.pool.close()
        self._threads.shutdown(wait=False)

    def _rows(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type, return-value]

    # ---- reading ---------------------------------------------------------------------

    def get(self, order_id: str) -> Order | None:
        rows = self._rows("SELECT data FROM orders WHERE id = %s", (order_id,))
        return Order.from_dict(rows[0]["data"]) if rows else None

    def by_token(self, token: str) -> Order | None:
        rows = self._rows("SELECT data FROM orders WHERE token = %s", (token,))
        return Order.from_dict(rows[0]["data"]) if rows else None

    def by_email(self, email: str) -> list[Order]:
        """Every order placed with this address, newest first."""
        rows = self._rows("SELECT data FROM orders WHERE email_key = %s ORDER BY created_at DESC",
                          (email_key(email),))
        return [Order.from_dict(r["data"]) for r in rows]

    def _scan(self, where: str = "") -> Iterator[Order]:
        # A server-side cursor: 100,000 orders stream, they are not loaded at once.
        with (self.pool.connection() as conn, conn.transaction(),
              conn.cursor(name="scan") as cursor):
            cursor.execute(f"SELECT data FROM orders {where} ORDER BY id")
            for row in cursor:
                yield Order.from_dict(row["data"])  # type: ignore[call-overload]

    def search(self, predicate: Callable[[Order], bool]) -> list[Order]:
        """Every order for which predicate is true (reads them all, as the embedded store does)."""
        return [o for o in self._scan() if predicate(o)]

    def live_orders(self) -> list[Order]:
        """The orders that are not finished: the reconciler's worklist."""
        return list(self._scan("WHERE NOT finished"))

    def new_order_id(self) -> str:
        """A random invoice id whose id and last six digits no order uses."""
        while True:
            order_id = str(10 ** (ORDER_ID_DIGITS - 1)
                           + secrets.randbelow(9 * 10 ** (ORDER_ID_DIGITS - 1)))
            if not self._rows("SELECT 1 FROM orders WHERE id = %s OR suffix = %s",
                              (order_id, order_id[-6:])):
                return order_id

    def count(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM orders")[0]["n"])

    def due_jobs(self, now: float | None = None) -> list[Job]:
        """Due jobs nobody holds a lease on (for operators and tests; the runner claims them)."""
        now = time.time() if now is None else now
        rows = self._rows(f"SELECT {JOB_COLUMNS} FROM jobs WHERE due_at <= %(now)s AND "
                          "(leased_until IS NULL OR leased_until < %(now)s) ORDER BY due_at, id",
                          {"now": now})
        return [_job(r) for r in rows]

    def jobs(self, order_id: str | None = None) -> list[Job]:
        """Pending jobs, all or of one order."""
        if order_id is None:
            rows = self._rows(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id")
        else:
            rows = self._rows(f"SELECT {JOB_COLUMNS} FROM jobs WHERE order_id = %s ORDER BY id",
                              (order_id,))
        return [_job(r) for r in rows]

    def next_due_at(self, skip: set[int] | frozenset[int] = frozenset()) -> float | None:
        """When the next job (other than ``skip``) can be claimed: due, and its lease over."""
        rows = self._rows("SELECT min(greatest(due_at, coalesce(leased_until, 0))) AS at FROM jobs "
                          "WHERE NOT (id = ANY(%s))", (list(skip),))
        at = rows[0]["at"]
        return float(at) if at is not None else None

    # ---- jobs: claims and leases ------------------------------------------------------

    def claim_jobs(self) -> list[Job]:
        """Take due jobs no live lease holds, leasing them to this process for JOB_LEASE."""
        now = time.time()
        rows = self._rows(
            f"UPDATE jobs SET leased_by = %(me)s, leased_until = %(until)s WHERE id IN ("
            "  SELECT id FROM jobs WHERE due_at <= %(now)s"
            "  AND (leased_until IS NULL OR leased_until < %(now)s)"
            "  ORDER BY due_at, id LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
            f" RETURNING {JOB_COLUMNS}",
            {"me": self.owner, "until": now + self.lease_s, "now": now, "n": CLAIM_BATCH})
        return sorted((_job(r) for r in rows), key=lambda j: (j.due_at, j.id))

    def renew_leases(self, job_ids: Iterable[int]) -> None:
        """Keep the jobs this process is running: nobody takes them over while it lives."""
        ids = list(job_ids)
        if ids:
            self._rows("UPDATE jobs SET leased_until = %s WHERE id = ANY(%s) AND leased_by = %s "
                       "RETURNING id", (time.time() + self.lease_s, ids, self.owner))

    # ---- writing ---------------------------------------------------------------------

    async def _in_thread(self, work: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    async def _write(self, work: Callable[[psycopg.Connection[Any]], Any],
                     transaction: bool = True) -> Any:
        """Run ``work`` on a pooled connection in a thread: in one transaction, or (for a
        single statement, atomic by itself) in autocommit."""
        def run() -> Any:
            with self.pool.connection() as conn:
                if not transaction:
                    return work(conn)
                with conn.transaction():
                    return work(conn)

        return await self._in_thread(run)

    def _jobs_added(self) -> None:
        if self.on_jobs_added is not None:
            self.on_jobs_added()

    async def create(self, order: Order) -> None:
        """Store a new order. DuplicateOrder if its id, token or id suffix exists."""

        def work(conn: psycopg.Connection[Any]) -> None:
            try:
                insert_order(conn, order)
            except psycopg.errors.UniqueViolation:
                raise DuplicateOrder(
                    f"order {order.id}: its id, last six digits or token is taken") from None

        await self._write(work, transaction=False)

    async def update(
        self, order_id: str, change: Change, enqueue: Iterable[str] = (), delay_s: float = 0.0
    ) -> Order:
        """Apply ``change`` to the freshest copy of the order and write it with its new jobs
        atomically (see the module docstring: optimistic first, together with the updates
        that came meanwhile, then under the row's lock if another writer came in between, so
        ``change`` may run twice; only the last run counts). Unchanged writes nothing; any
        other error aborts."""
        wanted = Update(order_id, change, list(dict.fromkeys(enqueue)), time.time() + delay_s)
        result = await self._updates.submit(wanted)
        if result is None:  # another process was quicker: redo it on the locked row
            result = await self._write(lambda conn: self._locked_update(conn, wanted))
        if wanted.kinds:
            self._jobs_added()
        return result

    def _write_updates(self, updates: list[Update]) -> list[Order | None | Exception]:
        """One batch (worker/orders/write_batches.py): read the orders, apply each change, write
        the changed ones whose revision held in one statement. Per update: the order as
        written (or as stored, when Unchanged), None when its revision moved on, or the error."""
        with self.pool.connection() as pooled:
            conn: psycopg.Connection[Any] = pooled  # its rows are dicts (dict_row)
            rows = {r["id"]: r for r in conn.execute(
                "SELECT id, data, rev FROM orders WHERE id = ANY(%s)",
                ([u.order_id for u in updates],)).fetchall()}
            results: list[Order | None | Exception] = []
            saves: list[dict[str, Any]] = []
            for update in updates:
                row = rows.get(update.order_id)
                try:
                    if row is None:
                        raise UnknownOrder(update.order_id)
                    order, save = _applied(update, row)
                except Exception as error:  # noqa: BLE001 - this update's own failure
                    results.append(error)
                    continue
                results.append(order)
                if save is not None:
                    saves.append(save)
            written = {save["id"] for save in saves}
            saved, failures = self._save_each_alone_if_need_be(conn, saves)
            for n, update in enumerate(updates):
                if update.order_id in written and update.order_id not in saved:
                    results[n] = failures.get(update.order_id)  # None: its revision moved on
        return results

    def _save_each_alone_if_need_be(
        self, conn: psycopg.Connection[Any], saves: list[dict[str, Any]]
    ) -> tuple[set[str], dict[str, psycopg.Error]]:
        """``_save`` the batch; if the database refuses it (nothing was written), save each
        order alone, so one order the database refuses fails only its own update. Returns
        the ids written and each refused id's error."""
        if not saves:
            return set(), {}
        try:
            return self._save(conn, saves), {}
        except psycopg.Error as error:
            if len(saves) == 1:
                return set(), {saves[0]["id"]: error}
        saved: set[str] = set()
        failures: dict[str, psycopg.Error] = {}
        for save in saves:
            try:
                saved |= self._save(conn, [save])
            except psycopg.Error as error:
                failures[save["id"]] = error
        return saved, failures

    def _locked_update(self, conn: psycopg.Connection[Any], update: Update) -> Order:
        """The update under ``SELECT … FOR UPDATE`` (in a transaction): its revision holds."""
        row = conn.execute("SELECT id, data, rev FROM orders WHERE id = %s FOR UPDATE",
                           (update.order_id,)).fetchone()
        if row is None:
            raise UnknownOrder(update.order_id)
        order, save = _applied(update, row)
        if save is not None:
            self._save(conn, [save])
        return order

    @staticmethod
    def _save(conn: psycopg.Connection[Any], saves: list[dict[str, Any]]) -> set[str]:
        """Write the orders and enqueue their jobs in one statement, each only if its row is
        still at the revision read; return the ids written."""
        rows = conn.execute(
            "WITH new AS (SELECT * FROM jsonb_to_recordset(%s) AS new(id text, rev int, "
            "email_key text, phone text, iccid text, status text, updated_at text, data jsonb, "
            "done boolean, kinds text[], due double precision, now text)), "
            "saved AS (UPDATE orders o SET email_key = new.email_key, phone = new.phone, "
            "iccid = new.iccid, status = new.status, updated_at = new.updated_at, "
            "data = new.data, rev = o.rev + 1, finished = new.done AND NOT EXISTS "
            "(SELECT 1 FROM jobs WHERE jobs.order_id = o.id) FROM new "
            "WHERE o.id = new.id AND o.rev = new.rev RETURNING o.id), "
            "queued AS (INSERT INTO jobs (kind, order_id, due_at, created_at) "
            "SELECT kind, new.id, new.due, new.now FROM new JOIN saved ON saved.id = new.id, "
            "unnest(new.kinds) kind " + JOB_ASKED_AGAIN + ") "
            "SELECT id FROM saved", (Jsonb(saves),)).fetchall()
        return {r["id"] for r in rows}

    async def enqueue(self, order_id: str, kind: str, delay_s: float = 0.0) -> None:
        """Add a job for an order without changing it (e.g. a webhook hint)."""

        def work(conn: psycopg.Connection[Any]) -> None:
            if conn.execute("UPDATE orders SET finished = false WHERE id = %s RETURNING id",
                            (order_id,)).fetchone() is None:
                raise UnknownOrder(order_id)
            conn.execute("INSERT INTO jobs (kind, order_id, due_at, created_at) "
                         "VALUES (%s, %s, %s, %s) " + JOB_ASKED_AGAIN,
                         (kind, order_id, time.time() + delay_s, utc_now()))

        await self._write(work)
        self._jobs_added()

    def _job_row(self, conn: psycopg.Connection[Any], job_id: int) -> dict[str, Any] | None:
        """The job, locked, unless another process took it over after our lease ran out."""
        row: dict[str, Any] | None = conn.execute(
            "SELECT order_id, requests, leased_by FROM jobs WHERE id = %s FOR UPDATE",
            (job_id,)).fetchone()
        if row is None or row["leased_by"] not in (None, self.owner):
            return None
        return row

    async def finish_job(self, job_id: int, requests: int | None = None) -> None:
        """Remove a done job; keep it, due now, if it was asked for again while it ran."""

        def work(conn: psycopg.Connection[Any]) -> None:
            job = self._job_row(conn, job_id)
            if job is None:
                return
            if requests is not None and job["requests"] != requests:
                conn.execute("UPDATE jobs SET due_at = %s, leased_by = NULL, leased_until = NULL "
                             "WHERE id = %s", (time.time(), job_id))
                return
            conn.execute("DELETE FROM jobs WHERE id = %s", (job_id,))
            row = conn.execute("SELECT data FROM orders WHERE id = %s FOR UPDATE",
                               (job["order_id"],)).fetchone()
            if row is not None:  # the order may be finished now that its job is done
                self._save_finished(conn, order_of(row["data"]))

        await self._write(work)

    def _save_finished(self, conn: psycopg.Connection[Any], order: Order) -> None:
        conn.execute("UPDATE orders SET finished = %s AND NOT EXISTS "
                     "(SELECT 1 FROM jobs WHERE order_id = %s) WHERE id = %s",
                     (is_finished(order, 0), order.id, order.id))

    async def retry_job(
        self, job_id: int, delay_s: float, error: str | None, requests: int | None = None
    ) -> None:
        """Count a failed attempt and make the job due after ``delay_s`` (now, if it was asked
        for again while it ran); its lease ends."""

        def work(conn: psycopg.Connection[Any]) -> None:
            job = self._job_row(conn, job_id)
            if job is None:
                return
            asked_again = requests is not None and job["requests"] != requests
            conn.execute(
                "UPDATE jobs SET attempts = attempts + 1, due_at = %s, last_error = %s, "
                "leased_by = NULL, leased_until = NULL WHERE id = %s",
                (time.time() + (0.0 if asked_again else delay_s), (error or "")[:500] or None,
                 job_id))

        await self._write(work)

    def compact_archive(self) -> int:
        """Nothing to compact: a row holds only the order's current version."""
        return self.count()

    def probe(self) -> None:
        """A write (a transaction id is allocated); OSError when the database cannot (GET /readyz)."""
        try:
            self._rows("SELECT txid_current() AS id")
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            raise OSError(errno.EIO, f"PostgreSQL: {type(error).__name__}") from None

    # ---- the support desk's documents and screenshots (worker/orders/documents.py) ----------

    def document(self, name: str) -> PgDocument:
        return PgDocument(self.pool, name)

    def files(self, name: str) -> PgFiles:
        return PgFiles(self.pool, name)

    # ---- marks: state every process shares (sign-in links, sessions, limits, notifyIds) ----

    @property
    def marks(self) -> PgOrderStore:
        return self

    def mark(self, scope: str, key: str, ttl_s: float) -> bool:
        """Set the mark for ``ttl_s`` seconds; False (and nothing changed) if it is already set."""
        now = time.time()
        with self.pool.connection() as conn, conn.pipeline():
            # Marks that ran out an hour ago are gone for good: the table stays small.
            conn.execute("DELETE FROM marks WHERE expires_at < %s", (now - 3600,))
            cursor = conn.execute(
                "INSERT INTO marks (scope, key, expires_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at "
                "WHERE marks.expires_at <= %s RETURNING 1", (scope, key, now + ttl_s, now))
        return cursor.fetchone() is not None

    def touch(self, scope: str, key: str, ttl_s: float) -> None:
        """Set the mark for ``ttl_s`` seconds from now, whether or not it was set."""
        self._rows("INSERT INTO marks (scope, key, expires_at) VALUES (%s, %s, %s) "
                   "ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at "
                   "RETURNING 1", (scope, key, time.time() + ttl_s))

    def marked(self, scope: str, key: str) -> bool:
        return bool(self._rows("SELECT 1 FROM marks WHERE scope = %s AND key = %s AND "
                               "expires_at > %s", (scope, key, time.time())))

    def unmark(self, scope: str, key: str) -> None:
        self._rows("DELETE FROM marks WHERE scope = %s AND key = %s RETURNING 1", (scope, key))

    # ---- the limits' counts (worker/rate_limits.py, `SharedStorage`) ----

    def count_up(self, key: str, expiry_s: float, amount: int) -> int:
        """Add ``amount`` to the count of ``key`` (a new one, or one whose window ran out,
        starts from zero and runs ``expiry_s`` seconds); return the new count."""
        now = time.time()
        with self.pool.connection() as conn, conn.pipeline():
            conn.execute("DELETE FROM limit_counts WHERE expires_at < %s", (now - 3600,))
            cursor = conn.execute(
                "INSERT INTO limit_counts AS c (key, count, expires_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN c.expires_at > %s THEN c.count + excluded.count "
                "ELSE excluded.count END, "
                "expires_at = CASE WHEN c.expires_at > %s THEN c.expires_at "
                "ELSE excluded.expires_at END RETURNING count",
                (key, amount, now + expiry_s, now, now))
        row: Any = cursor.fetchone()  # a dict_row; the upsert always returns one
        return int(row["count"])

    def count_all(self, windows: list[tuple[str, int, int]]) -> float | None:
        """Count one hit against each ``(key, limit, window seconds)`` unless one of them is
        used up: then count nothing and return when the last used-up window ends (epoch s).
        One statement for all of a request's windows, where testing and counting each window
        apart took a dozen round trips on the event loop per checkout."""
        unique = {key: (limit, window) for key, limit, window in windows}
        row: Any = self._rows(
            "WITH swept AS (DELETE FROM limit_counts WHERE expires_at < %(now)s - 3600), "
            "wanted AS (SELECT * FROM unnest(%(keys)s::text[], %(limits)s::int[], "
            "%(windows)s::float8[]) AS w(key, lim, window_s)), "
            "used_up AS (SELECT c.expires_at FROM wanted JOIN limit_counts c USING (key) "
            "WHERE c.expires_at > %(now)s AND c.count >= wanted.lim), "
            "counted AS (INSERT INTO limit_counts AS c (key, count, expires_at) "
            "SELECT key, 1, %(now)s + window_s FROM wanted WHERE NOT EXISTS (SELECT 1 FROM used_up) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN c.expires_at > %(now)s THEN c.count + 1 ELSE 1 END, "
            "expires_at = CASE WHEN c.expires_at > %(now)s THEN c.expires_at "
            "ELSE excluded.expires_at END) "
            "SELECT max(expires_at) AS until FROM used_up",
            {"now": time.time(), "keys": list(unique),
             "limits": [limit for limit, _ in unique.values()],
             "windows": [window for _, window in unique.values()]})[0]
        return float(row["until"]) if row["until"] is not None else None

    def counted(self, key: str) -> tuple[int, float] | None:
        """The live count of ``key`` and when its window ends; None when it has none."""
        rows = self._rows("SELECT count, expires_at FROM limit_counts WHERE key = %s AND "
                          "expires_at > %s", (key, time.time()))
        return (int(rows[0]["count"]), float(rows[0]["expires_at"])) if rows else None

    def uncount(self, key: str | None = None) -> None:
        """Forget the count of ``key``, or every count."""
        if key is None:
            self._rows("DELETE FROM limit_counts RETURNING 1")
        else:
            self._rows("DELETE FROM limit_counts WHERE key = %s RETURNING 1", (key,))

    @property
    def shares_jobs(self) -> bool:
        """Every process runs jobs (claims and leases keep each job to one at a time)."""
        return True

    def take_lead(self) -> Lead | None:
        """The right to run the once-per-shop loops (reconciler, alerts): a session advisory
        lock on its own connection, freed when this process ends or its connection drops."""
        conn = psycopg.connect(self.url, autocommit=True)
        held = conn.execute("SELECT pg_try_advisory_lock(hashtext('qazaq-esim lead'))").fetchone()
        if held is None or not held[0]:
            conn.close()
            return None
        return Lead(conn)


class Lead:
    """Held while its connection lives (see PgOrderStore.take_lead)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def release(self) -> None:
        self._conn.close()
