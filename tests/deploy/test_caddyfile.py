"""deploy/Caddyfile as production loads it: valid with real host names and ACME, formatted."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from scripts.caddy import CADDYFILE, Caddy


def test_the_caddyfile_is_valid_with_production_values(tmp_path: Path) -> None:
    env = {**os.environ, **Caddy(tmp_path, "127.0.0.1:8100", "https://epay.homebank.kz",
                                 folder=tmp_path).environment()}
    env.update(SITE_ADDRESS="qazaq-esim.com, www.qazaq-esim.com", API_ADDRESS="api.qazaq-esim.com",
               WORKER_ORIGIN="https://api.qazaq-esim.com", TLS="ops@qazaq-esim.com",
               HTTP_PORT="80", HTTPS_PORT="443", CADDY_ADMIN="localhost:2019")
    done = subprocess.run(["caddy", "validate", "--config", str(CADDYFILE), "--adapter",
                           "caddyfile"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not formatted" not in done.stderr  # `caddy fmt --overwrite deploy/Caddyfile`
    adapted = subprocess.run(["caddy", "adapt", "--config", str(CADDYFILE)], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "qazaq-esim.com" in adapted and "ops@qazaq-esim.com" in adapted
