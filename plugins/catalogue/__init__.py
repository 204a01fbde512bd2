"""Pelican plugin: turns content/data/catalog.json and devices.json into the kk/ru/en storefront."""

from __future__ import annotations

from .generator import register

__all__ = ["register"]
