"""A judge backend plug-in: captions an image with the name of its average colour.

A judge YAML selects it with `backend: colour-names`; its own options (here `palette`) live in its
config class, so a typo in them is reported with the file, line and field like any judge option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from PIL import ImageStat

from harness.config.judge import JudgeConfig
from harness.judges.base import CaptionRequest, CaptionResult, Judge

PALETTES = {
    "basic": {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 220), "grey": (128, 128, 128)},
    "extended": {
        "red": (220, 40, 40),
        "orange": (240, 140, 30),
        "yellow": (230, 220, 40),
        "green": (40, 180, 60),
        "blue": (40, 60, 220),
        "purple": (140, 50, 180),
        "black": (10, 10, 10),
        "white": (245, 245, 245),
        "grey": (128, 128, 128),
    },
}


class ColourNameJudgeConfig(JudgeConfig):
    """The options of `backend: colour-names` (the common judge options come from JudgeConfig)."""

    weights_needed: ClassVar[bool] = False  # no model weights to find or prefetch
    backend: Literal["colour-names"]
    palette: Literal["basic", "extended"] = "basic"

    def fingerprint_fields(self) -> dict[str, object]:
        # the palette changes captions, so it is part of the key cached captions are stored under
        return {**super().fingerprint_fields(), "palette": self.palette}


class ColourNameJudge(Judge):
    """Names the average colour of each image ('a mostly red image'); no model, no GPU."""

    config_class = ColourNameJudgeConfig
    config: ColourNameJudgeConfig
    batch_invariant = True

    def caption(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        return [self._one(request) for request in requests]  # one result per request, same order

    def _one(self, request: CaptionRequest) -> CaptionResult:
        try:
            mean = ImageStat.Stat(request.image.convert("RGB")).mean
        except Exception as exc:  # a broken image fails alone: its result carries the error
            return CaptionResult(request.key, error=f"colour-names: {type(exc).__name__}: {exc}")
        palette = PALETTES[self.config.palette]
        name = min(palette, key=lambda n: sum((a - b) ** 2 for a, b in zip(palette[n], mean, strict=True)))
        return CaptionResult(request.key, text=f"a mostly {name} image")
