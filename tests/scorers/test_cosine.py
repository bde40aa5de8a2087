"""Embedding cosine: checked against an independent transformers mean-pooling computation."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import PuncError
from harness.scorers import CosineScorer, build_scorer, embedding_cosine


@pytest.fixture(scope="module")
def scorer() -> CosineScorer:
    return CosineScorer(device="cpu")


@pytest.fixture(scope="module")
def manual_embeddings(pairs, model_path):
    """Mean pooling over the attention mask (the model's 1_Pooling config), then L2 norm."""
    import json

    import torch
    from transformers import AutoModel, AutoTokenizer

    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    max_len = json.loads((model_path / "sentence_bert_config.json").read_text())["max_seq_length"]
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    texts = sorted({t for pair in pairs for t in pair if t.strip()})
    with torch.inference_mode():
        enc = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        hidden = model(**enc).last_hidden_state.numpy().astype(np.float64)
    mask = enc["attention_mask"].numpy()[..., None].astype(np.float64)
    emb = (hidden * mask).sum(1) / mask.sum(1)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return dict(zip(texts, emb, strict=True))


def test_matches_manual_mean_pooling(scorer, pairs, manual_embeddings):
    rows = scorer.score([p for p, _ in pairs], [c for _, c in pairs])
    diffs = []
    for (prompt, caption), row in zip(pairs, rows, strict=True):
        assert set(row) == {"cosine"}
        if prompt.strip() and caption.strip():
            want = float(np.dot(manual_embeddings[prompt], manual_embeddings[caption]))
        else:
            want = 0.0
        diffs.append(abs(row["cosine"] - want))
    assert max(diffs) <= 1e-5


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
