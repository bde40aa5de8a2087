"""harness.images: a small file that declares a huge image is refused from its header, before decoding."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image

from harness.images import DEFAULT_MAX_PIXELS, ImageRefused, open_image


def bomb_png(side: int) -> bytes:
    """A valid PNG of side x side black pixels, compressed row by row (never held whole in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (side * 3)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_reviewers_bomb_is_refused_before_decoding():
    data = bomb_png(13000)  # 169 M pixels: 2.7 GB once decoded by the old code
    assert len(data) < 1_000_000
    started = time.monotonic()
    with pytest.raises(ImageRefused, match="13000x13000 pixels is over the cap"):
        open_image(data)
    assert time.monotonic() - started < 2  # decoding would take far longer


def test_cap_is_configurable(monkeypatch):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buffer, format="PNG")
    assert open_image(buffer.getvalue()).size == (40, 30)
    monkeypatch.setenv("PUNC_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageRefused, match="cap of 1000 pixels"):
        open_image(buffer.getvalue())
    assert DEFAULT_MAX_PIXELS == 8192 * 8192  # the largest image a task can ask for still opens


def test_garbage_is_refused_not_raised():
    for data in (b"", b"\x89PNG\r\n\x1a\n", b"GIF89a" + b"\x00" * 20):
        with pytest.raises(ImageRefused):
            open_image(data)
