"""A scorer plug-in: Jaccard similarity of the prompt's and the caption's lower-cased word sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from harness.scorers.base import TextScorer, check_pairs


class JaccardScorer(TextScorer):
    """Jaccard similarity of lower-cased word sets: |P ∩ C| / |P ∪ C| (0 when both are empty)."""

    name: ClassVar[str] = "jaccard"
    outputs: ClassVar[tuple[str, ...]] = ("jaccard",)

    def __init__(self, device: str | None = None) -> None:
        """`device` is accepted because a run passes its device to every scorer; words need none."""

    def signature(self) -> str:
        return "jaccard:lowercase:whitespace-split:v1"

    def score(self, prompts: Sequence[str], captions: Sequence[str]) -> list[dict[str, float]]:
        prompts, captions = check_pairs(prompts, captions)
        rows = []
        for prompt, caption in zip(prompts, captions, strict=True):
            a, b = set(prompt.lower().split()), set(caption.lower().split())
            rows.append({"jaccard": len(a & b) / len(a | b) if a | b else 0.0})
        return rows
