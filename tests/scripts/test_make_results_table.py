"""scripts/make_results_table.py: the split of the disentanglement AUROC by kind of vague prompt and the
phrasing table (on hand-made runs whose AUROCs are counted by hand), the derived task's baseline settings
and the winners paragraph."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import yaml

from harness.locate import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "tests" / "comparison"))
from run_builder import write_run  # noqa: E402


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_results_table", PROJECT_ROOT / "scripts/make_results_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vague_forms_counts_pairs_by_hand(tmp_path: Path) -> None:
    # U_ale - U_epi: ood gaps 0.0 and 0.2; colour-open gaps 0.3, 0.1; shape-open gaps 0.2, -0.1
    values = {
        "o1": (0.3, 0.3, 0.3),
        "o2": (0.4, 0.2, 0.3),
        "c1": (0.5, 0.2, 0.3),
        "c2": (0.3, 0.2, 0.3),
        "s1": (0.4, 0.2, 0.3),
        "s2": (0.1, 0.2, 0.3),
        "i1": (0.0, 0.0, 0.0),
    }
    labels = {
        "o1": {"shift": "ood"},
        "o2": {"shift": "ood"},
        "c1": {"shift": "vague", "open": ["colour"], "shape_word": True},
        "c2": {"shift": "vague", "open": ["colour"], "shape_word": True},
        "s1": {"shift": "vague", "open": ["shape"]},
        "s2": {"shift": "vague", "open": ["shape"]},
        "i1": {"shift": "none"},
    }
    run = write_run(tmp_path, "gen", values, labels)
    text = load_script().vague_forms({"generator": run, "world-random": tmp_path / "absent"})
    rows = {
        line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| 2 words")
    }
    # colour-open: pairs (0.3 > 0.0, 0.3 > 0.2, 0.1 > 0.0, 0.1 < 0.2) -> 3 of 4
    assert rows["2 words, open colour, named shape + 'shape'"].endswith("| 2 | 0.750 |")
    # shape-open: (0.2 > 0.0, 0.2 = 0.2 counts half, -0.1 < both) -> 1.5 of 4
    assert rows["2 words, open shape"].endswith("| 2 | 0.375 |")
    assert "world-random" not in text  # a control without a run is left out
    assert load_script().vague_forms({"generator": tmp_path / "absent"}) == ""


def test_phrasing_table_by_hand(tmp_path: Path) -> None:
    values = {
        "i1": (0.0, 0.0, 0.0),
        "i2": (0.3, 0.3, 0.3),  # a rewritten id prompt, as uncertain as one rewritten vague prompt
        "v1": (0.2, 0.1, 0.1),
        "v2": (0.3, 0.1, 0.2),
        "v3": (0.5, 0.1, 0.3),
        "o1": (0.2, 0.4, 0.3),
    }
    labels = {
        "i1": {"shift": "none", "phrasing": "template"},
        "i2": {"shift": "none", "phrasing": "on_the"},
        "v1": {"shift": "vague", "phrasing": "template"},
        "v2": {"shift": "vague", "phrasing": "adjectives_after"},
        "v3": {"shift": "vague", "phrasing": "position_swapped"},
        "o1": {"shift": "ood", "phrasing": "template"},
    }
    text = load_script().phrasing_table(write_run(tmp_path, "gen", values, labels))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["none"] == "| none | 1, 0.000 / 0.000 | 1, 0.300 / 0.300 | – | – |"
    # rewritten vague U_ale 0.3 and 0.5 against rewritten id 0.3: (tie 0.5 + 1) / 2 = 0.75
    assert rows["vague"] == "| vague | 1, 0.200 / 0.100 | 2, 0.400 / 0.100 | 1.000 (U_ale) | 0.750 (U_ale) |"
    assert rows["ood"].endswith("| 1.000 (U_epi) | – |")  # no rewritten ood prompt
    plain = {pid: {"shift": lab["shift"]} for pid, lab in labels.items()}
    assert load_script().phrasing_table(write_run(tmp_path, "plain", values, plain)) == ""


def test_derived_task_passes_the_sampler_settings_to_the_new_baselines(tmp_path):
    script = load_script()
    path = script.derived_task(PROJECT_ROOT / "tasks" / "world_default.yaml", tmp_path)
    data = yaml.safe_load(path.read_text())
    task = yaml.safe_load((PROJECT_ROOT / "tasks" / "world_default.yaml").read_text())
    by = {b["name"]: b.get("params", {}) for b in data["baselines"]}
    assert {"generative_uncertainty", "generator_ensemble", "diffusion_classifier"} <= set(by)
    for name in ("generative_uncertainty", "generator_ensemble"):
        assert by[name]["steps"] == task["steps"] and by[name]["guidance"] == task["guidance"]
    assert "guidance" not in by["diffusion_classifier"]  # it compares conditionings, no guidance


def test_winners_and_fit_note(tmp_path):
    script = load_script()

    def row(score, auroc, secs):
        return {"shift": "ood", "score": score, "auroc": auroc, "cost": {"seconds_per_prompt": secs}}

    comps = [
        row("U_epi (bertscore)", 0.99, 0.5),
        row("diffusion_classifier", 0.8, 0.25),
        row("seed_ensemble", 0.7, 0.1),
        row("generator_ensemble: caption entropy total", 0.9, 5.0),
    ]
    lines = script.winners(comps, ["ood"], {"seconds_per_prompt": 0.5})
    assert lines[2] == (
        "- **ood**: best U_epi (bertscore) (AUROC 0.990); best image-space method diffusion_classifier "
        "(AUROC 0.800, 0.5× PUNC's seconds per prompt); best with judge captions of its own images "
        "generator_ensemble: caption entropy total (AUROC 0.900, 10.0× PUNC's seconds per prompt)."
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
