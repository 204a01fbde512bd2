"""The after-sale harness (issue 6): the worker's services wired to the Epay and aggregator
sandboxes and a real mailbox, and orders made the way a sale makes them (money charged at
the Epay sandbox through its payform, a profile bought from the aggregator sandbox)."""

from __future__ import annotations

import asyncio
import random
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from worker.app import job_handlers
from worker.orders.model import Order, Payment, Profile, Status, utc_now
from worker.services import Services

ROOT = Path(__file__).resolve().parent.parent
VISA = ("4405639704015096", "01/27", "321")
CLIENT_ID = "test"
CLIENT_SECRET = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG"
TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"
AGGREGATOR_ACCESS_CODE, AGGREGATOR_SECRET = "demoAccessCode", "demoSecretKey"


def lz_compress(text: str) -> str:
    """The npm lz-string that payment-api.js ships (not a Python port)."""
    script = ("const L=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
              "process.stdin.on('end',()=>process.stdout.write(L.compressToEncodedURIComponent(s)))")
    done = subprocess.run(["node", "-e", script, str(ROOT / "node_modules" / "lz-string")],
                          input=text, text=True, capture_output=True, check=True)
    return done.stdout


def flatten(obj: dict[str, Any]) -> str:
    parts = []
    for key, value in obj.items():
        if isinstance(value, dict):
            value = flatten(value)
        parts.append(f"{key}={quote(str(value), safe='~()*!.' + chr(39))}")
    return "&".join(parts)


class AfterSale:
    """A support desk's world: the services, the sandboxes' control APIs, and the mailbox."""

    def __init__(self, services: Services, epay_url: str, aggregator_url: str) -> None:
        self.services = services
        self.store = services.store
        self.epay = httpx.Client(base_url=epay_url, timeout=15)
        self.aggregator = httpx.Client(base_url=aggregator_url, timeout=15)
        self._package: str | None = None

    def close(self) -> None:
        self.epay.close()
        self.aggregator.close()

    # ---- making orders -------------------------------------------------------------------

    async def order(self, status: Status = "delivered", *, email: str | None = "buyer@example.kz",
                    phone: str | None = "+77011234567", amount: int = 4990,
                    lang: str = "ru") -> Order:
        """An order as the sale leaves it in `status`: charged at Epay unless never paid,
        with a profile from the aggregator when delivered."""
        order_id = str(random.randrange(100_000_000, 999_999_999))
        order = Order(
            id=order_id, token=secrets.token_urlsafe(24), status=status, lang=lang,  # type: ignore[arg-type]
            email=email, phone=phone, package_code="TR-10GB-30D", destination="TR",
            package_title="Turkey 10 GB, 30 days", amount=amount,
        )
        if status not in ("awaiting_payment", "payment_failed"):
            tx = self.charge(order_id, amount)
            order.payment = Payment(transaction_id=tx["id"], reference="512345678901",
                                    card_mask=f"440563...{order_id[-4:]}", card_type="VISA")
            order.log("paid", f"epay transaction {tx['id']}")
        if status == "payment_failed":
            order.failure_reason = "declined"
        if status == "provisioning_failed":
            order.failure_reason = "the aggregator could not issue the profile"
        if status == "delivered":
            order.profile = await self.buy(order_id)
            order.provider_order_no = order.profile.provider_order_no
            order.email_sent_at = utc_now()
            order.log("delivered")
        await self.store.create(order)
        return order

    def charge(self, invoice_id: str, amount: int) -> dict[str, Any]:
        """Pay `amount` for `invoice_id` on the sandbox payform with a test card."""
        auth = self.epay.post("/oauth2/token", data={
            "grant_type": "client_credentials", "scope": "payment", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "invoiceID": invoice_id, "amount": str(amount),
            "currency": "KZT", "terminal": TERMINAL, "secret_hash": secrets.token_hex(8),
        }).json()
        payment = {"invoiceId": invoice_id, "backLink": "http://127.0.0.1:9/back",
                   "failureBackLink": "http://127.0.0.1:9/failure", "language": "rus",
                   "description": "Turkey 10 GB, 30 days", "accountId": "", "terminal": TERMINAL,
                   "amount": amount, "currency": "KZT", "auth": auth}
        self.epay.post("/payform/", data={"params": lz_compress(flatten(payment)), "pan": VISA[0],
                                          "expiry": VISA[1], "cvc": VISA[2], "name": "AIGERIM S"})
        return self.transaction(invoice_id)

    async def buy(self, transaction_id: str) -> Profile:
        provider = self.services.provider
        assert provider is not None
        if self._package is None:
            self._package = (await provider.list_packages())[0].code
        placed = await provider.order(transaction_id, self._package, since=utc_now())
        found = None
        for _ in range(50):  # allocation is immediate here, but the sandbox may be busy
            self.aggregator.post("/_sandbox/orders/allocate").raise_for_status()
            found = await provider.query(placed.order_no)
            if found is not None:
                break
            await asyncio.sleep(0.1)
        assert found is not None, f"the aggregator sandbox never allocated {placed.order_no}"
        return Profile(esim_tran_no=found.provider_id, iccid=found.iccid, lpa=found.lpa,
                       smdp_address=found.smdp_address, activation_code=found.matching_id,
                       provider_order_no=found.order_no, expires_at=found.expires_at,
                       total_bytes=found.total_bytes, used_bytes=0)

    # ---- what the sandboxes say ----------------------------------------------------------

    def transaction(self, invoice_id: str) -> dict[str, Any]:
        [tx] = [t for t in self.epay.get("/_sandbox/transactions").json()
                if t["invoice_id"] == invoice_id]
        return dict(tx)

    def profile(self, esim_tran_no: str) -> dict[str, Any]:
        profiles = self.aggregator.get("/_sandbox/profiles").json()["profiles"]
        [found] = [p for p in profiles if p["esimTranNo"] == esim_tran_no]
        return dict(found)

    def phone(self, esim_tran_no: str, action: str, **body: Any) -> None:
        """What the buyer's phone does to the profile: install, consume {"bytes": n}, delete."""
        self.aggregator.post(f"/_sandbox/esims/{esim_tran_no}/{action}", json=body).raise_for_status()

    def epay_refund(self, order: Order, amount: int) -> None:
        """A refund made in the Epay cabinet, outside our records."""
        assert order.payment is not None
        token = self.epay.post("/oauth2/token", data={
            "grant_type": "client_credentials", "scope": "payment", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}).json()["access_token"]
        answer = self.epay.post(f"/operation/{order.payment.transaction_id}/refund",
                                params={"amount": amount},
                                headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text

    # ---- jobs ----------------------------------------------------------------------------

    async def run_jobs(self, *kinds: str) -> list[str]:
        """Run the due jobs of these kinds once, as the job runner would; return what ran."""
        registry = job_handlers()
        ran = []
        for job in self.store.due_jobs():
            if job.kind not in kinds:
                continue
            order = self.store.get(job.order_id)
            assert order is not None
            await registry[job.kind](order, self.services)
            await self.store.finish_job(job.id)
            ran.append(job.kind)
        return ran
