"""The site built once per test session into a temporary folder, served over loopback,
and a fresh tab of the run's Chromium (`browser` in tests/conftest.py) per test."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from site_helpers import PHONE, TEST_WORKER_URL

ROOT = Path(__file__).resolve().parents[2]


def build_site(output: Path, *extra: str, worker_url: str = TEST_WORKER_URL) -> subprocess.CompletedProcess[str]:
    """Run the real build (`python -m pelican`, as `invoke build` does) into `output`."""
    env = {**os.environ, "WORKER_URL": worker_url, "SITE_URL": "https://qazaq-esim.test"}
    return subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-o", str(output), "-s", "pelicanconf.py", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("site") / "output"
    result = build_site(output)
    assert result.returncode == 0, result.stdout + result.stderr
    return output


@pytest.fixture(scope="session")
def catalogue() -> dict[str, Any]:
    return json.loads((ROOT / "content" / "data" / "catalog.json").read_text(encoding="utf-8"))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; the test fails if a script threw or Chromium reported an error, except
    for the failed requests some tests cause on purpose (worker down, order not found)."""
    context = browser.new_context(locale="en-US")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error"
           and not message.text.startswith(("Failed to load resource", "Access to fetch")) else None)
    yield tab
    context.close()
    assert not errors, errors


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized tab (PHONE, touch, 2x screen); fails the test on any script error."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors
