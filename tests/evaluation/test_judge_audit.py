"""`punc audit-judge`: scoring by hand, and the world's captioner audited through the judge backend
against scripts/audit_world.py's own measurement (the reference) on the same scenes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.evaluation.judge_audit import audit_scenes, score_captions
from harness.world.captions import caption

ROOT = Path(__file__).resolve().parents[2]
PUNC = Path(sys.executable).parent / "punc"

SCENES = [
    {
        "objects": [{"shape": "circle", "colour": "red", "size": "small", "position": "center"}],
        "background": "plain",
    },
    {
        "objects": [
            {"shape": "star", "colour": "blue", "size": "large", "position": "top left"},
            {"shape": "ring", "colour": "green", "size": "small", "position": "bottom right"},
        ],
        "background": "striped",
    },
]


def test_perfect_captions_score_one() -> None:
    truths = [caption(s) for s in SCENES]
    report = score_captions(SCENES, truths, truths)
    assert all(v == 1.0 for v in report["accuracy"].values())
    assert report["mentions"] == {"shape": 1.0, "colour": 1.0, "size": 1.0}
    assert report["hallucination_rate"] == 0.0 and report["failed"] == 0


def test_wrong_and_missing_captions_by_hand() -> None:
    truths = [caption(s) for s in SCENES]
    # scene 1: colour wrong (a yellow circle instead of red); scene 2: the judge failed (no caption)
    report = score_captions(SCENES, truths, ["a small yellow circle at the center", None])
    acc = report["accuracy"]
    # 3 objects in all: scene 1's object has shape, size, position right and colour wrong; scene 2's two count as wrong
    assert acc["shape"] == pytest.approx(1 / 3) and acc["colour"] == 0.0
    assert acc["size"] == pytest.approx(1 / 3) and acc["position"] == pytest.approx(1 / 3)
    assert acc["background"] == 0.5 and acc["n_objects"] == 0.5 and acc["exact_caption"] == 0.0
    assert report["mentions"]["colour"] == 0.0 and report["mentions"]["shape"] == pytest.approx(1 / 3)
    assert report["hallucination_rate"] == 0.5  # "yellow" is not in scene 1
    assert report["failed"] == 1


def test_free_text_caption_is_credited_by_mentions() -> None:
    truths = [caption(s) for s in SCENES[:1]]
    report = score_captions(SCENES[:1], truths, ["The picture shows one small, red circle in the middle."])
    assert report["mentions"] == {"shape": 1.0, "colour": 1.0, "size": 1.0}
    assert report["accuracy"]["colour"] == 1.0 and report["accuracy"]["position"] == 1.0  # 'middle' -> center


def _audit_world_script():
    spec = importlib.util.spec_from_file_location("audit_world", ROOT / "scripts/audit_world.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_world_judge_matches_the_audit_script(tmp_path: Path) -> None:
    n = 64
    out = tmp_path / "audit.json"
    done = subprocess.run(
        [str(PUNC), "audit-judge", "--n", str(n), "--device", "cpu", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["n_images"] == n and report["failed"] == 0 and report["judge"]["name"] == "world-captioner"
    script = _audit_world_script()
    expected, _ = script.judge_accuracy(script.load_judge(script.JUDGE), n=n, seed=777)
    assert report["accuracy"] == pytest.approx(expected)
    assert "| accuracy: colour |" in done.stdout
    scenes, _, truths = audit_scenes(3)
    assert truths == [caption(s) for s in scenes]


def test_show_prompt_judge_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "peeking.yaml"
    path.write_text(
        "name: peeking\nbackend: transformers\nmodel: ../models/embedded/judge\nshow_prompt: true\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(PUNC), "audit-judge", str(path), "--n", "4"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "show_prompt: true" in done.stderr and "Traceback" not in done.stderr
