"""The one way images from users, runs and requests are decoded: size checked before any pixel is.

A 20 KB PNG can declare 13000 x 13000 pixels and cost 2.7 GB once decoded; PIL only warns below
about 179 M pixels. The header is read first and anything above the cap is refused.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

from PIL import Image

MAX_PIXELS_ENV = "PUNC_MAX_IMAGE_PIXELS"
#: 8192 x 8192, the largest image a task may ask a generator for (width/height <= 8192).
DEFAULT_MAX_PIXELS = 8192 * 8192


class ImageRefused(ValueError):
    """The data is not an image we decode: unreadable, or larger than the pixel cap."""


def max_pixels() -> int:
    """The pixel cap: PUNC_MAX_IMAGE_PIXELS when set to a positive integer, else the default."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if value.isdigit() and 0 < int(value) < 1 << 40:
        return int(value)
    return DEFAULT_MAX_PIXELS


def check_pixels(image: Image.Image, limit: int | None = None) -> None:
    limit = limit or max_pixels()
    width, height = image.size
    if width * height > limit:
        raise ImageRefused(
            f"{width}x{height} pixels is over the cap of {limit} pixels "
            f"(raise it with {MAX_PIXELS_ENV} if you mean it)"
        )


def open_image(source: str | Path | bytes | IO[bytes], limit: int | None = None) -> Image.Image:
    """Decode an image to RGB after checking its declared size; ImageRefused says why not."""
    stream: str | Path | IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with Image.open(stream) as img:
            check_pixels(img, limit)
            img.load()
            return img if img.mode == "RGB" else img.convert("RGB")
    except ImageRefused:
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        raise ImageRefused(f"not a readable image ({type(exc).__name__}: {exc})") from None
