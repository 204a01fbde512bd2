"""QR codes: the PNG (e-mail) and the SVG (order page) decode back to the exact LPA string."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from worker import qr

LPAS = [
    "LPA:1$rsp-eu.redteamobile.com$6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7",
    "LPA:1$smdp.io$K2-1T4RW6-1DX5Z2Q$1.3.6.1.4.1.31746$1",
]
SVG = "{http://www.w3.org/2000/svg}"


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def rasterise(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw segno's SVG (one path of horizontal unit-wide strokes) as a browser would."""
    root = ET.fromstring(svg)
    width, height = (int(float(v)) for v in root.attrib["viewBox"].split()[2:])
    image = Image.new("L", (width * scale, height * scale), 255)
    path = root.find(f"{SVG}path[@class='qrline']")
    assert path is not None
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d.\s]+)", path.attrib["d"]):
        values = [float(v) for v in numbers.split()]
        if command in "Mm":
            x, y = (values[0], values[1]) if command == "M" else (x + values[0], y + values[1])
        else:
            run = values[0] if command == "h" else values[0] - x
            row = int(y)  # strokes run along the middle of their row
            image.paste(0, (int(x * scale), row * scale, int((x + run) * scale), (row + 1) * scale))
            x += run
    return image


@pytest.mark.parametrize("lpa", LPAS)
def test_png_decodes_to_the_exact_lpa(lpa: str) -> None:
    image = Image.open(io.BytesIO(qr.png(lpa)))
    assert decode(image) == [lpa]


@pytest.mark.parametrize("lpa", LPAS)
def test_svg_decodes_to_the_exact_lpa(lpa: str) -> None:
    assert decode(rasterise(qr.svg(lpa))) == [lpa]


def test_png_is_large_enough_for_a_camera_pointed_at_a_screen() -> None:
    image = Image.open(io.BytesIO(qr.png(LPAS[0])))
    assert image.width >= 300  # at least 8 px per module including the quiet zone


def test_svg_scales_to_its_box_and_keeps_the_quiet_zone() -> None:
    root = ET.fromstring(qr.svg(LPAS[0]))
    assert "width" not in root.attrib and "viewBox" in root.attrib
    # A white background covers the 4-module margin, so a dark page theme cannot eat it.
    background = root.find(f"{SVG}path[@fill='#fff']")
    assert background is not None
    path = root.find(f"{SVG}path[@class='qrline']")
    assert path is not None and path.attrib["d"].startswith("M4 4.5")


def test_qr_of_a_photo_of_the_screen_still_decodes() -> None:
    """Blurred, shrunk and low-contrast, as a phone sees a laptop screen across a desk."""
    from PIL import ImageFilter

    image = Image.open(io.BytesIO(qr.png(LPAS[0]))).convert("L")
    image = image.resize((image.width // 2, image.height // 2)).filter(ImageFilter.GaussianBlur(1))
    image = image.point(lambda v: 70 + v * 110 // 255)  # grey on lighter grey
    assert decode(image) == [LPAS[0]]
