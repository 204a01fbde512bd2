"""`python -m sandboxes.epay`: the flags reach the running sandbox."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from epay_helpers import CLIENT_ID, CLIENT_SECRET, ROOT, TERMINAL
from loopback import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def started() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.epay", "--host", "127.0.0.1", "--port", str(port),
         "--two-step", "--expires-in-as-string", "--expires-in", "1200", "--callback", "lost"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{url}/_sandbox/options", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("python -m sandboxes.epay did not start") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


def test_command_line_flags_set_the_switches(started: str) -> None:
    options = httpx.get(f"{started}/_sandbox/options").json()
    token = httpx.post(f"{started}/oauth2/token", data={
        "grant_type": "client_credentials", "scope": "payment", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET}).json()

    assert options["terminals"] == {TERMINAL: "dms"}
    assert options["callback"] == "lost"
    assert token["expires_in"] == "1200"


def test_a_bad_flag_stops_start_up_with_a_message() -> None:
    done = subprocess.run([sys.executable, "-m", "sandboxes.epay", "--terminal", f"{TERMINAL}=x"],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=30)

    assert done.returncode == 2
    assert "the mode must be sms or dms" in done.stderr
