"""`/_sandbox/`: the Webkassa sandbox's state, outbox, clock and fault switches (fake only)."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .state import DUPLICATE_MODES, FAILURE_MODES, Faults, State, num


def describe(state: State) -> dict[str, Any]:
    return {
        "now": state.now().isoformat(),
        "faults": asdict(state.faults),
        "cashboxes": {
            number: {
                "shifts": [
                    {"number": s.number, "open_date": s.open_date.isoformat(),
                     "close_date": s.close_date.isoformat() if s.close_date else None,
                     "documents": s.document_count, "sell": num(s.sell),
                     "return_sell": num(s.return_sell)}
                    for s in box.shifts
                ],
                "offline_since": box.offline_since.isoformat() if box.offline_since else None,
            }
            for number, box in state.cashboxes.items()
        },
        "receipts": [
            {"cashbox": r.cashbox, "key": r.key, "operation_type": r.operation_type,
             "check_number": r.check_number, "shift_number": r.shift_number,
             "total": num(r.total), "offline": r.offline, "link_id": r.link_id}
            for r in state.receipts
        ],
        "offline_backlog": list(state.offline_backlog),
        "tokens": len(state.tokens),
    }


async def control(request: Request) -> Response:
    state: State = request.app.state.webkassa
    action = request.path_params["action"]
    body = await request.json() if request.method == "POST" and await request.body() else {}
    if action == "state":
        return JSONResponse(describe(state))
    if action == "outbox":
        return JSONResponse(state.outbox)
    if action == "reset":
        request.app.state.webkassa = request.app.state.make_state()
        return JSONResponse(describe(request.app.state.webkassa))
    if action == "faults":
        names = {f.name for f in fields(Faults)} - {"next_failures"}
        unknown = set(body) - names
        if unknown:
            return JSONResponse({"error": f"unknown switches {sorted(unknown)}; known: {sorted(names)}"}, 400)
        if body.get("duplicate_mode", DUPLICATE_MODES[0]) not in DUPLICATE_MODES:
            return JSONResponse({"error": f"duplicate_mode must be one of {DUPLICATE_MODES}"}, 400)
        if body.get("ofd_offline") and not state.faults.ofd_offline:
            for box in state.cashboxes.values():
                box.offline_since = state.now()
        if body.get("ofd_offline") is False:
            state.offline_backlog.clear()  # the backlog reaches the OFD
            for box in state.cashboxes.values():
                box.offline_since = None
        for name, value in body.items():
            setattr(state.faults, name, value)
        return JSONResponse(asdict(state.faults))
    if action == "fail-next":
        if body.get("mode") not in FAILURE_MODES:
            return JSONResponse({"error": f"mode must be one of {FAILURE_MODES}"}, 400)
        state.faults.next_failures.append(dict(body))
        return JSONResponse(asdict(state.faults))
    if action == "clock":
        state.clock_offset += timedelta(seconds=float(body.get("advance_s", 0)))
        return JSONResponse({"now": state.now().isoformat()})
    if action == "expire-tokens":
        for token in state.tokens.values():
            token.expires_at = state.now()
        return JSONResponse({"expired": len(state.tokens)})
    if action == "age-shift":  # the open shift started `hours` ago (code 11 after 24 h)
        hours = float(body.get("hours", 25))
        for box in state.cashboxes.values():
            if (shift := box.open_shift()) is not None:
                shift.open_date = state.now() - timedelta(hours=hours)
        return JSONResponse(describe(state))
    if action == "age-offline":  # the OFD has been unreachable for `hours` (code 18 after 72 h)
        hours = float(body.get("hours", 73))
        for box in state.cashboxes.values():
            box.offline_since = state.now() - timedelta(hours=hours)
        return JSONResponse(describe(state))
    return JSONResponse({"error": f"unknown control {action!r}"}, 404)
