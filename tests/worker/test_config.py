"""Settings: one name in worker/config.py, the README table and .env.example."""

from __future__ import annotations

import json
import re
import runpy
import shutil
from pathlib import Path

import pytest

from worker.config import Seller, SettingError, Settings, load_seller, load_settings

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


def test_the_worker_and_the_site_read_the_sellers_facts_from_one_file(
        settings: Settings, tmp_path: Path) -> None:
    assert settings.seller == Seller(iin="910109301239",
                                     names={"kk": "ЖК «Исламбакиев Ш.А.»", "ru": "ИП «Исламбакиев Ш.А.»",
                                            "en": "IE Islambakiyev Sh.A."},
                                     support_phone="+7 705 454 49 65",
                                     support_whatsapp_url="https://wa.me/77054544965",
                                     support_email="support@qazaq-esim.com")
    # A new number in the file reaches both, with nothing else edited.
    changed = json.loads((ROOT / "content" / "data" / "seller.json").read_text(encoding="utf-8"))
    changed["support"]["phone"] = "+7 700 000 00 01"
    (tmp_path / "content" / "data").mkdir(parents=True)
    (tmp_path / "content" / "data" / "seller.json").write_text(json.dumps(changed))
    shutil.copy(ROOT / "pelicanconf.py", tmp_path)

    site = runpy.run_path(str(tmp_path / "pelicanconf.py"))
    worker = load_seller(tmp_path / "content" / "data" / "seller.json")

    assert site["SUPPORT"]["phone"] == worker.support_phone == "+7 700 000 00 01"
    assert site["SELLER_IIN"] == worker.iin == "910109301239"


def test_a_broken_seller_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "seller.json"
    broken.write_text('{"iin": "910109301239"}')

    with pytest.raises(SettingError, match=r"seller\.json.*'support'"):
        load_seller(broken)


def load_with(tmp_path: Path, **env: str) -> Settings:
    """load_settings with TEST_ENV changed by ``env`` (written to an env file, which wins)."""
    from worker.config import load_settings

    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    with pytest.MonkeyPatch.context() as patch:
        for name in env:
            patch.delenv(name, raising=False)
        return load_settings(env_file=env_file)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SESSION_SECRET": "change-me-to-at-least-32-random-characters"}, "SESSION_SECRET is the placeholder"),
        ({"OPERATOR_TOKEN": "a" * 64}, "OPERATOR_TOKEN is too short or too regular"),
        ({"METRICS_TOKEN": "abababababababababababababababababab"}, "METRICS_TOKEN is too short"),
        ({"AGGREGATOR_WEBHOOK_SECRET": "x"}, "AGGREGATOR_WEBHOOK_SECRET is too short"),
        ({"AGGREGATOR_WEBHOOK_SECRET": "change-me-to-a-long-random-string"},
         "AGGREGATOR_WEBHOOK_SECRET is the placeholder"),
        ({"SESSION_SECRET": "FILL-IN"}, "SESSION_SECRET is the placeholder"),
        ({"DEPLOYMENT": "production", "SITE_URL": "https://qazaq-esim.com",
          "WORKER_URL": "https://api.qazaq-esim.com"}, "EPAY_CLIENT_SECRET is the sandbox value"),
        ({"DEPLOYMENT": "production", "SITE_URL": "https://qazaq-esim.com"},
         "WORKER_URL='http://127.0.0.1:9': production needs https"),
        ({"SITE_URL": "http://127.0.0.1:8000/shop"}, "SITE_URL='http://127.0.0.1:8000/shop' must be an origin"),
        ({"SITE_URL": "http://127.0.0.1:8000/?a=1"}, "must be an origin"),
        ({"SITE_URL": "http://127.0.0.1:8000#top"}, "must be an origin"),
        ({"ORDERS_DB": "mysql://user:pw@db/x"}, "ORDERS_DB: mysql:// URLs are not supported"),
        ({"DEPLOYMENT": "production", "SITE_URL": "https://qazaq-esim.com",
          "WORKER_URL": "https://api.qazaq-esim.com", "EPAY_CLIENT_SECRET": "a-real-one-from-halyk",
          "ORDERS_DB": "var/orders.json"}, "ORDERS_DB='var/orders.json' is relative"),
        ({"CHECKOUT_RATE_LIMIT": "five a minute"}, "CHECKOUT_RATE_LIMIT='five a minute' is not a rate limit"),
        ({"DEPLOYMENT": "staging"}, "DEPLOYMENT='staging' must be one of"),
    ],
)
def test_placeholder_secrets_and_settings_that_cannot_work_are_refused_by_name(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingError, match=re.escape(named)):
        load_with(tmp_path, **env)


