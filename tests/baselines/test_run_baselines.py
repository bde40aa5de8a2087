import json

import pytest
from baseline_helpers import perturbed, structured_image

from harness.baselines import BASELINES_FILE, build_baseline, run_baselines
from harness.config.prompts import PromptRecord
from harness.config.task import ScorerSpec
from harness.errors import PuncError
from harness.run.store import RunStore


def _store(tmp_path):
    store = RunStore(tmp_path / "run")
    prompts = [PromptRecord(id=f"p{i}", text=f"a red circle {i}") for i in range(3)]
    images = {}
    for i, p in enumerate(prompts):
        base = structured_image(i)
        for k in range(3):
            image = base if i == 0 else perturbed(base, 0.1 * i, k)
            images[(p.id, k)] = store.store_image(image, p.id, k, k, {"steps": 2})
    store.append_images(list(images.values()))
    return store, prompts, images


def test_run_baselines_writes_lines_and_resumes(tmp_path, tiny_pipe_dir, encoder_dir):
    store, prompts, images = _store(tmp_path)
    enc = {"encoder": str(encoder_dir)}
    specs = [
        ScorerSpec(name="seed_ensemble", params=enc),
        ScorerSpec(name="seed_ensemble_ssim"),
        ScorerSpec(name="feature_entropy", params=enc),
        ScorerSpec(name="recon_quick", params={"kind": "reconstruction", "levels": [0.5], "steps": 1, **enc}),
        ScorerSpec(name="inpainting", params={"masks": ["checker"], "steps": 1, "feature": False}),
    ]
    summary = run_baselines(store, prompts, images, specs, str(tiny_pipe_dir), "cpu", progress=False)
    lines = [json.loads(x) for x in (store.root / BASELINES_FILE).read_text().splitlines()]
    assert len(lines) == 15
    assert {"prompt_id", "baseline", "signature", "u", "cost"} <= set(lines[0])
    assert set(summary) == {
        "seed_ensemble",
        "seed_ensemble_ssim",
        "feature_entropy",
        "recon_quick",
        "inpainting",
    }
    assert summary["recon_quick"]["cost"]["network_passes_per_prompt"] == 1 + 1 + 1 + 1
    assert summary["seed_ensemble"]["cost"]["network_passes_per_prompt"] == 3
    se = {r["prompt_id"]: r["u"] for r in lines if r["baseline"] == "seed_ensemble"}
    assert se["p0"] == pytest.approx(0.0, abs=1e-9) and se["p0"] < se["p1"] < se["p2"]
    again = run_baselines(store, prompts, images, specs, str(tiny_pipe_dir), "cpu", progress=False)
    assert len((store.root / BASELINES_FILE).read_text().splitlines()) == 15
    assert again["seed_ensemble"]["signature"] == summary["seed_ensemble"]["signature"]


def test_unknown_baseline_and_params_are_user_errors():
    with pytest.raises(PuncError, match="unknown baseline"):
        build_baseline("nope")
    with pytest.raises(PuncError, match="unknown params"):
        build_baseline("seed_ensemble_ssim", {"bogus": 1})
