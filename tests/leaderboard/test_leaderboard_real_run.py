"""Publish a real run made by `punc eval --limit 3` on the default task, then build its board."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.leaderboard.build import build_board
from harness.leaderboard.publish import publish_run, verified_png
from harness.run.schema import Results

REPO = Path(__file__).resolve().parents[2]
EMBEDDED = REPO / "models" / "embedded"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (EMBEDDED.is_dir() and any(EMBEDDED.iterdir())):
        pytest.skip(f"the embedded world models are not in {EMBEDDED} yet (needed by the default task)")
    out = tmp_path_factory.mktemp("real") / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "eval", "--limit", "3", "-o", str(out), "-q", "--device", "cpu"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, f"punc eval failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out


def test_publish_real_run(real_run: Path, tmp_path: Path) -> None:
    results = Results.model_validate_json((real_run / "results.json").read_text())
    boards = tmp_path / "leaderboards"
    result = publish_run(real_run, "real", boards, new_board=True, allow_partial=not results.complete)
    board = json.loads((boards / "real" / "board.json").read_text())
    assert board["task_hash"] == results.task.hash
    assert board["judge_fingerprint"] == results.judge.fingerprint
    assert board["scorers"] == dict(sorted(results.scorers.items()))
    images = sorted((result.bundle_dir / "images").glob("*.png"))
    assert images and all(verified_png(p) for p in images)
    index = json.loads((boards / "real" / "index.json").read_text())
    (model,) = index["models"]
    assert model["prompts"] == len(results.per_prompt) and model["images"] > 0
    primary = results.primary_scorer
    assert model["u_tot"]["mean"] == pytest.approx(results.overall.metrics[primary]["u_tot"].mean)
    readme = (boards / "real" / "README.md").read_text()
    assert f"| {results.overall.metrics[primary]['u_tot'].mean:.3f} [" in readme
    build_board("real", boards)  # rebuilding is repeatable
    assert (boards / "real" / "index.html").stat().st_size > 5_000
