"""deploy/worker.env.example: every setting the worker reads, each secret marked."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def names(path: Path) -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", path.read_text("utf-8"), re.M)


def test_the_production_template_lists_every_setting_and_marks_every_secret() -> None:
    template = ROOT / "deploy" / "worker.env.example"
    assert sorted(names(template)) == sorted(names(ROOT / ".env.example"))
    lines = template.read_text("utf-8").splitlines()
    secrets = {"EPAY_CLIENT_SECRET", "ESIMACCESS_SECRET_KEY", "AGGREGATOR_WEBHOOK_SECRET",
               "SMTP_PASSWORD", "WEBKASSA_API_KEY", "WEBKASSA_PASSWORD", "SESSION_SECRET",
               "OPERATOR_TOKEN", "METRICS_TOKEN"}
    for i, line in enumerate(lines):
        name = line.partition("=")[0]
        if name in secrets:
            assert "SECRET" in lines[i - 1], f"{name} is not marked SECRET in {template.name}"
