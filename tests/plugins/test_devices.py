"""devices.json is checked when the site is built; a bad device is named with its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalogue.devices import DevicesError, load_devices

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, devices: list[dict[str, Any]]) -> Path:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps({"updated": "2026-11-25", "sources": [], "devices": devices}), encoding="utf-8")
    return path


def test_the_shipped_device_list_loads_grouped_by_brand() -> None:
    devices = load_devices(ROOT / "content" / "data" / "devices.json")
    brands = [brand for brand, _ in devices["brands"]]
    assert "Apple" in brands and brands == sorted(brands, key=str.lower)
    assert devices["count"] == sum(len(items) for _, items in devices["brands"])


@pytest.mark.parametrize(("device", "says"), [
    ({"brand": "Apple", "model": "", "type": "phone", "notes": None}, "'model'"),
    ({"brand": "Apple", "model": "iPhone 15", "type": "fridge", "notes": None}, "'type' must be one of"),
    ({"brand": "Apple", "model": "iPhone 15", "type": "phone", "notes": {"en": "x"}}, "kk, ru and en"),
])
def test_a_bad_device_is_named(tmp_path: Path, device: dict[str, Any], says: str) -> None:
    with pytest.raises(DevicesError, match="'Apple'") as error:
        load_devices(write(tmp_path, [device]))
    assert says in str(error.value)
