"""Every setting of the worker, read from the environment (and `.env`) in one place.

Only this module reads the environment. A missing or malformed setting stops start-up
with a message that names it and says where to look (README, "Settings").
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse_many
from starlette.config import Config, environ
from starlette.datastructures import Secret

ROOT = Path(__file__).resolve().parent.parent
# The seller's IIN and support contacts, shared with the site build (pelicanconf.py).
SELLER_FILE = ROOT / "content" / "data" / "seller.json"

# The example files a placeholder secret may have been copied from (issue 14).
EXAMPLE_FILES = (ROOT / ".env.example", ROOT / "deploy" / "worker.env.example")
# A secret we generate ourselves must carry at least this much entropy (bits, estimated from
# its characters); `secrets.token_urlsafe(32)` has about 200.
MIN_SECRET_BITS = 128
GENERATE = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"

SmtpSecurity = Literal["none", "starttls", "tls"]
Deployment = Literal["production", "development"]


class SettingError(RuntimeError):
    """A setting is missing or malformed; the message names it and the fix."""


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingError(
            f"{name}={value!r} is not an absolute http(s) URL; set it in .env (README, Settings)"
        )
    return value.rstrip("/")


def example_values() -> set[str]:
    """Every value written in the example files (.env.example, deploy/worker.env.example)."""
    values: set[str] = set()
    for path in EXAMPLE_FILES:
        if path.exists():
            text = path.read_text("utf-8")
            values.update(v.strip() for v in re.findall(r"^[A-Z][A-Z0-9_]*=(.*)$", text, re.MULTILINE))
    return values - {""}


def secret_bits(value: str) -> float:
    """The entropy of ``value`` estimated from how often each character occurs (Shannon)."""
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


def _own_secret(name: str, value: str, examples: set[str]) -> str:
    """A secret we choose: refuse an example file's placeholder and anything guessable."""
    if value in examples or "change-me" in value.lower():
        raise SettingError(f"{name} is the placeholder from the example file; {GENERATE}")
    if secret_bits(value) < MIN_SECRET_BITS:
        raise SettingError(f"{name} is too short or too regular to be secret; {GENERATE}")
    return value


def _partner_secret(name: str, value: str, examples: set[str], deployment: str) -> str:
    """A partner's credential: the sandboxes' example values are refused in production."""
    if deployment == "production" and value in examples:
        raise SettingError(
            f"{name} is the sandbox value from the example file; in production set the one "
            "the partner issued (README, Settings)"
        )
    return value


def _site_origin(value: str, deployment: str) -> str:
    """SITE_URL is the one origin CORS allows and the base of the return links: no path,
    query or fragment, which no browser's Origin carries."""
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise SettingError(
            f"SITE_URL={value!r} must be an origin like https://qazaq-esim.com, without a path, "
            "'?' or '#': browsers send only the origin, so every checkout would fail CORS"
        )
    return _https_in_production("SITE_URL", value, deployment)


def _https_in_production(name: str, value: str, deployment: str) -> str:
    if deployment == "production" and urlsplit(value).scheme != "https":
        raise SettingError(
            f"{name}={value!r}: production needs https (buyers' data and Epay's callbacks "
            "travel over it); set DEPLOYMENT=development for a local shop (README, Settings)"
        )
    return value


def orders_store(value: str, deployment: str) -> tuple[Path, str]:
    """ORDERS_DB: the embedded store's file, or a PostgreSQL URL (issue 13), as
    ``(file, url)``. With PostgreSQL nothing is kept in files; var/ is where a local file (the
    limits' counts) goes. Any other URL is refused here, before it becomes a folder name."""
    if value.startswith(("postgresql://", "postgres://")):
        return ROOT / "var" / "orders.json", value
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise SettingError(
            f"ORDERS_DB: {scheme}:// URLs are not supported; set postgresql://… or an absolute "
            "file path such as /var/lib/qazaq-esim/orders.json"
        )
    path = Path(value)
    if not path.is_absolute():
        if deployment == "production":
            raise SettingError(
                f"ORDERS_DB={value!r} is relative, so the store would move with the working "
                "directory; set an absolute path such as /var/lib/qazaq-esim/orders.json"
            )
        path = ROOT / path  # development: beside the repository, wherever it is started from
    return path, ""


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingError(f"{name}={value!r} must be one of {', '.join(allowed)} (README, Settings)")
    return value


