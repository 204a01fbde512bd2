"""Caddy from deploy/Caddyfile on loopback, as the tests and benchmarks run it.

The very file production uses, with `tls internal` (Caddy's own local CA), free ports, no
admin endpoint, and Caddy's data and config folders in a temporary folder: nothing is
written to the system's trust store or to ~/.local/share/caddy.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from scripts.stack import ROOT, free_port

CADDYFILE = ROOT / "deploy" / "Caddyfile"


@dataclass
class Caddy:
    """``with Caddy(site_root, worker_upstream, epay_origin) as caddy:`` serves
    ``caddy.site_url`` (the files) and ``caddy.api_url`` (proxied to the worker)."""

    site_root: Path
    worker_upstream: str  # host:port of uvicorn
    epay_origin: str
    site_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="caddy-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def site_url(self) -> str:
        return f"https://127.0.0.1:{self.site_port}"

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def root_certificate(self) -> Path:
        """The local CA's root: what clients trust to talk to this Caddy."""
        return self.folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    @property
    def log(self) -> Path:
        return self.folder / "caddy.log"

    def trust(self) -> ssl.SSLContext:
        """A TLS context for clients that trusts this Caddy's certificates."""
        return ssl.create_default_context(cafile=str(self.root_certificate))

    def environment(self) -> dict[str, str]:
        """The variables deploy/Caddyfile lists at its top, for loopback."""
        return {
            "SITE_ADDRESS": self.site_url,
            "API_ADDRESS": self.api_url,
            "SITE_ROOT": str(self.site_root),
            "WORKER_UPSTREAM": self.worker_upstream,
            "WORKER_ORIGIN": self.api_url,
            "EPAY_ORIGIN": self.epay_origin,
            "TLS": "internal",
            "HTTP_PORT": str(self.http_port),
            "HTTPS_PORT": str(self.site_port),
            "CADDY_ADMIN": "off",
            "XDG_DATA_HOME": str(self.folder / "data"),
            "XDG_CONFIG_HOME": str(self.folder / "config"),
        }

    def start(self, timeout: float = 20.0) -> None:
        caddy = shutil.which("caddy")
        if caddy is None:
            raise RuntimeError("caddy is not installed: run `make system` (apt-get install caddy)")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                env={**os.environ, **self.environment()}, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caddy exited at start-up:\n{self.log.read_text()[-3000:]}")
            if self.root_certificate.exists():
                try:
                    httpx.get(f"{self.site_url}/", verify=self.trust(), timeout=2)
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"caddy did not answer on {self.site_url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
