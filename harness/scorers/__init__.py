"""Text scorers: compare a caption (candidate) with its prompt (reference).

Light to import: torch, transformers, sentence-transformers and rouge_score load on first use.
"""

from harness.scorers.base import DEFAULT_MODEL, TextScorer
from harness.scorers.bertscore import BERTScoreScorer, bertscore_prf
from harness.scorers.cosine import CosineScorer, embedding_cosine
from harness.scorers.registry import available_scorers, build_scorer, scorer_class, scorer_params
from harness.scorers.rouge import Rouge1Scorer, RougeLScorer, rouge_prf

__all__ = [
    "BERTScoreScorer",
    "CosineScorer",
    "Rouge1Scorer",
    "RougeLScorer",
    "DEFAULT_MODEL",
    "TextScorer",
    "available_scorers",
    "bertscore_prf",
    "build_scorer",
    "embedding_cosine",
    "rouge_prf",
    "scorer_class",
    "scorer_params",
]
