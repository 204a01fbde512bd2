"""Support chat figures (issue 11): buyer → console → buyer latency, and what the panel costs.

Run with `.venv/bin/python benchmarks/bench_chat.py`. The worker runs under uvicorn in its
own process on loopback (scripts/stack.py's settings, a fresh store); this process plays the
buyer (the chat API) and a signed-in operator (the console's HTML pages and forms), each
looking every 20 ms. In a browser add the panel's 3 s poll (1.5 s on average) and the
operator's reload of the inbox.
"""

from __future__ import annotations

import gzip
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.stack import Ports, Stack, wait_until_answers
from worker.console.accounts import Accounts
from worker.orders.documents import JsonDoc

ROUNDS = 20
LOOK_EVERY_S = 0.02
PANEL_FILES = ("theme/js/chat.js", "theme/css/chat.css", "data/chat.en.json")
PANEL_TARGET_KB = 10  # gzip, everything the panel fetches when opened


def until(look: Callable[[], bool], timeout: float = 10.0) -> float:
    start = time.perf_counter()
    while not look():
        if time.perf_counter() - start > timeout:
            raise SystemExit("bench_chat: the message never arrived; see the worker's log")
        time.sleep(LOOK_EVERY_S)
    return time.perf_counter()


def latency(stack: Stack) -> tuple[list[float], list[float]]:
    accounts = Accounts(JsonDoc(stack.state_dir / "operators.json"))
    token, _ = accounts.add("bench@qazaq-esim.com", "Bench")
    accounts.set_password(token, "benchmark password")
    worker = httpx.Client(base_url=stack.worker_url, timeout=10)
    form = worker.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    signed = worker.post("/console/sign-in", cookies={"qe_console_form": csrf}, data={
        "csrf": csrf, "email": "bench@qazaq-esim.com", "password": "benchmark password"})
    session = {"qe_console": signed.cookies["qe_console"]}
    to_console, back = [], []
    for i in range(ROUNDS):
        text = f"question {i} {time.time()}"
        buyer = {"X-Forwarded-For": f"10.0.0.{i + 1}"}  # a buyer each: 10 messages a minute each
        sent = time.perf_counter()
        key = worker.post("/api/chat/threads", headers=buyer,
                          json={"lang": "en", "text": text}).json()["thread_key"]
        seen = until(lambda text=text: text in worker.get("/console/", cookies=session).text)
        page = worker.get("/console/", cookies=session).text
        path = re.search(r'href="(/console/threads/\w+)">' + re.escape(text), page).group(1)  # type: ignore[union-attr]
        thread = worker.get(path, cookies=session).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', thread).group(1)  # type: ignore[union-attr]
        answer = f"answer {i}"
        replied = time.perf_counter()
        worker.post(f"{path}/reply", cookies=session, data={"csrf": csrf, "text": answer})
        arrived = until(lambda key=key, buyer=buyer, answer=answer: worker.get(
            f"/api/chat/threads/{key}", headers=buyer).json()["messages"][-1]["text"] == answer)
        to_console.append(seen - sent)
        back.append(arrived - replied)
        worker.post(f"{path}/close", cookies=session, data={"csrf": csrf})
    return to_console, back


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:7.1f} ms"


def panel_bytes(site: Path) -> tuple[int, int]:
    raw = sum((site / name).stat().st_size for name in PANEL_FILES)
    packed = sum(len(gzip.compress((site / name).read_bytes(), 9)) for name in PANEL_FILES)
    return raw, packed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(state_dir=Path(tmp) / "state", site_dir=Path(tmp) / "site", ports=Ports.free())
        stack.build_site()
        raw, packed = panel_bytes(stack.site_dir)
        argv, env, url = stack.commands()["worker"]
        stack.prepare_state()
        with open(Path(tmp) / "worker.log", "wb") as log:
            process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
            try:
                wait_until_answers(url, process, 30.0)
                to_console, back = latency(stack)
            finally:
                process.terminate()
                process.wait()
    print(f"chat latency, median of {ROUNDS} (looking every {LOOK_EVERY_S * 1000:.0f} ms):")
    print(f"  buyer's message → console inbox   {ms(to_console)}")
    print(f"  operator's answer → buyer's API   {ms(back)}")
    print(f"  round trip                        {ms([a + b for a, b in zip(to_console, back)])}"
          f"   [in a browser: + the panel's 3 s poll, 1.5 s on average]")
    print(f"chat panel loaded when opened: {raw} bytes, {packed} bytes gzip "
          f"({', '.join(PANEL_FILES)})   [target <= {PANEL_TARGET_KB} KB gzip: "
          f"{'ok' if packed <= PANEL_TARGET_KB * 1024 else 'OVER'}]")


if __name__ == "__main__":
    main()
