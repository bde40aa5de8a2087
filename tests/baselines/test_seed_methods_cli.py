"""The three seed-paper baselines through the product: a task's `baselines:` in `punc eval`, then
`punc detect` reports each (and the ensemble's caption-entropy split) with its cost beside PUNC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from baseline_helpers import structured_image
from tiny_judges import build_tiny_captioner
from tiny_pipelines import build_tiny_sd_pipeline

PUNC = str(Path(sys.executable).parent / "punc")
SHIFTS = {"a": "none", "b": "none", "c": "none", "d": "ood", "e": "ood", "f": "vague"}


def punc(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200", **env}
    return subprocess.run(
        [PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=full, check=False
    )


def test_eval_and_detect_report_the_three_methods(tmp_path):
    build_tiny_sd_pipeline(tmp_path / "gen", seed=0)
    build_tiny_sd_pipeline(tmp_path / "member1", seed=1)
    build_tiny_captioner(tmp_path / "cap")
    (tmp_path / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    (tmp_path / "fit").mkdir()
    for i in range(4):
        structured_image(i, 32).save(tmp_path / "fit" / f"{i}.png")
    rows = [{"id": pid, "text": f"a red circle {pid}", "labels": {"shift": s}} for pid, s in SHIFTS.items()]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "t.yaml").write_text(
        "name: seeds\nprompts: p.jsonl\nimages_per_prompt: 2\nsteps: 2\nwidth: 32\nheight: 32\n"
        "scorers: [rouge1]\nbootstrap_samples: 20\ngenerator: gen\njudge: j.yaml\nbaselines:\n"
        "  - {name: diffusion_classifier, params: {pairs: 2}}\n"
        "  - {name: generative_uncertainty, params: {samples: 2, noises: 1, steps: 2, fit_data: fit, fit_images: 4}}\n"
        "  - {name: generator_ensemble, params: {members: [gen, member1], images: 2, steps: 2}}\n"
    )
    env = {"PUNC_CACHE_DIR": str(tmp_path / "cache")}
    done = punc("eval", "t.yaml", "-o", "run", "-q", "--threads", "1", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    lines = [json.loads(x) for x in (tmp_path / "run" / "baselines.jsonl").read_text().splitlines()]
    assert {r["baseline"] for r in lines} == {
        "diffusion_classifier",
        "generative_uncertainty",
        "generator_ensemble",
    }
    assert len(lines) == 3 * len(SHIFTS)
    laplace = [r for r in lines if r["baseline"] == "generative_uncertainty"]
    assert all(r["info"]["laplace_fit_images"] == 4 and r["info"]["laplace_fit_seconds"] > 0 for r in laplace)
    assert len(list((tmp_path / "cache" / "laplace").iterdir())) == 1
    detect = punc("detect", "run", "--bootstrap", "20", cwd=tmp_path, env=env)
    assert detect.returncode == 0, detect.stderr + detect.stdout
    data = json.loads((tmp_path / "run" / "detection.json").read_text())
    rows = {(c["shift"], c["score"]): c for c in data["comparisons"]}
    for score in (
        "diffusion_classifier",
        "generative_uncertainty",
        "generator_ensemble",
        "generator_ensemble: caption entropy shared",
        "generator_ensemble: caption MI (disagreement)",
        "U_epi (rouge1)",
    ):
        row = rows[("ood", score)]
        assert 0.0 <= row["auroc"] <= 1.0 and row["n_pos"] == 2 and row["n_neg"] == 3
        assert row["cost"]["seconds_per_prompt"] > 0
    assert rows[("ood", "diffusion_classifier")]["cost"]["network_passes_per_prompt"] == 2 * 2 + 1
    md = (tmp_path / "run" / "detection.md").read_text()
    assert "| ood | generator_ensemble: caption MI (disagreement) |" in md
