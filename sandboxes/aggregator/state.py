"""The sandbox's account: balance, orders, eSIM profiles, the clock, and every state change.

Each change that the real service reports by webhook hands its notifications to the Notifier.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

from .catalogue import Catalogue
from .options import Options
from .profiles import DAY, LIVE, Order, Profile, stamp
from .protocol import ApiError
from .webhooks import Notifier, notification

THRESHOLDS = (0.5, 0.8, 0.9)  # share used -> DATA_USAGE remainThreshold 0.5 / 0.2 / 0.1


class Account:
    def __init__(self, options: Options, catalogue: Catalogue, notifier: Notifier) -> None:
        self.options = options
        self.catalogue = catalogue
        self.notifier = notifier
        self._tasks: set[asyncio.Task[None]] = set()
        self._sequence = 0  # never reset: orderNo and esimTranNo stay unique for the process
        self.reset()

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.balance = self.options.balance
        self.clock_offset = 0.0
        self.orders: dict[str, Order] = {}
        self.by_transaction: dict[str, Order] = {}
        self.profiles: dict[str, Profile] = {}
        self.topups: dict[str, dict[str, Any]] = {}

    # -- time and identifiers -------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def _number(self) -> str:
        """yyMMddHHmm + a 4-digit sequence: orderNo is "B" + this, esimTranNo this (spec §8)."""
        self._sequence += 1
        minute = datetime.fromtimestamp(self.now(), UTC).strftime("%y%m%d%H%M")
        return f"{minute}{self._sequence % 10000:04d}"

    def emit(self, notify_type: str, content: dict[str, Any]) -> dict[str, Any]:
        return notification(notify_type, content, self.now())

    def status_event(self, profile: Profile, **extra: Any) -> dict[str, Any]:
        status = "REVOKED" if profile.esim_status == "REVOKE" else profile.esim_status
        return self.emit(
            "ESIM_STATUS",
            {**profile.ids(), "esimStatus": status, "smdpStatus": profile.smdp_status, **extra},
        )

    # -- ordering -------------------------------------------------------------------------
    def package(self, code: Any) -> dict[str, Any]:
        package = self.catalogue.find(str(code)) if code else None
        if package is None:
            raise ApiError("310241", package=code)
        return package

    def place_order(
        self,
        transaction_id: str,
        items: list[tuple[dict[str, Any], int, int, int | None]],
        amount: int | None,
    ) -> Order:
        """items: (package, count, periodNum, price given). Debits the balance at once."""
        existing = self.by_transaction.get(transaction_id)
        if existing is not None:
            if self.options.duplicate_mode == "310402":
                raise ApiError("310402", transaction_id=transaction_id)
            return existing
        total = 0
        per_day_total = 0  # amount read as Σ price × count with a per-day price (spec §13.4)
        for package, count, period, price in items:
            # Day passes: `price` per day or for the whole periodNum; both readings are accepted.
            if price is not None and price not in (package["price"], package["price"] * period):
                raise ApiError("200005")
            if (
                "*" in self.options.out_of_stock
                or package["packageCode"] in self.options.out_of_stock
            ):
                raise ApiError("200011")
            total += package["price"] * count * period
            per_day_total += package["price"] * count
        if amount is not None and amount not in (total, per_day_total):
            raise ApiError("200006")
        if total > self.balance:
            raise ApiError("200007")
        self.balance -= total
        created = self.now()
        order = Order(
            "B" + self._number(),
            transaction_id,
            created,
            created + self.options.allocation_delay_s,
            total,
            [],
        )
        for package, count, period, _ in items:
            for _ in range(count):
                order.profiles.append(
                    Profile(
                        self._number(),
                        order.order_no,
                        transaction_id,
                        package,
                        period,
                        package["price"] * period,
                        created,
                    )
                )
        self.orders[order.order_no] = order
        self.by_transaction[transaction_id] = order
        self._schedule(order)
        return order

    def _schedule(self, order: Order) -> None:
        async def later() -> None:
            # Sleep until the order is due by the sandbox's clock (time.time). The loop's timer
            # runs on its own clock (uvloop's is cached per pass, in ms) and can wake a few ms
            # early; a tick then allocates nothing and the order waits for the next API call.
            while (wait := order.ready_at - self.now()) > 0:
                await asyncio.sleep(wait)
            self.tick()

        task = asyncio.get_running_loop().create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _reusable_iccid(self) -> str | None:
        live = {p.iccid for p in self.profiles.values() if p.esim_status in LIVE}
        for profile in self.profiles.values():
            if profile.iccid not in live and profile.esim_status not in LIVE:
                return profile.iccid
        return None

    def _allocate(self, order: Order) -> None:
        order.allocated = True
        for profile in order.profiles:
            if self.options.iccid_reuse:
                profile.iccid = self._reusable_iccid() or profile.iccid
            package = profile.package
            profile.esim_status, profile.smdp_status = "GOT_RESOURCE", "RELEASED"
            profile.total_volume = package["volume"] * profile.period
            profile.total_duration = package["duration"] * profile.period
            profile.expires_at = self.now() + package["unusedValidTime"] * DAY
            self.profiles[profile.esim_tran_no] = profile
        self.notifier.emit(
            [
                self.emit(
                    "ORDER_STATUS",
                    {
                        "orderNo": order.order_no,
                        "orderStatus": "GOT_RESOURCE",
                        "transactionId": order.transaction_id,
                    },
                )
            ]
        )

    def tick(self) -> None:
        """Finish due allocations and expire profiles; run before every answer and by timers."""
        now = self.now()
        if not self.options.allocation_stuck:
            for order in self.orders.values():
                if not order.allocated and order.ready_at <= now:
                    self._allocate(order)
        events = []
        for profile in self.profiles.values():
            if profile.esim_status not in LIVE:
                continue
            if now >= profile.expires_at:
                used = profile.activated_at is not None
                profile.esim_status = "USED_EXPIRED" if used else "UNUSED_EXPIRED"
                if used and profile.smdp_status != "DELETED":
                    profile.smdp_status = "DISABLED"
                events.append(self.status_event(profile))
            elif (
                profile.activated_at is not None
                and not profile.validity_warned
                and now >= profile.expires_at - DAY
            ):
                profile.validity_warned = True
                events.append(self.validity_event(profile))
        self.notifier.emit(events)

    def validity_event(self, profile: Profile) -> dict[str, Any]:
        """VALIDITY_USAGE (spec §7): `remain` in days left, a started day counted, at least 1."""
        remain = max(1, math.ceil((profile.expires_at - self.now()) / DAY))
        return self.emit(
            "VALIDITY_USAGE",
            {
                **profile.ids(),
                "remain": remain,
                "totalDuration": profile.total_duration,
                "durationUnit": "DAY",
                "expiredTime": stamp(profile.expires_at),
            },
        )

    def data_usage_event(self, profile: Profile) -> dict[str, Any]:
        """DATA_USAGE (spec §7) with the usage as it stands; `remainThreshold` the share left."""
        remain = max(profile.total_volume - profile.used, 0)
        share_left = remain / profile.total_volume if profile.total_volume else 0.0
        return self.emit(
            "DATA_USAGE",
            {
                **profile.ids(),
                "totalVolume": profile.total_volume,
                "orderUsage": profile.used,
                "remain": remain,
                "remainThreshold": round(share_left, 1),
                "lastUpdateTime": stamp(profile.usage_updated),
            },
        )

    def notify_usage(self, profile: Profile, notify_type: str) -> dict[str, Any]:
        """Send one DATA_USAGE or VALIDITY_USAGE now, whatever the thresholds (control only)."""
        if notify_type == "DATA_USAGE":
            event = self.data_usage_event(profile)
        elif notify_type == "VALIDITY_USAGE":
            event = self.validity_event(profile)
        else:
            raise ApiError("000107", "notifyType must be DATA_USAGE or VALIDITY_USAGE")
        self.notifier.emit([event])
        return event

    # -- lookups --------------------------------------------------------------------------
    def order(self, order_no: str) -> Order:
        if order_no not in self.orders:
            raise ApiError("310272", order_no=order_no)
        return self.orders[order_no]

    def profile(self, body: dict[str, Any]) -> Profile:
        """By esimTranNo (preferred) or ICCID; ICCIDs are reused, so the newest one wins."""
        if body.get("esimTranNo"):
            found = self.profiles.get(str(body["esimTranNo"]))
            if found is None:
                raise ApiError("310272", order_no=body["esimTranNo"])
            return found
        if body.get("iccid"):
            matches = [p for p in self.profiles.values() if p.iccid == str(body["iccid"])]
            if not matches:
                raise ApiError("310403", iccid=body["iccid"])
            return matches[-1]
        raise ApiError("000105", field="esimTranNo")

    # -- lifecycle (API) ------------------------------------------------------------------
    def cancel(self, profile: Profile) -> None:
        if (profile.esim_status, profile.smdp_status) != ("GOT_RESOURCE", "RELEASED"):
            raise ApiError("200002")
        profile.esim_status = "CANCEL"
        self.balance += profile.price_paid
        self.notifier.emit([self.status_event(profile)])

    def suspend(self, profile: Profile) -> None:
        if profile.esim_status not in ("GOT_RESOURCE", "IN_USE"):
            raise ApiError("200002")
        profile.status_before_suspend, profile.esim_status = profile.esim_status, "SUSPENDED"
        self.notifier.emit([self.status_event(profile)])

    def unsuspend(self, profile: Profile) -> None:
        if profile.esim_status != "SUSPENDED":
            raise ApiError("200002")
        profile.esim_status = profile.status_before_suspend
        self.notifier.emit([self.status_event(profile)])

    def revoke(self, profile: Profile) -> None:
        if profile.esim_status not in LIVE:
            raise ApiError("200002")
        # The docs spell it REVOKE, webhooks REVOKED (spec §6): we answer both ways.
        profile.esim_status = "REVOKE"
        self.notifier.emit([self.status_event(profile)])

    def topup(
        self,
        profile: Profile,
        package: dict[str, Any],
        transaction_id: str,
        period: int,
        amount: int | None,
    ) -> dict[str, Any]:
        if transaction_id in self.topups:
            if self.options.duplicate_mode == "310402":
                raise ApiError("310402", transaction_id=transaction_id)
            return self.topups[transaction_id]
        base = profile.package
        fits = (
            package["packageCode"].startswith("TOPUP_")
            and package["locationCode"] == base["locationCode"]
        ) or (base["dataType"] != 1 and package is base)
        if not fits:
            raise ApiError("200008", "the package is not a top-up for this eSIM")
        if (
            base["supportTopUpType"] not in (2, 3)
            or profile.esim_status not in LIVE
            or profile.esim_status == "SUSPENDED"
            or self.now() >= profile.expires_at
        ):
            raise ApiError("200002")
        price = package["price"] * period
        if amount is not None and amount != price:
            raise ApiError("200006")
        if price > self.balance:
            raise ApiError("200007")
        self.balance -= price
        profile.total_volume += package["volume"] * period
        profile.total_duration += package["duration"] * period
        if profile.activated_at is not None:
            profile.expires_at += package["duration"] * period * DAY
        if profile.esim_status == "USED_UP":
            profile.esim_status = "IN_USE"
        number = self._number()
        entry = profile.package_entry(package, transaction_id, number, self.now())
        profile.topups.append(entry)
        profile.price_paid += price  # a cancel refunds the top-ups too
        result = {
            "transactionId": transaction_id,
            "iccid": profile.iccid,
            "expiredTime": stamp(profile.expires_at),
            "totalVolume": profile.total_volume,
            "totalDuration": profile.total_duration,
            "orderUsage": profile.used,
            "topUpEsimTranNo": number,
        }
        self.topups[transaction_id] = result
        return result

    # -- what happens on the phone (control endpoints) ------------------------------------
    def install(self, profile: Profile) -> None:
        if (profile.esim_status, profile.smdp_status) != ("GOT_RESOURCE", "RELEASED"):
            raise ApiError("200002", "only a released, unused profile can be installed")
        profile.eid = "89049032" + profile.imsi[:15] + profile.puk[:1] * 9
        events = []
        for sequence, smdp in enumerate(("DOWNLOAD", "INSTALLATION", "ENABLED"), start=1):
            profile.smdp_status = smdp
            events.append(
                self.emit(
                    "SMDP_EVENT",
                    {
                        **profile.ids(),
                        "eid": profile.eid,
                        "esimStatus": profile.esim_status,
                        "smdpStatus": smdp,
                        "timestamp": stamp(self.now()),
                        "seqNumber": sequence,
                        "notifyStatus": "SUCCESS",
                    },
                )
            )
        profile.installed_at = profile.activated_at = self.now()
        profile.expires_at = self.now() + profile.total_duration * DAY
        profile.esim_status = "IN_USE"
        events.append(self.status_event(profile))
        self.notifier.emit(events)

    def consume(self, profile: Profile, amount: int) -> None:
        if profile.esim_status != "IN_USE":
            raise ApiError("200002", "only an eSIM in use consumes data")
        profile.used += amount
        if profile.package["dataType"] == 1:
            profile.used = min(profile.used, profile.total_volume)
        profile.usage_updated = self.now()
        events = []
        share = profile.used / profile.total_volume if profile.total_volume else 1.0
        for threshold in THRESHOLDS:
            if share >= threshold and threshold not in profile.thresholds_sent:
                profile.thresholds_sent.add(threshold)
                event = self.data_usage_event(profile)
                event["content"]["remainThreshold"] = round(1 - threshold, 1)
                events.append(event)
        if profile.package["dataType"] == 1 and profile.used >= profile.total_volume:
            profile.esim_status = "USED_UP"
            events.append(
                self.status_event(
                    profile,
                    totalVolume=profile.total_volume,
                    orderUsage=profile.used,
                    remainVolume=0,
                )
            )
        self.notifier.emit(events)

    def set_device_state(self, profile: Profile, smdp_status: str) -> None:
        """The buyer deletes, disables or enables the installed eSIM on the phone."""
        if profile.installed_at is None or profile.smdp_status == "DELETED":
            raise ApiError("200002", "the eSIM is not installed on a device")
        profile.smdp_status = smdp_status
        self.notifier.emit(
            [
                self.emit(
                    "SMDP_EVENT",
                    {
                        **profile.ids(),
                        "eid": profile.eid,
                        "esimStatus": profile.esim_status,
                        "smdpStatus": smdp_status,
                        "timestamp": stamp(self.now()),
                        "seqNumber": 4,
                        "notifyStatus": "SUCCESS",
                    },
                )
            ]
        )