def _rate_limit(name: str, value: str) -> str:
    """A limit as the `limits` library writes it: ``5/minute;30/hour``."""
    try:
        parse_many(value)
    except ValueError:
        raise SettingError(
            f"{name}={value!r} is not a rate limit like '5/minute;30/hour' (README, Settings)"
        ) from None
    return value


def _flag(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise SettingError(f"{name}={value!r} must be true or false (README, Settings)")
    return value == "true"


def _positive(name: str, value: str, cast: type[int | float] = int) -> float:
    try:
        number = cast(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a number (README, Settings)") from None
    if number <= 0:
        raise SettingError(f"{name}={value!r} must be greater than zero (README, Settings)")
    return number


@dataclass(frozen=True)
class Seller:
    """The seller's requisites the buyer reads in e-mails (public offer, "Seller Requisites")."""

    iin: str
    names: dict[str, str]  # per language: "ИП «Исламбакиев Ш.А.»" in Russian, Latin letters in English
    support_phone: str  # the WhatsApp number as printed: "+7 705 454 49 65"
    support_whatsapp_url: str  # "https://wa.me/77054544965"
    support_email: str


def load_seller(path: Path = SELLER_FILE) -> Seller:
    """Read the seller's facts from the file the site build reads too; name the file if it is bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        support = data["support"]
        return Seller(
            iin=str(data["iin"]),
            names={lang: str(data["name"][lang]) for lang in ("kk", "ru", "en")},
            support_phone=str(support["phone"]),
            support_whatsapp_url=str(support["whatsapp"]),
            support_email=str(support["email"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SettingError(
            f"{path}: cannot read the seller's facts ({error!r}); restore it from git "
            "(README, \"The site (for editors)\")"
        ) from None


@dataclass(frozen=True)
class Settings:
    site_url: str
    worker_url: str
    # Epay (Halyk Bank)
    epay_oauth_url: str
    epay_api_url: str
    epay_payment_js_url: str
    epay_client_id: str
    epay_client_secret: Secret
    epay_terminal_id: str
    # Orders and the catalogue the site was built from
    orders_db: Path  # the embedded store's live file; with PostgreSQL, where host-local files go
    catalog_path: Path
    reconcile_interval: float
    usage_refresh_interval: float  # seconds between usage refreshes of the active eSIMs
    # Wholesale eSIM aggregator
    esim_provider: str
    esimaccess_url: str
    esimaccess_access_code: str
    esimaccess_secret_key: Secret
    aggregator_webhook_secret: Secret
    provision_give_up_after: float
    # Mail
    smtp_host: str
    smtp_port: int
    smtp_security: SmtpSecurity
    smtp_user: str
    smtp_password: Secret
    mail_from: str
    support_email: str
    # Ask DNS whether the buyer's mail domain can receive mail (off where there is no DNS)
    email_check_deliverability: bool
    seller: Seller
    # Fiscal receipts (online cash register)
    fiscal_provider: str
    webkassa_url: str
    webkassa_api_key: Secret
    webkassa_login: str
    webkassa_password: Secret
    webkassa_cashbox: str
    # Buyer accounts and the operator surface
    session_secret: Secret
    operator_token: Secret | None
    personal_data_retention_days: int
    # Monitoring (docs/operations.md)
    metrics_token: Secret | None = None
    aggregator_balance_alert_usd: float = 100.0
    # Abuse limits (issue 14), written as the `limits` library writes them
    checkout_rate_limit: str = "5/minute;30/hour"  # per client address
    checkout_email_rate_limit: str = "3/minute;10/hour"  # per buyer's e-mail address
    checkout_total_rate_limit: str = "60/minute;1000/hour"  # the whole shop
    unpaid_orders_per_email: int = 3
    sign_in_rate_limit: str = "5/minute;20/hour"  # sign-in link requests per client address
    sign_in_mailbox_rate_limit: str = "1/minute;5/day"  # sign-in mails per mailbox
    deployment: Deployment = "production"
    alert_webhook_url: str = ""  # support alerts when the mail fails: a chat webhook (JSON POST)
    # The order store on PostgreSQL (ORDERS_DB=postgresql://…); empty: the embedded store
    orders_url: str = ""
    job_lease: float = 30.0  # seconds a process holds a claimed job before another takes it over


def load_settings(env_file: str | os.PathLike[str] | None = None) -> Settings:
    """Read and check every setting; raise SettingError naming the first bad one."""
    if env_file is None:
        candidate = ROOT / ".env"
        env_file = candidate if candidate.exists() else None
    config = Config(Path(env_file) if env_file is not None else None, environ=environ)

    def required(name: str) -> str:
        value = config(name, default="")
        if not value:
            raise SettingError(
                f"{name} is not set; copy it from .env.example into .env (README, Settings)"
            )
        return str(value)

    def optional(name: str, default: str) -> str:
        return str(config(name, default=default))

    fiscal_provider = _choice(
        "FISCAL_PROVIDER", optional("FISCAL_PROVIDER", "none"), ("none", "webkassa")
    )
    webkassa_needed = fiscal_provider == "webkassa"
    deployment = _choice(
        "DEPLOYMENT", optional("DEPLOYMENT", "production"), ("production", "development")
    )
    examples = example_values()

    def own(name: str, value: str) -> str:
        return _own_secret(name, value, examples) if value else value

    def partner(name: str, value: str) -> str:
        return _partner_secret(name, value, examples, deployment)

    operator_token = own("OPERATOR_TOKEN", optional("OPERATOR_TOKEN", ""))
    seller = load_seller()
    metrics_token = own("METRICS_TOKEN", optional("METRICS_TOKEN", ""))
    orders_db, orders_url = orders_store(required("ORDERS_DB"), deployment)
    session_secret = own("SESSION_SECRET", required("SESSION_SECRET"))

    return Settings(
        site_url=_site_origin(_url("SITE_URL", required("SITE_URL")), deployment),
        worker_url=_https_in_production("WORKER_URL", _url("WORKER_URL", required("WORKER_URL")),
                                        deployment),
        epay_oauth_url=_url("EPAY_OAUTH_URL", required("EPAY_OAUTH_URL")),
        epay_api_url=_url("EPAY_API_URL", required("EPAY_API_URL")),
        epay_payment_js_url=_url("EPAY_PAYMENT_JS_URL", required("EPAY_PAYMENT_JS_URL")),
        epay_client_id=required("EPAY_CLIENT_ID"),
        epay_client_secret=Secret(partner("EPAY_CLIENT_SECRET", required("EPAY_CLIENT_SECRET"))),
        epay_terminal_id=required("EPAY_TERMINAL_ID"),
        orders_db=orders_db,
        orders_url=orders_url,
        job_lease=_positive("JOB_LEASE", optional("JOB_LEASE", "30"), float),
        catalog_path=Path(optional("CATALOG_PATH", str(ROOT / "content" / "data" / "catalog.json"))),
        reconcile_interval=_positive(
            "RECONCILE_INTERVAL", optional("RECONCILE_INTERVAL", "60"), float
        ),
        usage_refresh_interval=_positive(
            "USAGE_REFRESH_INTERVAL", optional("USAGE_REFRESH_INTERVAL", "10800"), float
        ),
        esim_provider=_choice(
            "ESIM_PROVIDER", optional("ESIM_PROVIDER", "esimaccess"), ("esimaccess",)
        ),
        esimaccess_url=_url("ESIMACCESS_URL", required("ESIMACCESS_URL")),
        esimaccess_access_code=required("ESIMACCESS_ACCESS_CODE"),
        esimaccess_secret_key=Secret(
            partner("ESIMACCESS_SECRET_KEY", required("ESIMACCESS_SECRET_KEY"))
        ),
        aggregator_webhook_secret=Secret(
            own("AGGREGATOR_WEBHOOK_SECRET", required("AGGREGATOR_WEBHOOK_SECRET"))
        ),
        provision_give_up_after=_positive(
            "PROVISION_GIVE_UP_AFTER", optional("PROVISION_GIVE_UP_AFTER", "900"), float
        ),
        smtp_host=required("SMTP_HOST"),
        smtp_port=int(_positive("SMTP_PORT", optional("SMTP_PORT", "587"))),
        smtp_security=_choice(  # type: ignore[arg-type]
            "SMTP_SECURITY", optional("SMTP_SECURITY", "starttls"), ("none", "starttls", "tls")
        ),
        smtp_user=optional("SMTP_USER", ""),
        smtp_password=Secret(optional("SMTP_PASSWORD", "")),
        mail_from=required("MAIL_FROM"),
        support_email=optional("SUPPORT_EMAIL", seller.support_email),
        email_check_deliverability=_flag(
            "EMAIL_CHECK_DELIVERABILITY", optional("EMAIL_CHECK_DELIVERABILITY", "true")
        ),
        seller=seller,
        fiscal_provider=fiscal_provider,
        webkassa_url=_url("WEBKASSA_URL", required("WEBKASSA_URL")) if webkassa_needed else "",
        webkassa_api_key=Secret(
            partner("WEBKASSA_API_KEY", required("WEBKASSA_API_KEY")) if webkassa_needed else ""
        ),
        webkassa_login=required("WEBKASSA_LOGIN") if webkassa_needed else "",
        webkassa_password=Secret(
            partner("WEBKASSA_PASSWORD", required("WEBKASSA_PASSWORD")) if webkassa_needed else ""
        ),
        webkassa_cashbox=required("WEBKASSA_CASHBOX") if webkassa_needed else "",
        session_secret=Secret(session_secret),
        operator_token=Secret(operator_token) if operator_token else None,
        personal_data_retention_days=int(
            _positive(
                "PERSONAL_DATA_RETENTION_DAYS", optional("PERSONAL_DATA_RETENTION_DAYS", "1095")
            )
        ),
        metrics_token=Secret(metrics_token) if metrics_token else None,
        aggregator_balance_alert_usd=_positive(
            "AGGREGATOR_BALANCE_ALERT_USD", optional("AGGREGATOR_BALANCE_ALERT_USD", "100"), float
        ),
        checkout_rate_limit=_rate_limit(
            "CHECKOUT_RATE_LIMIT", optional("CHECKOUT_RATE_LIMIT", "5/minute;30/hour")
        ),
        checkout_email_rate_limit=_rate_limit(
            "CHECKOUT_EMAIL_RATE_LIMIT", optional("CHECKOUT_EMAIL_RATE_LIMIT", "3/minute;10/hour")
        ),
        checkout_total_rate_limit=_rate_limit(
            "CHECKOUT_TOTAL_RATE_LIMIT", optional("CHECKOUT_TOTAL_RATE_LIMIT", "60/minute;1000/hour")
        ),
        sign_in_rate_limit=_rate_limit(
            "SIGN_IN_RATE_LIMIT", optional("SIGN_IN_RATE_LIMIT", "5/minute;20/hour")
        ),
        sign_in_mailbox_rate_limit=_rate_limit(
            "SIGN_IN_MAILBOX_RATE_LIMIT", optional("SIGN_IN_MAILBOX_RATE_LIMIT", "1/minute;5/day")
        ),
        deployment=deployment,  # type: ignore[arg-type]
        alert_webhook_url=_url("ALERT_WEBHOOK_URL", optional("ALERT_WEBHOOK_URL", ""))
        if optional("ALERT_WEBHOOK_URL", "") else "",
        unpaid_orders_per_email=int(
            _positive("UNPAID_ORDERS_PER_EMAIL", optional("UNPAID_ORDERS_PER_EMAIL", "3"))
        ),
    )
