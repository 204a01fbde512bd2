"""Pay like a buyer on the Epay payform: the paymentObject serialised as payment-api.js does.

Shared by the tests (of the sandbox and of the worker) and the benchmarks; the sandbox itself
never imports it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
LZ_STRING = ROOT / "node_modules" / "lz-string"
VISA = ("4405639704015096", "01/27", "321")


def lz_compress(text: str) -> str:
    """Compress with the npm lz-string that payment-api.js ships, not a Python port."""
    script = (
        "const L=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
        "process.stdin.on('end',()=>process.stdout.write(L.compressToEncodedURIComponent(s)))"
    )
    done = subprocess.run(
        ["node", "-e", script, str(LZ_STRING)], input=text, text=True, capture_output=True, check=True
    )
    return done.stdout


def flatten(obj: dict[str, Any]) -> str:
    """payment-api.js's serialisation: key=encodeURIComponent(value), nested objects flattened."""
    parts = []
    for key, value in obj.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = flatten(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        parts.append(f"{key}={quote(str(value), safe='~()*!.' + chr(39))}")
    return "&".join(parts)


def card_form(
    payment: dict[str, Any],
    card: tuple[str, str, str] = VISA,
    name: str = "AIGERIM SARSENOVA",
    compress: Callable[[str], str] = lz_compress,
) -> dict[str, str]:
    """The payform's POST body after the buyer typed the card (``compress``: the benchmarks
    pass a Python port of lz-string, which spares a node process per payment)."""
    return {"params": compress(flatten(payment)), "pan": card[0], "expiry": card[1],
            "cvc": card[2], "name": name}
