"""worker/provisioning/notify_ids.py: a notification posted twice is handled once."""

from __future__ import annotations

from worker.provisioning.notify_ids import RecentIds


def test_a_repeated_notify_id_is_not_new() -> None:
    seen = RecentIds()

    assert [seen.first_time(i) for i in ("a", "b", "a")] == [True, True, False]


def test_only_the_most_recent_ids_are_remembered() -> None:
    seen = RecentIds(size=2)
    for notify_id in ("a", "b", "c"):
        seen.first_time(notify_id)

    assert seen.first_time("a") is True  # forgotten: the oldest of three
    assert seen.first_time("c") is False
