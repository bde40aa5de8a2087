"""A generator plug-in: horizontal stripes whose colours come from the prompt's words and the seed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw

from harness.generators.base import GeneratedImage, Generator, ImageRequest


class StripesGenerator(Generator):
    """Horizontal stripes, one per prompt word, coloured by hashing the word with the image's seed."""

    batch_invariant = True  # each image depends on its own request only

    def __init__(self, spec: str, **options: Any) -> None:
        # `--generator stripes:N` draws N-pixel images (default 32); run options (device, dtype,
        # batch_size) mean nothing to a drawing and are ignored.
        self.size = int(spec or 32)

    def describe(self) -> dict[str, Any]:
        return {"kind": "stripes", "model": "stripes", "revision": "v1", "size": self.size}

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        return [self._one(request) for request in requests]  # one result per request, same order

    def _one(self, request: ImageRequest) -> GeneratedImage:
        words = request.prompt_text.split()
        if not words:  # one bad request fails alone: the error is recorded, the batch goes on
            return GeneratedImage(request, error="stripes: the prompt has no words to draw")
        width, height = request.width or self.size, request.height or self.size
        image = Image.new("RGB", (width, height))
        draw = ImageDraw.Draw(image)
        band = max(1, height // len(words))
        for row, word in enumerate(words):
            digest = hashlib.sha256(f"{word}:{request.seed}".encode()).digest()
            draw.rectangle([0, row * band, width, (row + 1) * band], fill=tuple(digest[:3]))
        return GeneratedImage(request, image, recipe={**self.describe(), "seed": request.seed})