def test_a_relative_store_is_taken_from_the_repository_in_development(tmp_path: Path) -> None:
    assert load_with(tmp_path, ORDERS_DB="var/x.json").orders_db == ROOT / "var" / "x.json"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SITE_URL", "qazaq-esim.com", r"SITE_URL='qazaq-esim.com' is not an absolute http\(s\) URL"),
    ("SMTP_SECURITY", "ssl", r"SMTP_SECURITY='ssl' must be one of none, starttls, tls"),
    ("RECONCILE_INTERVAL", "a minute", r"RECONCILE_INTERVAL='a minute' is not a number"),
    ("SMTP_PORT", "0", r"SMTP_PORT='0' must be greater than zero"),
    ("MAIL_FROM", "", r"MAIL_FROM is not set; copy it from \.env\.example"),
    # issue 14: too little entropy, whatever the length, names the setting and how to make one
    ("OPERATOR_TOKEN", "short", r"OPERATOR_TOKEN is too short or too regular.*secrets\.token_urlsafe"),
    ("METRICS_TOKEN", "short", r"METRICS_TOKEN is too short or too regular"),
    ("SESSION_SECRET", "short", r"SESSION_SECRET is too short or too regular"),
])
def test_a_bad_setting_stops_start_up_naming_it_and_the_fix(
        name: str, value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingError, match=message):
        load_settings(env_file=empty_env)


@pytest.mark.parametrize(("value", "checks"), [("true", True), ("false", False), (None, True)])
def test_email_deliverability_is_checked_unless_switched_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, checks: bool) -> None:
    if value is None:
        monkeypatch.delenv("EMAIL_CHECK_DELIVERABILITY", raising=False)
    else:
        monkeypatch.setenv("EMAIL_CHECK_DELIVERABILITY", value)
    (tmp_path / "empty.env").write_text("")

    assert load_settings(env_file=tmp_path / "empty.env").email_check_deliverability is checks


def test_a_malformed_switch_stops_start_up_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_CHECK_DELIVERABILITY", "yes")
    (tmp_path / "empty.env").write_text("")

    with pytest.raises(SettingError, match="EMAIL_CHECK_DELIVERABILITY='yes' must be true or false"):
        load_settings(env_file=tmp_path / "empty.env")


def test_orders_db_chooses_the_store_a_path_or_a_postgresql_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    monkeypatch.setenv("ORDERS_DB", str(tmp_path / "orders.json"))
    embedded = load_settings(env_file=empty)
    monkeypatch.setenv("ORDERS_DB", "postgresql://qazaq@127.0.0.1:5432/qazaq")
    monkeypatch.setenv("JOB_LEASE", "12")
    shared = load_settings(env_file=empty)

    assert (embedded.orders_db, embedded.orders_url) == (tmp_path / "orders.json", "")
    assert shared.orders_url == "postgresql://qazaq@127.0.0.1:5432/qazaq"
    assert shared.job_lease == 12.0
    monkeypatch.setenv("JOB_LEASE", "0")
    with pytest.raises(SettingError, match="JOB_LEASE"):
        load_settings(env_file=empty)
