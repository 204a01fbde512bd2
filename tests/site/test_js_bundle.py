"""The committed bundles in theme/static/js/ are what `invoke js` makes from theme/src/ and the
npm packages in package-lock.json: an upgrade or an edit without a rebuild fails here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"


@pytest.mark.skipif(not ESBUILD.exists(), reason="npm packages not installed (make setup)")
def test_the_committed_bundles_are_up_to_date(tmp_path: Path) -> None:
    from tasks import JS_BUNDLES, esbuild_command

    for entry, bundle in JS_BUNDLES.items():
        fresh = tmp_path / Path(bundle).name
        subprocess.run(esbuild_command(entry, str(fresh)), cwd=ROOT, check=True, timeout=60)
        assert fresh.read_bytes() == (ROOT / bundle).read_bytes(), f"run `invoke js`: {bundle} is stale"
