"""Everything a request handler or a job needs: settings, store, catalogue and clients.

`create_app(settings)` builds one `Services` and the lifespan closes it, so tests pass their
own settings and nothing is patched. Handlers reach it as `request.app.state.services`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from worker import metrics, request_ids
from worker.catalogue import Catalogue
from worker.chat.limits import Limiter
from worker.chat.threads import ChatStore
from worker.config import Settings
from worker.fiscal import make_register
from worker.fiscal.register import CashRegister
from worker.orders.backends import Store, open_store
from worker.payments.epay import EpayClient
from worker.provisioning import open_provider
from worker.provisioning.notify_ids import RecentIds
from worker.provisioning.provider import Provider
from worker.rate_limits import RateLimits
from worker.topups.offers import FILE_NAME as TOPUPS_FILE
from worker.topups.offers import TopUpOffers

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
    chat: ChatStore  # the support chat's threads (the store's "chat" document)
    topup_offers: TopUpOffers  # topups.json beside the catalogue (issue 12)
    limits: RateLimits  # checkouts and sign-in links per address, kept beside the store
    register: CashRegister | None = None  # fiscal receipts; None when FISCAL_PROVIDER=none
    webhook_ids: RecentIds = field(default_factory=RecentIds)  # aggregator notifyIds seen
    # Order id → its age (s) when the reconciler last asked Epay (worker/payments/reconciler.py).
    status_asks: dict[str, float] = field(default_factory=dict)
    # Order id → when (time.monotonic) a return link last asked Epay (worker/payments/back_links.py).
    status_answered: dict[str, float] = field(default_factory=dict)
    chat_limits: Limiter = field(default_factory=Limiter)  # buyers' messages a minute
    chat_seen: dict[str, float] = field(default_factory=dict)  # thread id → panel last read it (embedded store; PostgreSQL: marks)
    chat_retry_at: dict[str, float] = field(default_factory=dict)  # reply e-mail failed: wait
    # The console's failed sign-ins: 5 per account, 20 per address in 15 minutes.
    sign_in_failures: Limiter = field(default_factory=lambda: Limiter(5, 900.0))
    sign_in_address_failures: Limiter = field(default_factory=lambda: Limiter(20, 900.0))

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the store and the catalogue (CatalogueError names a bad entry) and the clients."""
        # httpx logs every URL at INFO; ours carry no personal data, but keep the log quiet.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        catalog = Catalogue.load(settings.catalog_path)
        store = open_store(settings)
        http = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, follow_redirects=False,
            transport=metrics.CountingTransport(metrics.partner_hosts(settings),
                                               request_ids.LoggedTransport()),
        )
        return cls(
            settings=settings,
            store=store,
            catalogue=catalog,
            http=http,
            epay=EpayClient(settings, http),
            register=make_register(settings, http),
            limits=RateLimits.open(settings.orders_db, {
                "checkout_address": settings.checkout_rate_limit,
                "checkout_email": settings.checkout_email_rate_limit,
                "checkout_total": settings.checkout_total_rate_limit,
                "sign_in_address": settings.sign_in_rate_limit,
                "sign_in_mailbox": settings.sign_in_mailbox_rate_limit,
            }, shared=store.marks),
            provider=open_provider(settings, http),
            webhook_ids=RecentIds(marks=store.marks),
            chat=ChatStore(store.document("chat"), store.files("chat-files")),
            topup_offers=TopUpOffers(settings.catalog_path.with_name(TOPUPS_FILE)),
        )

    async def aclose(self) -> None:
        await self.limits.storage.close()
        await self.provider.aclose()
        await self.http.aclose()
        await self.store.wait_idle()
        self.store.close()
