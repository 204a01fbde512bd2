"""The worker wired to the aggregator sandbox and a real SMTP server (tests/provisioning_fixtures.py)."""

from provisioning_fixtures import *  # noqa: F403 (pytest finds the fixtures by name)
