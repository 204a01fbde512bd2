"""Settings: one name in worker/config.py, the README table and .env.example."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setting_names() -> set[str]:
    source = (ROOT / "worker" / "config.py").read_text()
    return set(re.findall(r'\b(?:required|optional)\(\s*"([A-Z0-9_]+)"', source))


def test_every_setting_has_a_readme_row_and_an_example_value() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings"):]
    table = table[: table.index("\n## ")]
    example = (ROOT / ".env.example").read_text()
    names = setting_names()

    assert len(names) > 30
    assert sorted(n for n in names if f"`{n}`" not in table) == []
    assert sorted(n for n in names if not re.search(rf"^{n}=", example, re.MULTILINE)) == []
