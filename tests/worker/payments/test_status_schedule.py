"""The reconciler's per-order schedule: frequent at first, then hourly, then never."""

from __future__ import annotations

from worker.payments.status_schedule import (
    PAYMENT_WINDOW_S,
    STATUS_CALLS_PER_HOUR,
    calls_per_pass,
    next_ask,
)


def asks_over_a_life(pass_every_s: float) -> list[float]:
    """The ages at which one order is asked when the reconciler passes every ``pass_every_s``."""
    asked: list[float] = []
    last: float | None = None
    age = 0.0
    while age <= PAYMENT_WINDOW_S + 3600:
        at = next_ask(last)
        if at is not None and at <= age:
            asked.append(age)
            last = age
        age += pass_every_s
    return asked


def test_an_order_is_asked_at_1_2_5_10_30_minutes_then_hourly_then_never() -> None:
    assert [a / 60 for a in asks_over_a_life(60)] == [1, 2, 5, 10, 30, 60, 120, 180]


def test_a_restarted_worker_asks_once_then_follows_the_schedule() -> None:
    assert next_ask(None) == 60
    assert next_ask(400) == 600
    assert next_ask(PAYMENT_WINDOW_S) is None


def test_the_budget_of_a_pass_follows_the_interval() -> None:
    assert calls_per_pass(60) == STATUS_CALLS_PER_HOUR // 60
    assert calls_per_pass(1) == 1
