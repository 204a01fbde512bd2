"""A buyer's screenshot: decoded with Pillow and encoded again, so what support opens is an
image we made (no metadata, no polyglot file), PNG or JPEG of at most 5 MB."""

from __future__ import annotations

import io
import warnings

from PIL import Image

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 5 MB file may declare far more pixels: refuse a decompression bomb
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
MEDIA_TYPES = dict(FORMATS.values())


class NotAScreenshot(ValueError):
    """Not a PNG or JPEG image of at most 5 MB that decodes."""


def clean(data: bytes) -> tuple[bytes, str]:
    """The image encoded again and its file extension; NotAScreenshot otherwise."""
    if not data or len(data) > MAX_BYTES:
        raise NotAScreenshot("empty or larger than 5 MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
                    raise NotAScreenshot(f"not a PNG or JPEG of a screen ({image.format})")
                image.load()
                extension, _ = FORMATS[image.format]
                out = io.BytesIO()
                if image.format == "JPEG":
                    image.convert("RGB").save(out, "JPEG", quality=90)
                else:
                    image.save(out, "PNG", optimize=False)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise NotAScreenshot(str(error)) from None
    return out.getvalue(), extension
