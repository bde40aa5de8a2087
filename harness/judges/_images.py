"""Helpers shared by the judge backends: images as data URLs, per-sample seeds, secret redaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Iterable

from PIL import Image

from harness.images import ImageRefused, open_image
from harness.redact import scrub

_SEED_MODULUS = 2**31 - 1  # fits every server's "seed" field (OpenAI, vLLM) and torch generators


def to_rgb(image: Image.Image) -> Image.Image:
    """Judges see 3-channel images: palettes, alpha and greyscale are converted once here."""
    return image if image.mode == "RGB" else image.convert("RGB")


def image_to_data_url(image: Image.Image, image_format: str = "PNG") -> str:
    """A lossless `data:image/png;base64,...` URL, the form chat-completions servers accept."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format=image_format)
    mime = f"image/{image_format.lower()}"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def data_url_payload(url: str) -> str:
    """The base64 part of a data URL; ValueError if `url` is not a base64 data URL."""
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ValueError("expected a base64 data URL (data:image/...;base64,...)")
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise ValueError("expected a base64 data URL (data:image/...;base64,...)")
    return payload


def data_url_to_image(url: str, max_pixels: int | None = None) -> Image.Image:
    """Decode a base64 image data URL into an RGB PIL image; ValueError when it is not one."""
    payload = data_url_payload(url)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the data URL does not hold valid base64 ({type(exc).__name__})") from None
    try:
        return open_image(raw, max_pixels)
    except ImageRefused as exc:
        raise ValueError(f"the data URL does not hold an image we decode: {exc}") from None


def sample_seed(base_seed: int, key: str, sample_index: int) -> int:
    """The seed of one caption sample: a function of the judge's seed, the request key and the index only.

    So sample i of an image is the same on every run, whatever batch or server it lands in.
    """
    digest = hashlib.sha256(f"{base_seed}\x1f{key}\x1f{sample_index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _SEED_MODULUS


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret in `text`, in all its escaped forms (see harness.redact)."""
    return scrub(text, secrets)
