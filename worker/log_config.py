"""The worker's own log lines when it is started as documented (`uvicorn worker.app:app`):
uvicorn configures only its own loggers, so without this the worker's INFO lines vanished
and its warnings printed bare. Each line: UTC time, level, logger, the request id
(worker/request_ids.py), message; messages name
order ids, never a buyer's address, phone or token."""

from __future__ import annotations

import logging
import time

from worker import request_ids

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure() -> None:
    """Log INFO and above to stderr, unless the host (a test harness) configured logging."""
    request_ids.install()
    root = logging.getLogger()
    if root.handlers:
        return
    formatter = logging.Formatter(FORMAT, "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
