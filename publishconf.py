"""Publishing: only what differs from pelicanconf.py (`invoke build --publish`)."""

from __future__ import annotations

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *

SITE_URL = os.environ.get("SITE_URL", "https://qazaq-esim.com")
DELETE_OUTPUT_DIRECTORY = True
# The worker's public origin, written into every page (the Caddyfile's WORKER_ORIGIN).
WORKER_URL = os.environ.get("WORKER_URL", "https://api.qazaq-esim.com").rstrip("/")
