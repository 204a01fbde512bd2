"""Helpers for the aggregator sandbox tests: a webhook receiver and an eSIM Access client's verbs.

The signing here is written from the spec (§3), independently of the sandbox and of worker/.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCESS_CODE = "demoAccessCode"
SECRET_KEY = "demoSecretKey"
GB = 1073741824
PAGER = {"pageNum": 1, "pageSize": 20}
# Short but real delays, so tests see the pending state and the background tasks.
TEST_OPTIONS: dict[str, Any] = {
    "allocation_delay_s": 0.15,
    "webhook_delay_s": 0.5,
    "signature_mode": "required",  # a client that signs wrongly must fail in CI
}


@dataclass
class Receiver:
    """Our side of the webhooks: records every POST, answers with the queued statuses."""

    url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def clear(self) -> None:
        with self.changed:
            self.events.clear()
            self.times.clear()
            self.answers.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.events) >= count, timeout)
            return list(self.events)

    def of_type(self, notify_type: str) -> list[dict[str, Any]]:
        with self.changed:
            return [e for e in self.events if e["notifyType"] == notify_type]

    async def hook(self, request: Request) -> Response:
        body = await request.json()
        with self.changed:
            self.events.append(body)
            self.times.append(time.monotonic())
            status = self.answers.pop(0) if self.answers else 200
            self.changed.notify_all()
        return JSONResponse({"ok": status == 200}, status_code=status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])


def signature(timestamp: str, request_id: str, access_code: str, body: bytes, secret: str) -> str:
    text = (timestamp + request_id + access_code).encode() + body
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


class Aggregator:
    """What an eSIM Access client does, plus the sandbox's control verbs."""

    def __init__(self, url: str, receiver: Receiver) -> None:
        self.url = url
        self.receiver = receiver
        self.http = httpx.Client(base_url=url, timeout=10)
        self.next_id = 0

    # -- the open API ------------------------------------------------------------------------
    def post(
        self,
        endpoint: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        timestamp: str | None = None,
        secret: str = SECRET_KEY,
        headers: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
        timeout: float = 10.0,
    ) -> httpx.Response:
        """A signed call; `drop` leaves headers out, `headers` overrides them."""
        content = raw if raw is not None else json.dumps({} if body is None else body).encode()
        ts = timestamp or str(int(time.time() * 1000))
        request_id = uuid.uuid4().hex
        sent = {
            "Content-Type": "application/json",
            "RT-AccessCode": ACCESS_CODE,
            "RT-RequestID": request_id,
            "RT-Timestamp": ts,
            "RT-Signature": signature(ts, request_id, ACCESS_CODE, content, secret),
        }
        sent.update(headers or {})
        for name in drop:
            sent.pop(name)
        return self.http.post(
            f"/api/v1/open/{endpoint}", content=content, headers=sent, timeout=timeout
        )

    def call(self, endpoint: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        answer = self.post(endpoint, body, **kwargs)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def ok(self, endpoint: str, body: Any = None) -> Any:
        envelope = self.call(endpoint, body)
        assert envelope["success"] is True and envelope["errorCode"] == "0", envelope
        return envelope["obj"]

    def error(self, endpoint: str, body: Any = None, **kwargs: Any) -> str:
        envelope = self.call(endpoint, body, **kwargs)
        assert envelope["success"] is False and envelope["obj"] is None, envelope
        return str(envelope["errorCode"])

    def packages(self, **filters: Any) -> list[dict[str, Any]]:
        body = {"locationCode": "", "type": "", "packageCode": "", "iccid": "", **filters}
        return list(self.ok("package/list", body)["packageList"])

    def package(self, slug: str) -> dict[str, Any]:
        (package,) = self.packages(packageCode=slug)
        return package

    def transaction(self) -> str:
        self.next_id += 1
        return f"qz-{uuid.uuid4().hex[:8]}-{self.next_id}"

    def order_body(
        self,
        package: dict[str, Any],
        count: int = 1,
        period: int | None = None,
        transaction_id: str | None = None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "packageCode": package["packageCode"],
            "count": count,
            "price": package["price"],
        }
        if period is not None:
            item["periodNum"] = period
        return {
            "transactionId": transaction_id or self.transaction(),
            "amount": package["price"] * count * (period or 1),
            "packageInfoList": [item],
        }

    def order(self, slug: str = "TR_10_30", **kwargs: Any) -> str:
        return str(self.ok("esim/order", self.order_body(self.package(slug), **kwargs))["orderNo"])

    def query(self, **select: Any) -> dict[str, Any]:
        return self.call("esim/query", {"pager": PAGER, **select})

    def wait_ready(self, order_no: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            envelope = self.query(orderNo=order_no)
            if envelope["success"] is True and envelope["obj"]["esimList"]:
                return list(envelope["obj"]["esimList"])
            assert time.monotonic() < deadline, f"order {order_no} not ready: {envelope}"
            time.sleep(0.05)

    def ready_profile(self, slug: str = "TR_10_30") -> dict[str, Any]:
        (profile,) = self.wait_ready(self.order(slug))
        return profile

    def balance(self) -> int:
        return int(self.ok("balance/query")["balance"])

    # -- the sandbox's control endpoints ---------------------------------------------------------
    def set(self, **switches: Any) -> None:
        answer = self.http.post("/_sandbox/config", json=switches)
        assert answer.status_code == 200, answer.text

    def fault(self, **rule: Any) -> None:
        answer = self.http.post("/_sandbox/faults", json=rule)
        assert answer.status_code == 200, answer.text

    def control(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(f"/_sandbox/{path}", json=body or {})

    def esim(self, esim_tran_no: str, action: str, **body: Any) -> dict[str, Any]:
        answer = self.control(f"esims/{esim_tran_no}/{action}", body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def count(self, transaction_id: str) -> dict[str, Any]:
        return dict(
            self.http.get("/_sandbox/orders/count", params={"transactionId": transaction_id}).json()
        )

    def save_webhook(self) -> None:
        self.ok("webhook/save", {"webhook": f"{self.receiver.url}/hook"})
        self.receiver.wait_for(1)
        self.receiver.clear()
