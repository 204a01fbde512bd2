"""The worker's own log lines when it is started as documented (`uvicorn worker.app:app`):
uvicorn configures only its own loggers, so without this the worker's INFO lines vanished
and its warnings printed bare. Each line: UTC time, level, logger, message; messages name
order ids, never a buyer's address, phone or token."""

from __future__ import annotations

import logging
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure() -> None:
    """Log INFO and above to stderr, unless the host (a test harness) configured logging."""
    root = logging.getLogger()
    if root.handlers:
        return
    formatter = logging.Formatter(FORMAT, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
