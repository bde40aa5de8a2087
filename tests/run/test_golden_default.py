"""The default task's results do not move: a frozen slice of world_default (3 prompts of each shift,
its prompt files copied into tests/data/golden_default) is evaluated by the installed `punc` and
compared with the results committed when the slice was made (before the run-directory refactor).

Captions must match exactly and scores within float32 noise across CPUs (tests/golden_runs.py); only run-specific fields (time, paths, durations, versions)
are left out (tests/golden_runs.py). Regenerate only for an intended change of results:
    .venv/bin/punc eval tests/data/golden_default/task.yaml --out /tmp/golden -q --threads 1 --device cpu
and copy results.json, captions.jsonl and scores.jsonl into tests/data/golden_default/expected/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from golden_runs import FLOAT32_NOISE, compare_runs

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden_default"
PUNC = Path(sys.executable).with_name("punc")


def test_golden_slice_of_the_default_task_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run(
        [
            str(PUNC),
            "eval",
            str(GOLDEN / "task.yaml"),
            "--out",
            str(out),
            "-q",
            "--threads",
            "1",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    problems = compare_runs(out, GOLDEN / "expected", tolerance=FLOAT32_NOISE)
    assert not problems, "\n".join(problems[:40])
