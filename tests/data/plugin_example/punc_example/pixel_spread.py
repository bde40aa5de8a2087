"""A baseline plug-in: how much the K images of a prompt differ, pixel by pixel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from PIL import Image

from harness.baselines.base import Baseline, Outcome, Resources


class PixelSpread(Baseline):
    """Mean over pixels of the standard deviation across the K images (0 = identical images)."""

    kind: ClassVar[str] = "pixel_spread"

    def __init__(self, resources: Resources | None = None, size: int = 32) -> None:
        # task YAML: `baselines: [{name: pixel_spread, params: {size: 64}}]`; from_params checks the names
        super().__init__(resources)
        self.size = int(size)

    def signature(self) -> str:
        return f"pixel_spread:size={self.size}:std=ddof0:v1"

    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        if len(images) < 2:  # raising fails this prompt alone: the stage records it and goes on
            raise ValueError("pixel_spread needs at least 2 images of the prompt")
        stack = np.stack(
            [
                np.asarray(i.convert("RGB").resize((self.size, self.size)), dtype=np.float64) / 255
                for i in images
            ]
        )
        return Outcome(u=float(stack.std(axis=0).mean()), passes=0)
