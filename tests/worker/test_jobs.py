"""worker/jobs.py: what a handler may say, and how soon a failed job runs again."""

from __future__ import annotations

from worker.jobs import JOB_RETRY, RetryLater


def test_retry_later_carries_its_delay_and_reason() -> None:
    wait = RetryLater(30.0, "profile not allocated yet")

    assert (wait.delay_s, str(wait)) == (30.0, "profile not allocated yet")


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    assert 0.5 <= JOB_RETRY.after_attempts(0) <= 1
    assert 4 <= JOB_RETRY.after_attempts(3) <= 8
    assert 150 <= JOB_RETRY.after_attempts(20) <= 300
    assert len({JOB_RETRY.after_attempts(5) for _ in range(20)}) > 1
