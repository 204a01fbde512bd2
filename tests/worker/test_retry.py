"""worker/retry.py: the next delay grows with the time already waited, within bounds, jittered."""

from __future__ import annotations

from worker.retry import Backoff


def test_the_first_delay_is_the_floor_and_the_last_the_ceiling() -> None:
    poll = Backoff(first_s=1.0, ceiling_s=30.0, share=0.5, jitter=(1.0, 1.0))

    assert poll.after_waiting(0) == 1.0
    assert poll.after_waiting(10) == 5.0  # half the time waited
    assert poll.after_waiting(3600) == 30.0


def test_jitter_spreads_delays_within_its_range() -> None:
    poll = Backoff(first_s=10.0, ceiling_s=10.0, jitter=(0.8, 1.2))
    delays = [poll.after_waiting(0) for _ in range(50)]

    assert all(8.0 <= d <= 12.0 for d in delays)
    assert len(set(delays)) > 1


def test_attempts_double_the_delay_until_the_ceiling() -> None:
    policy = Backoff(first_s=0.5, ceiling_s=2.0, jitter=(1.0, 1.0))

    assert [policy.after_attempts(n) for n in range(4)] == [0.5, 1.0, 2.0, 2.0]
    assert policy.after_attempts(10_000) == 2.0  # no overflow after a very long outage
