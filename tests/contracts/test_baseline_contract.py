"""The baseline contract, checked for every baseline in the registry.

A baseline scores each prompt on its own: the same prompt gets the same u whatever was scored before
it. Inside the baselines stage, one prompt it cannot score (here: a prompt left with one image, as
when the others failed to generate) is recorded as a failure while the other prompts get their
values, and the stage does not raise. Two baselines built from the same parameters have the same
signature; close() twice is safe.

Encoders are the tiny captioner's ViT (the shape of the embedded judge); the pipeline baselines run
a tiny random Stable Diffusion pipeline, one step at one level.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from harness.baselines import build_baseline, run_baselines
from harness.baselines.base import Resources
from harness.config.prompts import PromptRecord
from harness.config.task import ScorerSpec
from harness.registry import BASELINES
from harness.run.store import RunStore

BUILT_IN = [name for name in BASELINES.names() if BASELINES.is_builtin(name)]


def params_for(name: str, encoder: str, fit_folder: str, members: list[str]) -> dict[str, object]:
    return {
        "seed_ensemble": {"encoder": encoder},
        "seed_ensemble_ssim": {},
        "feature_entropy": {"encoder": encoder},
        "reconstruction": {"levels": [0.5], "steps": 1, "encoder": encoder},
        "inpainting": {"masks": ["checker"], "steps": 1, "feature": False},
        "diffusion_classifier": {"pairs": 2},
        "generative_uncertainty": {
            "fit_data": fit_folder,
            "fit_images": 3,
            "samples": 2,
            "noises": 1,
            "steps": 1,
            "encoder": encoder,
        },
        # captions need the run's judge; the contract stage runs without one
        "generator_ensemble": {
            "members": members,
            "images": 1,
            "steps": 1,
            "captions": False,
            "encoder": encoder,
        },
    }[name]


def test_every_built_in_baseline_has_a_contract_case():
    assert sorted(BUILT_IN) == sorted(
        [
            "seed_ensemble",
            "seed_ensemble_ssim",
            "feature_entropy",
            "reconstruction",
            "inpainting",
            "diffusion_classifier",
            "generative_uncertainty",
            "generator_ensemble",
        ]
    )


def blocks(seed: int, size: int = 16) -> Image.Image:
    """A smooth random image (blocks of colour): different seeds, measurably different images."""
    rng = np.random.default_rng(seed)
    arr = np.kron(rng.uniform(0, 255, (4, 4, 3)), np.ones((size // 4, size // 4, 1)))
    return Image.fromarray(arr.astype(np.uint8))


PROMPTS = {"p0": "a red circle", "p1": "a blue square", "p2": "two green triangles"}
#: K = 3 images per prompt, except p1, which is left with one (a baseline over K >= 2 cannot score it)
IMAGES = {"p0": [blocks(0), blocks(1), blocks(2)], "p1": [blocks(3)], "p2": [blocks(4), blocks(4), blocks(5)]}


@pytest.fixture(scope="module")
def resources(sd_pipeline_dir):
    shared = Resources(str(sd_pipeline_dir), "cpu")
    yield shared
    shared.close()


@pytest.fixture(scope="module", params=BUILT_IN)
def name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def fit_folder(tmp_path_factory) -> str:
    """generative_uncertainty's Laplace fit set: three images without metadata.jsonl (empty prompts)."""
    folder = tmp_path_factory.mktemp("contract-fit")
    for seed in range(3):
        blocks(10 + seed).save(folder / f"{seed}.png")
    return str(folder)


@pytest.fixture(scope="module")
def members(sd_pipeline_dir, tmp_path_factory) -> list[str]:
    """Two generators that differ (another seed's random weights), so members disagree."""
    from tiny_pipelines import build_tiny_sd_pipeline

    other = build_tiny_sd_pipeline(tmp_path_factory.mktemp("contract-member") / "sd", sample_size=8, seed=1)
    return [str(sd_pipeline_dir), str(other)]


@pytest.fixture(scope="module")
def params(
    name, captioner_dir, fit_folder, members, tmp_path_factory, monkeypatch_module
) -> dict[str, object]:
    monkeypatch_module.setenv("PUNC_CACHE_DIR", str(tmp_path_factory.mktemp("contract-cache")))
    return params_for(name, str(captioner_dir), fit_folder, members)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_each_prompt_is_scored_on_its_own(name, params, resources):
    baseline = build_baseline(name, params, resources)
    baseline.prepare()
    order = ["p0", "p2"]
    forward = {pid: baseline.evaluate(PROMPTS[pid], IMAGES[pid]) for pid in order}
    backward = {pid: baseline.evaluate(PROMPTS[pid], IMAGES[pid]) for pid in order[::-1]}
    for pid in order:
        assert np.isfinite(forward[pid].u)
        assert forward[pid].u == pytest.approx(backward[pid].u, rel=1e-9, abs=1e-12), pid
        assert forward[pid].passes == backward[pid].passes
    assert forward["p0"].u != forward["p2"].u


def test_one_prompt_that_cannot_be_scored_fails_alone(name, params, sd_pipeline_dir, resources, tmp_path):
    store = RunStore(tmp_path / "run")
    prompts = [PromptRecord(id=pid, text=text) for pid, text in PROMPTS.items()]
    images = {}
    for pid, pictures in IMAGES.items():
        for k, picture in enumerate(pictures):
            images[(pid, k)] = store.store_image(picture, pid, k, k, {"steps": 1})
    store.append_images(list(images.values()))
    summary = run_baselines(
        store,
        prompts,
        images,
        [ScorerSpec(name=name, params=params)],
        str(sd_pipeline_dir),
        "cpu",
        progress=False,
    )
    lines = [json.loads(x) for x in (store.root / "baselines.jsonl").read_text().splitlines()]
    failures_file = store.root / "failures.jsonl"
    failures = (
        [json.loads(x) for x in failures_file.read_text().splitlines()] if failures_file.exists() else []
    )
    scored = {line["prompt_id"]: line["u"] for line in lines}
    failed = {f["prompt_id"] for f in failures if f["stage"] == "baselines"}
    assert {"p0", "p2"} <= set(scored) and not failed & {"p0", "p2"}
    assert ("p1" in scored) != ("p1" in failed), "the one-image prompt is either scored or recorded as failed"
    assert summary[name]["n_prompts"] == len(scored)
    # the values in the stage are what the baseline gives each prompt alone
    alone = build_baseline(name, params, resources)
    for pid in ("p0", "p2"):
        assert scored[pid] == pytest.approx(alone.evaluate(PROMPTS[pid], IMAGES[pid]).u, rel=1e-9, abs=1e-12)


def test_signature_is_stable_across_instances(name, params, resources, sd_pipeline_dir):
    fresh = Resources(str(sd_pipeline_dir), "cpu")  # nothing loaded: the signature needs no model
    first, second = build_baseline(name, params, resources), build_baseline(name, params, fresh)
    assert isinstance(first.signature(), str) and first.signature()
    assert first.signature() == second.signature()


def test_close_twice_is_safe(name, params, resources):
    baseline = build_baseline(name, params, resources)
    baseline.close()
    baseline.close()
    assert baseline.signature() == build_baseline(name, params, resources).signature()
