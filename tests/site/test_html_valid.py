"""Every generated page is valid HTML by the Nu HTML Checker (vnu-jar on the machine's Java)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.mark.skipif(not shutil.which("java"), reason="no Java runtime: `make setup` installs it")
def test_every_generated_page_is_valid_html(site: Path) -> None:
    pages = sorted(str(p) for p in site.rglob("*.html"))
    assert VNU.is_file(), "vnu.jar is missing: run `make setup` (npm ci)"
    # One Java start for all pages: the checker's start-up dominates otherwise.
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
        capture_output=True, text=True, check=False, timeout=600,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').rsplit('/output/', 1)[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert not errors, "\n".join(errors[:40])
    assert result.returncode == 0
