"""Pelican plugin: turns content/data/catalog.json and devices.json into the kk/ru/en storefront."""

from __future__ import annotations


def register() -> None:
    """Pelican's entry point. Imported lazily so that the worker can use `catalogue.schema`
    without loading Pelican."""
    from .generator import register as connect_signals

    connect_signals()
