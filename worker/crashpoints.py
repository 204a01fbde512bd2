"""Named places where the crash tests kill the worker (see docs/architecture.md)."""

from __future__ import annotations

import os


def crashpoint(name: str) -> None:
    """Die at once, as a kill -9 would, when QAZAQ_CRASH_AT names this place."""
    if os.environ.get("QAZAQ_CRASH_AT") == name:
        os._exit(137)
