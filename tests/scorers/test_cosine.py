"""Embedding cosine: checked against an independent transformers mean-pooling computation."""

from __future__ import annotations

import pytest
from scorer_parity import assert_parity, cosine_reference

from harness.errors import PuncError
from harness.scorers import CosineScorer, build_scorer, embedding_cosine


@pytest.fixture(scope="module")
def scorer() -> CosineScorer:
    return CosineScorer(device="cpu")


def test_matches_manual_mean_pooling(scorer, pairs, model_path):
    assert_parity(scorer, cosine_reference(model_path), pairs, tol=1e-5)


def test_symmetric_and_identity(scorer):
    a, b = "a red circle on the left", "a small crimson disc"
    assert scorer.score([a], [b])[0]["cosine"] == pytest.approx(scorer.score([b], [a])[0]["cosine"], abs=1e-6)
    assert scorer.score([a], [a])[0]["cosine"] == pytest.approx(1.0, abs=1e-5)


def test_empty_scores_zero(scorer):
    assert scorer.score(["a red circle", "", " "], ["", "a red circle", "x"]) == [{"cosine": 0.0}] * 3


def test_functional_twin_and_signature(scorer, pairs):
    prompts, captions = [p for p, _ in pairs[:4]], [c for _, c in pairs[:4]]
    twin = embedding_cosine(prompts, captions, device="cpu")
    assert twin == pytest.approx([r["cosine"] for r in scorer.score(prompts, captions)], abs=1e-6)
    sig = scorer.signature()
    assert sig.startswith("cosine:model=all-MiniLM-L6-v2@local-sha256:")
    assert "sentence_transformers=" in sig
    assert scorer.columns() == {"cosine": "cosine"}


def test_bad_params():
    with pytest.raises(PuncError, match="unknown parameter"):
        build_scorer("cosine", layer=3)
    with pytest.raises(PuncError, match="batch_size"):
        build_scorer("cosine", batch_size=0)
