"""deploy/systemd: units systemd accepts, and a timer for every scheduled task."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def test_every_scheduled_task_has_a_timer_and_a_service() -> None:
    timers = {p.stem for p in UNITS.glob("*.timer")}
    assert timers == {"qazaq-backup", "qazaq-close-shift", "qazaq-purge-personal-data"}
    for timer in timers:
        service = (UNITS / f"{timer}.service").read_text()
        assert "Type=oneshot" in service
        assert f"invoke {timer.removeprefix('qazaq-')}" in service


def test_systemd_accepts_the_units() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    units = sorted(str(p) for p in UNITS.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                          capture_output=True, text=True, check=False, cwd=UNITS)
    # The programs live on the production host only.
    problems = [line for line in done.stderr.splitlines()
                if line.strip() and "is not executable" not in line]
    assert problems == []
