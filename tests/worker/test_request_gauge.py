"""Requests in flight, shared by the worker processes of one store on one host: a job that one
process starts would slow its siblings' postLinks, so every process gives way to all of them."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker import request_gauge
from worker.request_gauge import RequestGauge

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gauges(tmp_path: Path) -> Iterator[list[RequestGauge]]:
    made: list[RequestGauge] = []
    yield made
    for gauge in made:
        gauge.close()


def gauge(made: list[RequestGauge], folder: Path, store: str = "postgresql://db/orders") -> RequestGauge:
    made.append(RequestGauge(store, folder))
    made[-1].open()
    return made[-1]


def test_a_request_in_one_process_makes_its_siblings_busy(tmp_path: Path, gauges: list[RequestGauge]) -> None:
    first, second = gauge(gauges, tmp_path), gauge(gauges, tmp_path)
    other_store = gauge(gauges, tmp_path, "/srv/other/orders.json")
    assert not first.busy() and not second.busy()
    first.started()
    first.started()
    first.ended()
    assert first.busy() and second.busy()
    assert not other_store.busy()  # another store's processes are not its siblings
    first.ended()
    assert not first.busy() and not second.busy()


def test_a_count_nobody_has_changed_for_a_while_is_not_believed(
        tmp_path: Path, gauges: list[RequestGauge], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = gauge(gauges, tmp_path), gauge(gauges, tmp_path)
    first.started()
    assert second.busy()
    later = time.monotonic() + request_gauge.STALE_S + 0.1
    monkeypatch.setattr(request_gauge.time, "monotonic", lambda: later)
    assert not second.busy()
    assert first.busy()  # its own requests always count


SIBLING = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from worker.request_gauge import RequestGauge
    gauge = RequestGauge("postgresql://db/orders", Path(sys.argv[1]))
    gauge.open()
    gauge.started()
    print("answering", flush=True)
    time.sleep(60)
""")


def test_a_sibling_process_killed_mid_request_holds_nobody_back_and_frees_its_slot(
        tmp_path: Path, gauges: list[RequestGauge], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_gauge, "SLOTS", 1)  # this process's slot is the sibling's
    sibling = subprocess.Popen([sys.executable, "-c", SIBLING, str(tmp_path)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE)
    try:
        assert sibling.stdout is not None and sibling.stdout.readline() == b"answering\n"
        here = gauge(gauges, tmp_path)
        assert here.busy()  # the sibling's request counts here
        assert here._slot is None  # its one slot is taken: this process counts for itself only
    finally:
        sibling.send_signal(signal.SIGKILL)
        sibling.wait()
    later = time.monotonic() + request_gauge.STALE_S + 0.1
    monkeypatch.setattr(request_gauge.time, "monotonic", lambda: later)
    assert not here.busy()
    successor = gauge(gauges, tmp_path)
    assert successor._slot == 0  # the kernel dropped the dead process's lock


def test_the_last_process_out_removes_the_file(tmp_path: Path) -> None:
    first, second = RequestGauge("postgresql://db/orders", tmp_path), RequestGauge("postgresql://db/orders", tmp_path)
    assert list(tmp_path.iterdir()) == []  # not before the worker starts
    first.open()
    second.open()
    [path] = tmp_path.iterdir()
    first.close()
    assert path.exists()
    second.close()
    assert not path.exists()


def test_without_a_writable_folder_each_process_counts_its_own(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "worker.requests")
    alone = RequestGauge("postgresql://db/orders", tmp_path / "missing")
    alone.open()
    assert "jobs give way to this process's requests only" in caplog.text
    alone.started()
    assert alone.busy()
    alone.ended()
    assert not alone.busy()
    alone.close()
