"""QR codes of activation codes: SVG for the order page, PNG for the e-mail (segno).

Error correction M (segno raises it further when that costs no extra modules) and the
4-module quiet zone keep the code readable by a phone camera pointed at another screen;
a 4-module QR image is useless on a glossy display without that margin.
"""

from __future__ import annotations

import io

import segno

ERROR = "m"
BORDER = 4
PNG_SCALE = 8  # an LPA (~60 characters) gives 37-41 modules: about 360 px with the border


def _make(lpa: str) -> segno.QRCode:
    return segno.make_qr(lpa, error=ERROR, boost_error=True)


def svg(lpa: str) -> bytes:
    """A scalable SVG (viewBox, no fixed size) with an opaque white background."""
    buffer = io.BytesIO()
    _make(lpa).save(
        buffer,
        kind="svg",
        border=BORDER,
        dark="#000",
        light="#fff",
        xmldecl=False,
        omitsize=True,
        title="eSIM QR",
    )
    return buffer.getvalue()


def png(lpa: str, scale: int = PNG_SCALE) -> bytes:
    """A black-on-white PNG, `scale` pixels per module."""
    buffer = io.BytesIO()
    _make(lpa).save(buffer, kind="png", border=BORDER, scale=scale, dark="#000", light="#fff")
    return buffer.getvalue()
