"""`GET /readyz`: 200 when the worker can take orders, 503 naming what is wrong.

Unlike `/healthz` (the process answers), this writes: a small file beside ORDERS_DB,
fsynced and removed, so a full, read-only or vanished disk shows here before a buyer's
checkout fails; and it checks that the job runner (payments, deliveries) is running.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse

PROBE_TIMEOUT_S = 2.0


def probe_store(orders_db: Path) -> None:
    """Write, fsync and remove a file in the store's folder; OSError when it cannot."""
    probe = orders_db.with_name(f".readyz.{os.getpid()}")
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"ok")
        os.fsync(fd)
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


async def readyz(request: Request) -> JSONResponse:
    services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(asyncio.to_thread(probe_store, services.settings.orders_db),
                               PROBE_TIMEOUT_S)
        checks["store"] = "writable"
    except TimeoutError:
        checks["store"] = f"a write took over {PROBE_TIMEOUT_S:.0f} s"
    except OSError as error:
        checks["store"] = f"not writable ({error.strerror or type(error).__name__})"
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        checks["jobs"] = "run by another worker process"  # it holds the store's runner.lock
    else:
        checks["jobs"] = "running" if runner.alive else "the job runner has stopped"
    ready = checks["store"] == "writable" and checks["jobs"] != "the job runner has stopped"
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
