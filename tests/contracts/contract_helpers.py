"""Inputs every contract test shares: a realistically broken image."""

from __future__ import annotations

import io

from PIL import Image


def truncated_png() -> bytes:
    """The first half of a valid PNG: opens, then fails when its pixels are read (a cut download)."""
    from tiny_judges import make_images

    buffer = io.BytesIO()
    make_images(1, size=64)[0].save(buffer, "PNG")
    data = buffer.getvalue()
    return data[: len(data) // 2]


def truncated_image() -> Image.Image:
    return Image.open(io.BytesIO(truncated_png()))
