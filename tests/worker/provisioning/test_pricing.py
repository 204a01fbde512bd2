"""Tenge prices from wholesale: rate, markup, shop-like rounding, overrides, the National Bank."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from loopback import ServerThread, free_port
from provisioning_fixtures import RSS
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from worker.provisioning.pricing import (
    PRICING_PATH,
    PricingError,
    load_pricing,
    national_bank_usd_rate,
    shop_round,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(4533.0, 4590), (4590.0, 4590), (4590.5, 4690), (4491.0, 4590), (12.0, 90), (95.0, 190)],
)
def test_prices_round_up_to_the_next_price_ending_in_90(amount: float, expected: int) -> None:
    assert shop_round(amount, 100, 90) == expected


def test_the_shipped_pricing_file_is_valid() -> None:
    pricing = load_pricing()
    assert pricing.usd_kzt > 0 and 0 < pricing.max_lost_destinations_share < 1


def test_price_is_wholesale_times_rate_plus_markup_rounded() -> None:
    pricing = replace(
        load_pricing(), markup_percent=50, destination_overrides={}, package_overrides={}
    )
    # 5.70 USD x 500 KZT/USD x 1.5 = 4275 KZT -> 4290
    assert pricing.retail_kzt(57000, 10000, "USD", 500.0, "TR", "TR-10GB-30D") == 4290


def test_overrides_per_package_beat_per_destination_beat_the_default() -> None:
    pricing = replace(
        load_pricing(),
        markup_percent=50,
        min_price_kzt=990,
        destination_overrides={"TR": {"markup_percent": 10, "hotspot": False}},
        package_overrides={"TR-10GB-30D": {"price_kzt": 3990}, "TR-1GB-7D": {"markup_percent": 0}},
    )
    assert pricing.retail_kzt(57000, 10000, "USD", 500.0, "TR", "TR-10GB-30D") == 3990
    assert pricing.retail_kzt(57000, 10000, "USD", 500.0, "TR", "TR-5GB-30D") == 3190  # 3135
    assert pricing.retail_kzt(10000, 10000, "USD", 500.0, "TR", "TR-1GB-7D") == 990  # min price
    assert pricing.retail_kzt(57000, 10000, "USD", 500.0, "DE", "DE-5GB-30D") == 4290
    assert pricing.hotspot_for("TR", "TR-5GB-30D") is False and pricing.hotspot_for("DE", "x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"markup_percent": "45"}, "'markup_percent' must be a number"),
        ({"round_ending": 100}, "'round_ending' must be a number from 0 to 99"),
        ({"package_overrides": {"TR-1GB-7D": {"price": 990}}}, "unknown keys ['price']"),
        (
            {"package_overrides": {"TR-1GB-7D": {"price_kzt": 99.5}}},
            "price_kzt must be whole tenge",
        ),
        ({"destination_overrides": {"TR": 30}}, "'destination_overrides' must map codes to objects"),
        ({"day_pass_periods": [0, 7]}, "'day_pass_periods' must list days from 1 to 365"),
    ],
)
def test_a_bad_pricing_file_names_the_key(
    change: dict[str, object], message: str, tmp_path: Path
) -> None:
    data = json.loads(PRICING_PATH.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "pricing.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PricingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_pricing(path)


def test_national_bank_usd_rate_is_read_from_its_rss(national_bank: str) -> None:
    assert national_bank_usd_rate(national_bank, 3) == 471.35


def test_an_unreachable_national_bank_fails_fast() -> None:
    import httpx

    with pytest.raises(httpx.HTTPError):
        national_bank_usd_rate(f"http://127.0.0.1:{free_port()}/rss/rates_all.xml", 1)


def test_a_missing_or_broken_pricing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match="pricing.json: no such file; copy it from git"):
        load_pricing(tmp_path / "pricing.json")
    (tmp_path / "pricing.json").write_text("{", encoding="utf-8")
    with pytest.raises(PricingError, match="pricing.json: not valid JSON"):
        load_pricing(tmp_path / "pricing.json")


def test_a_wholesale_price_in_another_currency_is_not_guessed() -> None:
    with pytest.raises(PricingError, match="package TR-1GB-7D: wholesale currency EUR has no rate"):
        load_pricing().retail_kzt(10000, 10000, "EUR", 500.0, "TR", "TR-1GB-7D")


def test_a_feed_without_the_dollar_is_refused() -> None:
    async def rates(request: object) -> Response:
        return Response(RSS.replace("<title>USD</title>", "<title>GBP</title>"),
                        media_type="application/xml")

    with (ServerThread(Starlette(routes=[Route("/rss/rates_all.xml", rates)])) as server,
          pytest.raises(ValueError, match="no USD item")):
        national_bank_usd_rate(f"{server.url}/rss/rates_all.xml", 3)
