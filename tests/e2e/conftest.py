"""The whole shop on free loopback ports (scripts/stack.py), its site built to call that
worker, and a tab of the run's Chromium (tests/conftest.py) to shop with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from worker_env import LAX_LIMITS

from scripts.stack import Ports, Stack

_shops: list[Stack] = []


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Sandboxes, mailbox, worker and site as separate processes, as `make demo` runs them,
    with a one-second allocation delay at the aggregator like a real supplier's."""
    root = tmp_path_factory.mktemp("shop")
    stack = Stack(state_dir=root / "state", site_dir=root / "site", ports=Ports.free(),
                  aggregator_allocation_delay=1.0, extra_worker_env=dict(LAX_LIMITS))
    stack.build_site()
    with stack:
        _shops.append(stack)
        yield stack
    _shops.remove(stack)


@pytest.fixture
def page(browser: Any, shop: Stack) -> Iterator[Any]:
    """A fresh browser profile; the test fails if a script of our site threw or logged an
    error (the sandbox payform's missing favicon is not ours)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"{tab.url}: {error}"))
    tab.on("console", lambda message: errors.append(f"{tab.url}: {message.text}")
           if message.type == "error" and tab.url.startswith(shop.site_url) else None)
    yield tab
    context.close()
    assert not errors, errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, show the end of each process's log: the reason is usually there."""
    report = yield
    if report.failed and _shops:
        for log in sorted((_shops[-1].state_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace")[-2000:].strip()
            if tail:
                report.sections.append((f"{log.name} (last lines)", tail))
    return report
