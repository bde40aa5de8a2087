"""ROUGE-1 / ROUGE-L: hand-computed values and exact equality with the rouge-score package."""

from __future__ import annotations

import pytest
from scorer_parity import assert_parity, rouge_reference

from harness.errors import PuncError
from harness.scorers import Rouge1Scorer, RougeLScorer, build_scorer, rouge_prf

# (prompt, caption, variant, precision, recall) worked out by hand with rouge-score's tokeniser:
# lowercase, non-alphanumerics -> spaces, Porter stem for tokens longer than 3 characters.
HAND = [
    # caption tokens a small red circl on the left (7), prompt a red circl (3): 3 shared unigrams
    ("a red circle", "a small red circle on the left", "rouge1", 3 / 7, 1.0),
    # LCS "a red circl" = 3
    ("a red circle", "a small red circle on the left", "rougeL", 3 / 7, 1.0),
    # same bag of words, different order: ROUGE-1 perfect; LCS e.g. "a red circle" = 3 of 7
    ("a blue square above a red circle", "a red circle above a blue square", "rouge1", 1.0, 1.0),
    ("a blue square above a red circle", "a red circle above a blue square", "rougeL", 3 / 7, 3 / 7),
    # stemming: circles -> circl = circle -> circl; shared "red", "circl" (2 of 3 each side)
    ("two red circles", "a red circle", "rouge1", 2 / 3, 2 / 3),
    # clipped counts: caption "circl" x4 vs prompt x1 -> 1 match
    ("circle", "circle circle circle circle", "rouge1", 1 / 4, 1.0),
    # punctuation and case are ignored
    ("a large yellow star", "A large, YELLOW star!", "rouge1", 1.0, 1.0),
    # empty caption
    ("a red circle", "", "rouge1", 0.0, 0.0),
    ("a red circle", "", "rougeL", 0.0, 0.0),
]


@pytest.mark.parametrize(("prompt", "caption", "variant", "precision", "recall"), HAND)
def test_hand_computed(prompt, caption, variant, precision, recall):
    got = rouge_prf(prompt, caption, variant)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert got == pytest.approx({"precision": precision, "recall": recall, "f1": f1}, abs=1e-12)
    scorer = Rouge1Scorer() if variant == "rouge1" else RougeLScorer()
    assert scorer.score([prompt], [caption]) == [got]


@pytest.mark.parametrize("variant", ["rouge1", "rougeL"])
@pytest.mark.parametrize("stemmer", [True, False])
def test_equals_rouge_score_package(pairs, variant, stemmer):
    assert_parity(build_scorer(variant, stemmer=stemmer), rouge_reference(variant, stemmer), pairs, tol=0.0)


def test_reference_is_prompt_candidate_is_caption():
    # precision is over the caption: a long caption containing the whole prompt has P < 1, R = 1
    row = build_scorer("rouge1").score(["a red circle"], ["a red circle on a blue background"])[0]
    assert row["recall"] == 1.0
    assert row["precision"] < 1.0


def test_stemmer_off():
    assert rouge_prf("two red circles", "a red circle", "rouge1", stemmer=False)["recall"] == pytest.approx(
        1 / 3
    )
    scorer = build_scorer("rouge1", stemmer="false")
    assert "stemmer=none" in scorer.signature()


def test_signature_and_metadata():
    scorer = build_scorer("rougeL")
    assert scorer.signature().startswith("rougeL:stemmer=porter:")
    assert "rouge_score=0.1.2" in scorer.signature()
    assert scorer.outputs == ("precision", "recall", "f1")
    assert scorer.columns() == {"precision": "rougeL_precision", "recall": "rougeL_recall", "f1": "rougeL_f1"}
    assert scorer.higher_is_better


def test_bad_inputs():
    with pytest.raises(PuncError):
        rouge_prf("a", "b", "rouge2")
    with pytest.raises(ValueError):
        Rouge1Scorer().score(["a", "b"], ["a"])
    with pytest.raises(TypeError):
        Rouge1Scorer().score("a", "b")
    assert Rouge1Scorer().score([], []) == []
