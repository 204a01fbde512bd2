"""Everything a request handler or a job needs: settings, store, catalogue and clients.

`create_app(settings)` builds one `Services` and the lifespan closes it, so tests pass their
own settings and nothing is patched. Handlers reach it as `request.app.state.services`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from worker import metrics
from worker.catalogue import Catalogue
from worker.config import Settings
from worker.fiscal import make_register
from worker.fiscal.register import CashRegister
from worker.orders.backends import Store, open_store
from worker.payments.epay import EpayClient
from worker.provisioning import open_provider
from worker.provisioning.notify_ids import RecentIds
from worker.provisioning.provider import Provider

# Every outgoing call gets a deadline; nothing waits forever on a partner.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class Services:
    settings: Settings
    store: Store
    catalogue: Catalogue
    http: httpx.AsyncClient
    epay: EpayClient
    provider: Provider  # the eSIM aggregator (ESIM_PROVIDER)
    register: CashRegister | None = None  # fiscal receipts; None when FISCAL_PROVIDER=none
    webhook_ids: RecentIds = field(default_factory=RecentIds)  # aggregator notifyIds seen

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the store and the catalogue (CatalogueError names a bad entry) and the clients."""
        # httpx logs every URL at INFO; ours carry no personal data, but keep the log quiet.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        catalog = Catalogue.load(settings.catalog_path)
        store = open_store(settings)
        http = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, follow_redirects=False,
            transport=metrics.CountingTransport(metrics.partner_hosts(settings)),
        )
        return cls(
            settings=settings,
            store=store,
            catalogue=catalog,
            http=http,
            epay=EpayClient(settings, http),
            register=make_register(settings, http),
            provider=open_provider(settings, http),
            webhook_ids=RecentIds(marks=store.marks),
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
        await self.http.aclose()
        await self.store.wait_idle()
        self.store.close()
