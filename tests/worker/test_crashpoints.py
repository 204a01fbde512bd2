"""worker/crashpoints.py: the process dies at the named place only."""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = "from worker.crashpoints import crashpoint; crashpoint('a'); print('past a', flush=True)"


def run(crash_at: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QAZAQ_CRASH_AT": crash_at}
    return subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True)


def test_the_named_crashpoint_kills_the_process_without_cleanup() -> None:
    died = run("a")

    assert (died.returncode, died.stdout) == (137, "")


def test_another_crashpoint_lets_the_process_go_on() -> None:
    lived = run("b")

    assert (lived.returncode, lived.stdout) == (0, "past a\n")
