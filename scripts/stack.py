"""The whole shop on loopback: sandboxes, demo mailbox, worker and the static site.

`invoke demo` runs it on fixed ports; the end-to-end tests run it on free ports.
Each part is a separate process started with the same commands an operator would use.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Self

import httpx

from worker.provisioning.catalogue_sync import write_topups
from worker.provisioning.esimaccess import EsimAccess
from worker.provisioning.pricing import PricingError, load_pricing
from worker.provisioning.provider import ProviderError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CATALOG = ROOT / "content" / "data" / "catalog.json"  # the one the site is built from
EPAY_TEST_CLIENT_ID = "test"
EPAY_TEST_CLIENT_SECRET = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG"
EPAY_TEST_TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"
AGGREGATOR_ACCESS_CODE = "demoAccessCode"
AGGREGATOR_SECRET_KEY = "demoSecretKey"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


_prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


class ProcessExited(RuntimeError):
    """A server process ended before it answered."""


def wait_until_answers(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30, hint: str = ""
) -> None:
    """Poll ``url`` until it answers below 500. ProcessExited if the process ends first,
    TimeoutError after ``timeout`` s; ``hint`` (e.g. "; see its log") ends their message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProcessExited(f"{process.args} exited with {process.returncode}{hint}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s{hint}")


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when the process that started the
    stack dies, however it dies, so no orphan keeps holding the demo's ports."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    site: int = 8000
    worker: int = 8100
    epay: int = 8200
    aggregator: int = 8300
    webkassa: int = 8400
    smtp: int = 8025
    mailbox: int = 8026

    @classmethod
    def free(cls) -> Ports:
        return cls(**{f.name: free_port() for f in fields(cls)})


