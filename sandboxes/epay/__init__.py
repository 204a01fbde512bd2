"""Local Epay (Halyk Bank, Epay 2.0) sandbox, built from shared/specs/epay.md, not from our client."""

from __future__ import annotations

from .app import create_app
from .options import Options

__all__ = ["Options", "create_app"]
