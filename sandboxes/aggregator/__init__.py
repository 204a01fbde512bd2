"""Local eSIM Access (open API v1) sandbox, built from shared/specs/esim-aggregator.md."""

from __future__ import annotations

from .app import create_app
from .options import Options

__all__ = ["Options", "create_app"]
