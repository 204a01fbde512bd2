"""content/data/devices.json: the phones, tablets and watches known to take an eSIM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TYPES = ("phone", "tablet", "watch", "laptop")


class DevicesError(ValueError):
    """devices.json breaks its schema; the message names the device and the field."""


def load_devices(path: Path) -> dict[str, Any]:
    """Read devices.json, check it, and group the devices by brand (brands sorted)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DevicesError(f"{path}: no such file; the device page is built from it") from None
    except json.JSONDecodeError as error:
        raise DevicesError(f"{path}: not valid JSON ({error})") from None
    devices = data.get("devices") if isinstance(data, dict) else None
    if not isinstance(devices, list):
        raise DevicesError(f"{path}: needs a 'devices' list")
    brands: dict[str, list[dict[str, Any]]] = {}
    for index, device in enumerate(devices):
        label = f"{path}: device #{index}"
        if not isinstance(device, dict):
            raise DevicesError(f"{label} must be an object")
        label = f"{path}: device {device.get('brand')!r} {device.get('model')!r}"
        for field in ("brand", "model"):
            if not isinstance(device.get(field), str) or not device[field].strip():
                raise DevicesError(f"{label}: field '{field}' must be a non-empty string")
        if device.get("type") not in TYPES:
            raise DevicesError(f"{label}: field 'type' must be one of {', '.join(TYPES)}, "
                               f"got {device.get('type')!r}")
        notes = device.get("notes")
        if notes is not None and not (
            isinstance(notes, dict) and all(isinstance(notes.get(lang), str) for lang in ("kk", "ru", "en"))
        ):
            raise DevicesError(f"{label}: field 'notes' must be null or give kk, ru and en texts")
        brands.setdefault(device["brand"], []).append(device)
    return {
        "updated": data.get("updated"),
        "sources": data.get("sources") or [],
        "brands": sorted(brands.items(), key=lambda item: item[0].lower()),
        "count": len(devices),
    }
