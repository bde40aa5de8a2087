"""BERTScore: parity with the bert-score package on the same local model and layer."""

from __future__ import annotations

import math

import pytest
from scorer_parity import assert_parity, bertscore_reference, max_abs_diff

from harness.errors import PuncError
from harness.scorers import BERTScoreScorer, bertscore_prf, build_scorer

TOL = 1e-5


@pytest.fixture(scope="module")
def scorers():
    return {}


def get(scorers, **params) -> BERTScoreScorer:
    """One loaded scorer per parameter set for the whole module."""
    key = tuple(sorted(params.items()))
    if key not in scorers:
        scorers[key] = BERTScoreScorer(device="cpu", **params)
    return scorers[key]


@pytest.mark.parametrize("layer", [6, 3])
def test_matches_bert_score(scorers, pairs, model_path, layer):
    assert len(pairs) >= 20
    # bert-score's own batching (64) and, once, one pair at a time (no padding at all)
    for batch_size in (64, 1) if layer == 6 else (64,):
        reference = bertscore_reference(model_path, layer, batch_size=batch_size)
        assert_parity(get(scorers, layer=layer), reference, pairs, TOL)


def test_matches_bert_score_with_idf(scorers, pairs, model_path):
    assert_parity(get(scorers, layer=6, idf=True), bertscore_reference(model_path, 6, idf=True), pairs, TOL)


def test_layer_zero_matches_unpadded_bert_score(scorers, pairs, model_path):
    # At layer 0 (static embeddings) a caption token can have only negative similarities. bert-score
    # then lets a padded position of its batch contribute 0 to the max, so its number depends on the
    # other texts of the batch; punc takes the max over real tokens only, which is what bert-score
    # itself returns when there is no padding (batch_size=1).
    assert_parity(get(scorers, layer=0), bertscore_reference(model_path, 0, batch_size=1), pairs, TOL)


def test_empty_caption_scores_zero(scorers):
    rows = get(scorers, layer=6).score(
        ["a red circle", "a red circle", "", "a red circle"], ["", "  \n", "x", "a"]
    )
    for row in rows[:3]:
        assert row == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert rows[3]["precision"] > 0


def test_identical_texts_score_one(scorers):
    row = get(scorers, layer=6).score(["a green triangle"], ["a green triangle"])[0]
    assert all(v == pytest.approx(1.0, abs=1e-5) for v in row.values())


def test_scores_do_not_depend_on_the_batch(scorers, pairs):
    scorer = get(scorers, layer=6)
    prompts, captions = [p for p, _ in pairs], [c for _, c in pairs]
    together = scorer.score(prompts, captions)
    for i in (0, 8, 23):
        alone = scorer.score([prompts[i]], [captions[i]])
        assert max_abs_diff(alone, [together[i]]) <= 1e-6


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
def test_rescale_with_user_baseline(scorers, pairs, model_path, tmp_path):
    baseline = tmp_path / "minilm.tsv"
    rows = ["LAYER,P,R,F"] + [
        f"{k},{0.30 + k / 100:.4f},{0.32 + k / 100:.4f},{0.31 + k / 100:.4f}" for k in range(7)
    ]
    baseline.write_text("\n".join(rows) + "\n")
    prompts, captions = [p for p, _ in pairs], [c for _, c in pairs]
    scorer = BERTScoreScorer(layer=6, baseline=str(baseline), device="cpu")
    assert_parity(scorer, bertscore_reference(model_path, 6, baseline=baseline), pairs, TOL)
    ours = scorer.score(prompts[:1], captions[:1])
    raw = get(scorers, layer=6).score(prompts[:1], captions[:1])[0]
    assert ours[0]["precision"] == pytest.approx((raw["precision"] - 0.36) / (1 - 0.36), abs=1e-6)
    assert "rescale=minilm.tsv@sha256:" in scorer.signature()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("LAYER,P,R,F\n0,0.1,0.1,0.1\n", "a row for layer 6"),
        ("L,P,R,F\n6,0.1,0.1,0.1\n", "LAYER,P,R,F"),
        ("LAYER,P,R,F\n6,0.1,oops,0.1\n", ":2"),
    ],
)
def test_bad_baseline_files(tmp_path, content, message):
    path = tmp_path / "b.csv"
    path.write_text(content)
    with pytest.raises(PuncError, match=message):
        BERTScoreScorer(layer=6, baseline=str(path))
    with pytest.raises(PuncError, match="baseline"):
        BERTScoreScorer(layer=6, baseline=str(tmp_path / "missing.csv"))


def test_signature(scorers):
    sig = get(scorers, layer=6).signature()
    assert sig.startswith("bertscore:model=all-MiniLM-L6-v2@local-sha256:")
    for part in (
        ":layer=6:",
        ":idf=False:",
        ":rescale=None:",
        ":compat=bert_score-0.3.13:",
        ":transformers=",
    ):
        assert part in sig
    assert BERTScoreScorer().layer == 6  # default backbone, default layer


def test_params_and_errors(model_path):
    assert build_scorer("bertscore", layer="4", idf="false").layer == 4
    with pytest.raises(PuncError, match="layer"):
        build_scorer("bertscore", layer="four")
    with pytest.raises(PuncError, match="layer 7 does not exist"):
        BERTScoreScorer(layer=7).signature()
    with pytest.raises(PuncError, match="does not exist"):
        BERTScoreScorer(model="/no/such/model")
    # a local path to the same folder works like the default alias
    assert BERTScoreScorer(model=str(model_path), layer=6).model_label == "model"


def test_functional_twin(scorers, pairs):
    prompts, captions = [p for p, _ in pairs[:5]], [c for _, c in pairs[:5]]
    twin = bertscore_prf(prompts, captions, layer=6, device="cpu")
    assert max_abs_diff(twin, get(scorers, layer=6).score(prompts, captions)) <= 1e-6
    assert all(math.isfinite(v) for row in twin for v in row.values())
