"""Images GenEval's own generation script made: `DIR/NNNNN/metadata.jsonl` + `DIR/NNNNN/samples/KKKK.png`.

A prompt is matched by its text (each folder's metadata.jsonl holds its line of GenEval's prompt file),
so the folder numbering does not have to agree with punc's prompt ids; image index k is sample k.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError, PuncError
from harness.generators.base import GeneratedImage, ImageRequest
from harness.generators.premade import IMAGE_SUFFIXES, PremadeGenerator


class GenEvalFolderGenerator(PremadeGenerator):
    """Pre-made images in GenEval's output layout (`punc eval geneval --generator geneval:DIR`)."""

    kind = "geneval"

    def __init__(self, spec: str, **_: Any) -> None:
        self.source = Path(spec)
        self.index = None
        if not self.source.is_dir():
            raise PuncError(
                f"{spec}: expected GenEval's output folder (NNNNN/metadata.jsonl, NNNNN/samples/)"
            )
        self.root = self.source.resolve()
        self.by_text = self._index_folders()

    def _index_folders(self) -> dict[str, Path]:
        by_text: dict[str, Path] = {}
        for folder in sorted(p for p in self.source.iterdir() if p.is_dir() and p.name.isdigit()):
            metadata = folder / "metadata.jsonl"
            if not metadata.is_file():
                continue
            first = next(
                (line for line in metadata.read_text(encoding="utf-8").splitlines() if line.strip()), ""
            )
            try:
                row = json.loads(first)
            except json.JSONDecodeError as exc:
                raise InputError(metadata, 1, None, f"one JSON object ({exc.msg})", first) from None
            text = row.get("prompt") if isinstance(row, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise InputError(metadata, 1, "prompt", "the prompt text, as in GenEval's metadata", text)
            if text in by_text:
                raise InputError(metadata, 1, "prompt", f"a prompt not already in {by_text[text]}", text)
            by_text[text] = folder
        if not by_text:
            raise PuncError(f"{self.source}: no NNNNN/metadata.jsonl folders (GenEval's output layout) found")
        return by_text

    def _find(self, request: ImageRequest) -> Path | None:
        folder = self.by_text.get(request.prompt_text)
        if folder is None:
            return None
        for suffix in IMAGE_SUFFIXES:
            path = folder / "samples" / f"{request.index:04d}{suffix}"
            if path.is_file() and path.resolve().is_relative_to(self.root):
                return path
        return folder / "samples" / f"{request.index:04d}.png"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.source.resolve().name, "source": str(self.source)}

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        results = super().generate(requests)
        for result in results:
            if result.error and result.request.prompt_text not in self.by_text:
                result.error = f"no folder of {self.source} has the prompt {result.request.prompt_text!r} in its metadata.jsonl"
        return results
