"""Small run directories in the layout `punc eval` writes, with per-prompt uncertainties chosen by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.run.schema import Results

TASK_HASH = "task-hash-compare"
JUDGE_FP = "judge-fp-compare"
SCORERS = {"rougeL": "rougeL:stemmer=porter:rouge_score=0.1.2"}
PUNC = Path(sys.executable).parent / "punc"


def punc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `punc` executable, as a user runs it."""
    return subprocess.run([str(PUNC), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def _iv(mean: float, n: int) -> dict[str, float]:
    return {"mean": mean, "low": mean, "high": mean, "n": n}


def write_run(
    root: Path,
    name: str,
    values: dict[str, tuple[float, float, float]],
    labels: dict[str, dict[str, Any]],
    *,
    seeds: dict[str, list[int]] | None = None,
    task_hash: str = TASK_HASH,
    judge_fp: str = JUDGE_FP,
    scorers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A run whose prompt `pid` has U_ale, U_epi, U_tot = values[pid] under scorer rougeL."""
    run = root / name
    run.mkdir(parents=True)
    per_prompt, images = [], []
    for pid, (ale, epi, tot) in values.items():
        u = {"u_ale": ale, "u_epi": epi, "u_tot": tot}
        per_prompt.append(
            {
                "prompt_id": pid,
                "text": f"prompt {pid}",
                "labels": labels[pid],
                "n_images": 2,
                "n_captions": 2,
                "metrics": {
                    "rougeL": {
                        "precision": {"mean": 1 - ale, "std": 0.0, "n": 2},
                        "recall": {"mean": 1 - epi, "std": 0.0, "n": 2},
                        "f1": {"mean": 1 - tot, "std": 0.0, "n": 2},
                    }
                },
                "uncertainty": {"rougeL": {k: {"mean": v, "std": 0.0, "n": 2} for k, v in u.items()}},
            }
        )
        for index, seed in enumerate((seeds or {}).get(pid, [100, 101])):
            images.append({"prompt_id": pid, "index": index, "seed": seed, "image_hash": f"{pid}-{index}"})
    n = len(values)
    overall = {
        "n_prompts": n,
        "metrics": {
            "rougeL": {
                k: _iv(sum(v[i] for v in values.values()) / n, n)
                for i, k in enumerate(("u_ale", "u_epi", "u_tot"))
            }
        },
    }
    results = {
        "schema_version": 1,
        "harness_version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "model_name": name,
        "complete": True,
        "task": {"name": "compare-task", "version": "1", "hash": task_hash},
        "prompts": {"files": [], "hash": "h", "count": n},
        "generator": {"name": name},
        "generation_recipe": {},
        "judge": {"name": "judge", "fingerprint": judge_fp, "backend": "fake"},
        "scorers": dict(SCORERS if scorers is None else scorers),
        "primary_scorer": "rougeL",
        "image_policy": {},
        "counts": {"prompts": n},
        "overall": overall,
        "by_shift": {},
        "by_category": {},
        "per_prompt": per_prompt,
        "failures": [],
        "versions": {},
        "git_commit": None,
        "timings": {},
        "bootstrap": {},
        **(extra or {}),
    }
    Results.model_validate(results)
    (run / "results.json").write_text(json.dumps(results, indent=1))
    (run / "images.jsonl").write_text("".join(json.dumps(r) + "\n" for r in images))
    return run
