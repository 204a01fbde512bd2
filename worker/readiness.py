"""`GET /readyz`: 200 when the worker can take orders, 503 naming what is wrong.

Unlike `/healthz` (the process answers), this writes: a small file beside ORDERS_DB,
fsynced and removed (on PostgreSQL: a transaction), so a full, read-only or vanished disk
or database shows here before a buyer's checkout fails; and it checks that the job runner (payments, deliveries) is running.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

PROBE_TIMEOUT_S = 2.0


async def readyz(request: Request) -> JSONResponse:
    services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(asyncio.to_thread(services.store.probe), PROBE_TIMEOUT_S)
        checks["store"] = "writable"
    except TimeoutError:
        checks["store"] = f"a write took over {PROBE_TIMEOUT_S:.0f} s"
    except OSError as error:
        checks["store"] = f"not writable ({error.strerror or type(error).__name__})"
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        checks["jobs"] = "run by another worker process"  # it holds the embedded store's runner.lock
    else:
        checks["jobs"] = "running" if runner.alive else "the job runner has stopped"
    ready = checks["store"] == "writable" and checks["jobs"] != "the job runner has stopped"
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
