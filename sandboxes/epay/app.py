"""The Epay sandbox's route table and `create_app(options)`."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from . import api, control, oauth, payform
from .callbacks import Courier
from .ledger import Ledger
from .options import Options

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LZ_STRING = ROOT / "node_modules" / "lz-string" / "libs" / "lz-string.min.js"


class Sandbox:
    """Options, memory and the callback courier of one running sandbox."""

    def __init__(self, options: Options) -> None:
        options.check()
        self.initial = copy.deepcopy(options)
        self.options = options
        self.ledger = Ledger()
        self.courier = Courier(self.ledger, self.options)
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]))
        self._lz_string: str | None = None

    def base_url(self, request: Request) -> str:
        return (self.options.public_url or str(request.base_url)).rstrip("/")

    def lz_string(self) -> str:
        if self._lz_string is None:
            if not LZ_STRING.exists():
                raise RuntimeError(f"{LZ_STRING} is missing; run `npm ci` in {ROOT} "
                                   "(payment-api.js serves lz-string from node_modules)")
            self._lz_string = LZ_STRING.read_text()
        return self._lz_string

    async def reset(self) -> None:
        await self.courier.close()
        fresh = copy.deepcopy(self.initial)
        for name, value in fresh.as_dict().items():
            setattr(self.options, name, value)
        self.ledger.clear()


def create_app(options: Options | None = None) -> Starlette:
    sandbox = Sandbox(options or Options())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.courier.close()

    routes = [
        Route("/oauth2/token", oauth.token, methods=["POST"]),
        Route("/epay2/oauth2/token", oauth.token, methods=["POST"]),
        Route("/payform/payment-api.js", payform.payment_js),
        Route("/payform/", payform.show, methods=["GET"]),
        Route("/payform/", payform.submit, methods=["POST"]),
        Route("/_sandbox/", control.dashboard),
        Route("/_sandbox/options", control.options, methods=["GET", "POST"]),
        Route("/_sandbox/transactions", control.transactions),
        Route("/_sandbox/transactions/{id}/deliver", control.deliver, methods=["POST"]),
        Route("/_sandbox/transactions/{id}/lapse", control.lapse, methods=["POST"]),
        Route("/_sandbox/deliveries", control.deliveries),
        Route("/_sandbox/reset", control.reset, methods=["POST"]),
    ]
    # The API host is reached with and without the legacy `/api` prefix (§1, pitfall 10).
    for prefix in ("", "/api"):
        routes += [
            Route(prefix + "/check-status/payment/transaction/{invoice_id}", api.check_status),
            Route(prefix + "/operation/{id}/{action:str}", api.operation, methods=["POST"]),
            Route(prefix + "/operation/{invoice_id}", api.legacy_operation),
        ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app
