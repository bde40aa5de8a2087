"""scripts/make_results_table.py: the derived task's baseline settings and the winners paragraph."""

from __future__ import annotations

import importlib.util
import json

import yaml

from harness.locate import PROJECT_ROOT


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_results_table", PROJECT_ROOT / "scripts" / "make_results_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derived_task_passes_the_sampler_settings_to_the_new_baselines(tmp_path):
    script = _script()
    path = script.derived_task(PROJECT_ROOT / "tasks" / "world_default.yaml", tmp_path)
    data = yaml.safe_load(path.read_text())
    task = yaml.safe_load((PROJECT_ROOT / "tasks" / "world_default.yaml").read_text())
    by = {b["name"]: b.get("params", {}) for b in data["baselines"]}
    assert {"generative_uncertainty", "generator_ensemble", "diffusion_classifier"} <= set(by)
    for name in ("generative_uncertainty", "generator_ensemble"):
        assert by[name]["steps"] == task["steps"] and by[name]["guidance"] == task["guidance"]
    assert "guidance" not in by["diffusion_classifier"]  # it compares conditionings, no guidance


def test_winners_and_fit_note(tmp_path):
    script = _script()

    def row(score, auroc, secs):
        return {"shift": "ood", "score": score, "auroc": auroc, "cost": {"seconds_per_prompt": secs}}

    comps = [
        row("U_epi (bertscore)", 0.99, 0.5),
        row("diffusion_classifier", 0.8, 0.25),
        row("seed_ensemble", 0.7, 0.1),
    ]
    lines = script.winners(comps, ["ood"], {"seconds_per_prompt": 0.5})
    assert lines[2] == (
        "- **ood**: best U_epi (bertscore) (AUROC 0.990); best image-space method diffusion_classifier "
        "(AUROC 0.800, 0.5× PUNC's seconds per prompt)."
    )
    info = {
        "laplace_fit_seconds": 12.34,
        "laplace_fit_images": 512,
        "laplace_prior_precision": 250.0,
        "laplace_sigma2": 0.07,
    }
    (tmp_path / "baselines.jsonl").write_text(
        json.dumps({"baseline": "generative_uncertainty", "info": {**info, "laplace_from_cache": True}})
        + "\n"
        + json.dumps({"baseline": "generative_uncertainty", "info": {**info, "laplace_from_cache": False}})
        + "\n"
    )
    note = script.laplace_fit_note(tmp_path)[0]
    assert "12.3 s on 512 images" in note and "prior precision 250" in note
