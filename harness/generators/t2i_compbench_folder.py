"""Images named the way T2I-CompBench's scripts save them: `DIR/{prompt}_{NNNNNN}.png`.

NNNNNN is a counter running over the whole folder, so the images of one prompt are its files in
counter order: the first is image index 0, the next index 1, and so on. Prompts are matched by text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.generators.base import GeneratedImage, ImageRequest
from harness.generators.premade import PremadeGenerator

FILE_NAME = re.compile(r"^(?P<prompt>.+)_(?P<counter>\d{6})\.(?:png|jpg|jpeg|webp)$", re.IGNORECASE)


class T2ICompBenchFolderGenerator(PremadeGenerator):
    """Pre-made images in T2I-CompBench's naming (`punc eval t2i_compbench --generator t2i_compbench:DIR`)."""

    kind = "t2i_compbench"

    def __init__(self, spec: str, **_: Any) -> None:
        self.source = Path(spec)
        self.index = None
        if not self.source.is_dir():
            raise PuncError(
                f"{spec}: expected a folder of '{{prompt}}_{{NNNNNN}}.png' images (T2I-CompBench)"
            )
        grouped: dict[str, list[tuple[int, Path]]] = {}
        root = self.source.resolve()
        for path in self.source.iterdir():
            match = FILE_NAME.match(path.name)
            if match and path.is_file() and path.resolve().is_relative_to(root):  # no links out of DIR
                grouped.setdefault(match["prompt"], []).append((int(match["counter"]), path))
        if not grouped:
            raise PuncError(
                f"{self.source}: no '{{prompt}}_{{NNNNNN}}.png' images (T2I-CompBench naming) found"
            )
        self.by_text = {text: [p for _, p in sorted(files)] for text, files in grouped.items()}

    def _find(self, request: ImageRequest) -> Path | None:
        files = self.by_text.get(request.prompt_text.strip())
        if files is None or request.index >= len(files):
            return None
        return files[request.index]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.source.resolve().name, "source": str(self.source)}

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        results = super().generate(requests)
        for result in results:
            if result.error and self._find(result.request) is None:
                text = result.request.prompt_text.strip()
                have = len(self.by_text.get(text, []))
                result.error = (
                    f"{self.source} has {have} image(s) named '{text}_NNNNNN.png'; "
                    f"image index {result.request.index} is missing"
                )
        return results
