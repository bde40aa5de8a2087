"""The compatibility matrix: tiny models of every generator and judge architecture through `punc eval`.

Expectations are written by hand from each pipeline's documented behaviour (diffusers 0.42 sources), not
read back from the harness: which pipelines take a negative prompt, where classifier-free guidance lives.
"""

from __future__ import annotations

from pathlib import Path

import matrix
import pytest

ROOT = Path(__file__).resolve().parents[2]

# architecture -> (argument the task's guidance goes to, is a negative prompt with guidance 5 refused?)
EXPECTED = {
    "SD1.5": ("guidance_scale", None),
    "SDXL": ("guidance_scale", None),
    "LCM": ("guidance_scale", "takes no 'negative_prompt'"),  # swallowed by **kwargs: never used
    "PixArt-α": ("guidance_scale", None),
    "PixArt-Σ": ("guidance_scale", None),
    "SD3": ("guidance_scale", None),
    "Flux-dev": ("guidance_scale", "unless true_cfg_scale > 1"),  # guidance is the distilled embedding
    "Flux-schnell": ("true_cfg_scale", None),  # no guidance embedding: real CFG is true_cfg_scale
    "Flux2-klein": ("guidance_scale", "takes no 'negative_prompt'"),
    "QwenImage": ("true_cfg_scale", None),
    "SD1.5 single file": ("guidance_scale", None),  # from_single_file: the same pipeline as SD1.5
}


@pytest.fixture(scope="module")
def generator_matrix(tmp_path_factory):
    return matrix.run_generator_matrix(tmp_path_factory.mktemp("matrix"))


@pytest.fixture(scope="module")
def judge_matrix(tmp_path_factory):
    return matrix.run_judge_matrix(tmp_path_factory.mktemp("judges"))


def test_every_generator_architecture_runs_a_plain_task(generator_matrix):
    assert set(generator_matrix) == set(EXPECTED)
    for arch, outcomes in generator_matrix.items():
        plain = outcomes["plain"]
        assert plain.ok, f"{arch}: {plain.code} {plain.message}"
        assert plain.results["counts"]["images"] == len(matrix.PROMPTS), arch
        recipe = plain.results["generation_recipe"]
        assert recipe["steps"] == 2 and recipe["width"] == 32 and recipe["height"] == 32, arch
        assert recipe["applied"]["guidance_argument"] == EXPECTED[arch][0], arch
        assert "num_inference_steps" not in recipe["pipeline_defaults"], arch  # the task set it


def test_negative_prompt_is_applied_or_refused_before_any_image(generator_matrix):
    for arch, outcomes in generator_matrix.items():
        negative = outcomes["negative"]
        refusal = EXPECTED[arch][1]
        if refusal is None:
            assert negative.ok, f"{arch}: {negative.code} {negative.message}"
            recipe = negative.results["generation_recipe"]
            assert recipe["negative_prompt"] == matrix.NEGATIVE and recipe["guidance"] == 5.0, arch
            assert recipe["applied"]["classifier_free_guidance"] is True, arch
        else:
            assert negative.code == 2 and negative.results is None, arch
            assert refusal in negative.message and "unsupported_settings: warn" in negative.message, arch


def test_refusal_through_the_installed_executable(tmp_path, generator_matrix):
    """The same refusal as a user sees it from the `punc` executable: exit 2, one message, no traceback."""
    from tiny_generators import build_lcm

    _, judge = matrix.write_inputs(tmp_path)
    model = build_lcm(tmp_path / "lcm")
    task = matrix.write_task(tmp_path, "lcm-negative", 32, {}, negative=True)
    outcome = matrix.run_eval(task, model, judge, tmp_path / "run", subprocess_cli=True)
    assert (
        outcome.code == 2 and "LatentConsistencyModelPipeline takes no 'negative_prompt'" in outcome.message
    )
    assert (
        not (tmp_path / "run" / "images.jsonl").exists()
        or not (tmp_path / "run" / "images.jsonl").read_text()
    )


def test_every_judge_architecture(judge_matrix):
    for arch, outcome in judge_matrix.items():
        expected = matrix.JUDGES[arch].expect
        if expected == "works":
            assert outcome.ok, f"{arch}: {outcome.code} {outcome.message}"
            assert outcome.results["counts"]["captions"] == len(matrix.PROMPTS), arch
            assert outcome.results["judge"]["device"] == "cpu", arch
            assert outcome.results["judge"]["dtype"] == "float32", arch
        else:
            assert outcome.code == 2 and expected in outcome.message, f"{arch}: {outcome.message}"


def test_docs_compatibility_page_is_what_the_matrix_does(generator_matrix, judge_matrix):
    page = (ROOT / "docs" / "compatibility.md").read_text()
    assert page == matrix.render_page(generator_matrix, judge_matrix), (
        "docs/compatibility.md is stale: run .venv/bin/python scripts/make_compatibility.py"
    )
