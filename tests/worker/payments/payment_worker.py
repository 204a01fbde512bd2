"""`uvicorn --factory payment_worker:app`: the worker running only the payment's own jobs."""

from __future__ import annotations

from starlette.applications import Starlette

from worker.app import create_app
from worker.payments.confirm import confirm_payment, recheck_payment


def app() -> Starlette:
    return create_app(handlers={"confirm_payment": confirm_payment, "recheck_payment": recheck_payment})
