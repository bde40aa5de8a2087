"""ROUGE-1 and ROUGE-L, delegated to the reference implementation (the ``rouge-score`` package).

The spec requires equality with ``RougeScorer([variant], use_stemmer=True).score(target=prompt,
prediction=caption)``; calling that package is the honest way to guarantee it. Its tokeniser
lowercases, replaces every non ``[a-z0-9]`` character with a space and Porter-stems tokens longer
than three characters. An empty caption (or prompt) scores P = R = F = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from harness.devices import version_of
from harness.errors import PuncError
from harness.scorers.base import TextScorer, as_bool, check_pairs

ROUGE_VARIANTS = ("rouge1", "rougeL")


@lru_cache(maxsize=8)
def _rouge_scorer(variant: str, stemmer: bool) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([variant], use_stemmer=stemmer)


def _check_variant(variant: str) -> str:
    if variant not in ROUGE_VARIANTS:
        raise PuncError(f"unknown ROUGE variant {variant!r}; expected one of {', '.join(ROUGE_VARIANTS)}")
    return variant


def rouge_prf(prompt: str, caption: str, variant: str = "rouge1", stemmer: bool = True) -> dict[str, float]:
    """ROUGE precision/recall/F1 of ``caption`` against ``prompt`` (functional twin of the scorers)."""
    s = _rouge_scorer(_check_variant(variant), bool(stemmer)).score(target=prompt, prediction=caption)[
        variant
    ]
    return {"precision": float(s.precision), "recall": float(s.recall), "f1": float(s.fmeasure)}


class _RougeScorer(TextScorer):
    outputs: ClassVar[tuple[str, ...]] = ("precision", "recall", "f1")
    variant: ClassVar[str]

    def __init__(self, stemmer: bool = True, device: str | None = None) -> None:
        """``device`` is accepted so a run-wide device can be passed to every scorer; ROUGE ignores it."""
        self.stemmer = as_bool(stemmer, "stemmer", self.name)
        self.device = device

    def signature(self) -> str:
        stem = "porter" if self.stemmer else "none"
        return f"{self.name}:stemmer={stem}:tokenizer=rouge_score-default:rouge_score={version_of('rouge-score')}"

    def score(self, prompts: Sequence[str], captions: Sequence[str]) -> list[dict[str, float]]:
        prompts, captions = check_pairs(prompts, captions)
        return [rouge_prf(p, c, self.variant, self.stemmer) for p, c in zip(prompts, captions, strict=True)]


class Rouge1Scorer(_RougeScorer):
    """ROUGE-1 unigram precision/recall/F1 (rouge-score, Porter stemmer)."""

    name: ClassVar[str] = "rouge1"
    variant: ClassVar[str] = "rouge1"


class RougeLScorer(_RougeScorer):
    """ROUGE-L longest-common-subsequence precision/recall/F1 (rouge-score, Porter stemmer)."""

    name: ClassVar[str] = "rougeL"
    variant: ClassVar[str] = "rougeL"