@dataclass
class Stack:
    """Starts every process of the shop; `urls` says where each one answers."""

    state_dir: Path
    site_dir: Path
    ports: Ports = field(default_factory=Ports)
    aggregator_allocation_delay: float = 2.0
    extra_worker_env: dict[str, str] = field(default_factory=dict)
    worker_processes: int = 1  # uvicorn --workers (several need ORDERS_DB on PostgreSQL to share jobs)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Fresh secrets per run, generated once so every process agrees on them.
    run_secrets: dict[str, str] = field(default_factory=lambda: {
        "AGGREGATOR_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "SESSION_SECRET": secrets.token_urlsafe(32),
        "OPERATOR_TOKEN": secrets.token_urlsafe(32),
    })

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def site_url(self) -> str:
        return self.url(self.ports.site)

    @property
    def worker_url(self) -> str:
        return self.url(self.ports.worker)

    @property
    def mailbox_url(self) -> str:
        return self.url(self.ports.mailbox)

    @property
    def mail_dir(self) -> Path:
        """Where the mailbox keeps every message it accepts, one .eml file each."""
        return self.state_dir / "mail"

    def build_site(self) -> None:
        """Build the site into site_dir with this stack's addresses baked into every page."""
        result = subprocess.run(
            [sys.executable, "-m", "pelican", "content", "-o", str(self.site_dir),
             "-s", "pelicanconf.py", "-q"],
            cwd=ROOT, env={**os.environ, "WORKER_URL": self.worker_url, "SITE_URL": self.site_url},
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the site build failed:\n{result.stdout}{result.stderr}")

    def worker_env(self) -> dict[str, str]:
        """The worker's settings for this stack (README, Settings, explains each)."""
        epay = self.url(self.ports.epay)
        env = {
            "SITE_URL": self.site_url,
            "WORKER_URL": self.worker_url,
            "EPAY_OAUTH_URL": f"{epay}/oauth2/token",
            "EPAY_API_URL": epay,
            "EPAY_PAYMENT_JS_URL": f"{epay}/payform/payment-api.js",
            "EPAY_CLIENT_ID": EPAY_TEST_CLIENT_ID,
            "EPAY_CLIENT_SECRET": EPAY_TEST_CLIENT_SECRET,
            "EPAY_TERMINAL_ID": EPAY_TEST_TERMINAL,
            "ORDERS_DB": str(self.state_dir / "orders.json"),
            # A copy of the shipped catalogue in the state folder, so that the topups.json the
            # stack writes beside it (write_topups) never lands in content/data/.
            "CATALOG_PATH": str(self.state_dir / "catalog.json"),
            "RECONCILE_INTERVAL": "15",
            "ESIM_PROVIDER": "esimaccess",
            "ESIMACCESS_URL": self.url(self.ports.aggregator),
            "ESIMACCESS_ACCESS_CODE": AGGREGATOR_ACCESS_CODE,
            "ESIMACCESS_SECRET_KEY": AGGREGATOR_SECRET_KEY,
            "PROVISION_GIVE_UP_AFTER": "900",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports.smtp),
            "SMTP_SECURITY": "none",
            "SMTP_USER": "",
            "SMTP_PASSWORD": "",
            "MAIL_FROM": "Qazaq eSIM <no-reply@qazaq-esim.com>",
            "SUPPORT_EMAIL": "support@qazaq-esim.com",
            "EMAIL_CHECK_DELIVERABILITY": "false",  # the demo and the tests have no DNS
            "FISCAL_PROVIDER": "webkassa",
            "WEBKASSA_URL": self.url(self.ports.webkassa),
            "WEBKASSA_API_KEY": "WKD-00000000-0000-0000-0000-000000000000",
            "WEBKASSA_LOGIN": "demo@qazaq-esim.com",
            "WEBKASSA_PASSWORD": "demo",
            "WEBKASSA_CASHBOX": "SWK00000001",
            "DEPLOYMENT": "development",  # loopback http, the sandboxes' credentials
        }
        env.update(self.run_secrets)
        env.update(self.extra_worker_env)
        return env

    def commands(self) -> dict[str, tuple[list[str], dict[str, str], str]]:
        """name -> (argv, extra environment, URL that answers once it is up)."""
        py = sys.executable
        p = self.ports
        return {
            "epay": ([py, "-m", "sandboxes.epay", "--port", str(p.epay)], {},
                     f"{self.url(p.epay)}/payform/payment-api.js"),
            "aggregator": ([py, "-m", "sandboxes.aggregator", "--port", str(p.aggregator),
                            "--allocation-delay", str(self.aggregator_allocation_delay),
                            "--signature-mode", "required"], {},
                           f"{self.url(p.aggregator)}/_sandbox/state"),
            "webkassa": ([py, "-m", "sandboxes.webkassa", "--port", str(p.webkassa)], {},
                         f"{self.url(p.webkassa)}/_sandbox/state"),
            "mailbox": ([py, "-m", "sandboxes.mailbox", "--smtp-port", str(p.smtp),
                         "--web-port", str(p.mailbox), "--folder", str(self.mail_dir)],
                        {}, self.mailbox_url),
            "worker": ([py, "-m", "uvicorn", "worker.app:app", "--host", "127.0.0.1",
                        "--port", str(p.worker), "--log-level", "warning",
                        "--workers", str(self.worker_processes)],
                       self.worker_env(), f"{self.worker_url}/healthz"),
            "site": ([py, "-m", "scripts.static_site", "--dir", str(self.site_dir),
                      "--port", str(p.site)], {}, f"{self.site_url}/"),
        }

    def check_ports(self) -> None:
        """Refuse to start over a port that something already listens on (an old demo)."""
        for part in fields(self.ports):
            port = getattr(self.ports, part.name)
            with socket.socket() as sock:
                # As uvicorn does: a port held only by closed connections (TIME_WAIT) is free.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    raise RuntimeError(
                        f"port {port} ({part.name}) is already in use: is another `make demo` "
                        f"still running? Stop it (Ctrl-C in its terminal), or find the process "
                        f"with `ss -ltnp 'sport = :{port}'`."
                    ) from None

    def prepare_state(self) -> None:
        """The state folder, with the worker's copy of the shipped catalogue (CATALOG_PATH)."""
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        catalog = Path(self.worker_env()["CATALOG_PATH"])
        if not catalog.exists():
            shutil.copy(SHIPPED_CATALOG, catalog)

    def start(self, timeout: float = 60.0) -> None:
        self.check_ports()
        self.prepare_state()
        logs = self.state_dir / "logs"
        commands = self.commands()
        for name, (argv, env, _) in commands.items():
            with open(logs / f"{name}.log", "ab") as log:  # the child keeps its own copy
                self.processes[name] = subprocess.Popen(
                    argv, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                    stderr=subprocess.STDOUT,
                    # Safe with threads: it only makes one system call, resolved beforehand.
                    preexec_fn=_die_with_parent,  # noqa: PLW1509
                )
        for name, (_, _, health) in commands.items():
            self._wait(name, health, timeout)
        # As an operator does once per account (`invoke aggregator-webhook`), so that the
        # aggregator's ORDER_STATUS notifications reach this worker.
        saved = subprocess.run(
            [sys.executable, "-m", "worker.provisioning.webhook"], cwd=ROOT,
            env={**os.environ, **self.worker_env()}, capture_output=True, text=True, check=False,
        )
        if saved.returncode != 0:
            self.stop()
            raise RuntimeError(f"saving the webhook at the aggregator failed:\n{saved.stderr}")
        self.write_topups()

    def write_topups(self) -> int:
        """The top-ups the aggregator sandbox offers, beside the worker's catalogue, as
        `invoke sync-catalog` writes them, so that a buyer of the demo can add data (issue 12).
        The worker reads the file when it changes. Returns how many top-ups it lists."""
        async def write() -> int:
            aggregator = EsimAccess(self.url(self.ports.aggregator), AGGREGATOR_ACCESS_CODE,
                                    AGGREGATOR_SECRET_KEY)
            try:
                return await write_topups(aggregator, load_pricing(),
                                          Path(self.worker_env()["CATALOG_PATH"]))
            finally:
                await aggregator.aclose()

        try:
            # In a thread of its own: a caller may already run an event loop in this one
            # (Playwright's sync API does).
            with ThreadPoolExecutor(1) as thread:
                return thread.submit(asyncio.run, write()).result()
        except (ProviderError, PricingError, httpx.HTTPError, OSError, ValueError) as error:
            self.stop()
            raise RuntimeError(f"writing the top-ups from the aggregator sandbox failed: {error!r}") from None

    def _wait(self, name: str, url: str, timeout: float) -> None:
        try:
            wait_until_answers(url, self.processes[name], timeout)
        except ProcessExited:
            self.stop()
            log = (self.state_dir / "logs" / f"{name}.log").read_text(errors="replace")
            raise RuntimeError(f"{name} exited at start-up; its log says:\n{log[-3000:]}") from None
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{name} did not answer at {url} within {timeout:.0f} s") from None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
