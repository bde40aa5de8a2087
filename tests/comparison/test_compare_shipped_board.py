"""`punc compare` on the shipped board's two models, checked against numbers recomputed here from the
bundles' raw per-caption scores and an independent sign-flip test written with numpy."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from run_builder import punc

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = sorted(
    p for p in (ROOT / "leaderboards" / "embedded" / "runs").iterdir() if (p / "results.json").is_file()
)


def per_prompt_u_tot(bundle: Path, scorer: str) -> dict[str, float]:
    """1 - F1 per image (samples averaged), averaged over the prompt's images, from scores.jsonl."""
    cells: dict[tuple[str, int], list[float]] = defaultdict(list)
    for line in (bundle / "scores.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["scorer"] == scorer:
            cells[(rec["prompt_id"], rec["index"])].append(rec["values"]["f1"])
    per_prompt: dict[str, list[float]] = defaultdict(list)
    for (pid, _), values in cells.items():
        per_prompt[pid].append(1.0 - float(np.mean(values)))
    return {pid: float(np.mean(v)) for pid, v in per_prompt.items()}


@pytest.mark.skipif(len(BUNDLES) < 2, reason="the shipped board holds fewer than two runs")
def test_compare_the_shipped_board(tmp_path: Path) -> None:
    a, b = BUNDLES[:2]
    out = tmp_path / "cmp.json"
    done = punc("compare", str(a), str(b), "--by", "shift", "--resamples", "2000", "--json", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    scorer = data["scorer"]
    rows = {(r["group"], r["metric"]): r for r in data["rows"]}
    ua, ub = per_prompt_u_tot(a, scorer), per_prompt_u_tot(b, scorer)
    shared = sorted(set(ua) & set(ub))
    d = np.array([ua[p] - ub[p] for p in shared])
    overall = rows[("overall", "u_tot")]
    assert overall["n"] == len(shared)
    assert overall["mean_a"] == pytest.approx(np.mean([ua[p] for p in shared]), abs=1e-6)
    assert overall["mean_b"] == pytest.approx(np.mean([ub[p] for p in shared]), abs=1e-6)
    assert overall["diff"] == pytest.approx(d.mean(), abs=1e-6)
    assert overall["low"] < overall["diff"] < overall["high"]
    # the interval's half-width is about 1.96 standard errors of the mean difference
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert (overall["high"] - overall["low"]) / 2 == pytest.approx(1.96 * se, rel=0.15)
    # independent sign-flip test with numpy (the observed statistic counted, as a sampled test must)
    rng = np.random.default_rng(123)
    flips = rng.choice((-1.0, 1.0), size=(4000, d.size)) @ d / d.size
    p_ref = (np.sum(np.abs(flips) >= abs(d.mean()) - 1e-12) + 1) / (4000 + 1)
    assert abs(overall["p_value"] - p_ref) < 0.01 + 0.2 * p_ref
    results = json.loads((a / "results.json").read_text())
    shifts = {
        str(p["labels"]["shift"]) for p in results["per_prompt"] if p["labels"].get("shift") is not None
    }
    assert {g for g, _ in rows} == {"overall", *(f"shift={s}" for s in shifts)}
    assert len(data["rows"]) == 3 * (1 + len(shifts))
    assert all(r["p_adjusted"] >= r["p_value"] for r in data["rows"])
