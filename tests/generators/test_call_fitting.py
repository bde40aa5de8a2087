"""Task settings fitted to each pipeline's call: effective where mapped, refused or recorded where not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_runner import run_punc
from tiny_generators import build_lcm, build_qwenimage

from harness.config.task import TaskConfig
from harness.errors import PuncError
from harness.generators import resolve_generator
from harness.generators.base import ImageRequest


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("fit")
    return {"qwen": build_qwenimage(root / "qwen"), "lcm": build_lcm(root / "lcm")}


def _task(**fields) -> TaskConfig:
    return TaskConfig.model_validate(
        {"name": "t", "prompts": "p.jsonl", "steps": 2, "width": 32, "height": 32, **fields}
    )


def _image(generator, task: TaskConfig):
    generator.preflight(task)
    request = ImageRequest("p", "a red cat", 0, seed=7, steps=2, width=32, height=32, guidance=task.guidance)
    (item,) = generator.generate([request])
    assert item.error is None, item.error
    return item


def test_qwenimage_guidance_really_changes_the_image(models):
    """QwenImage ignores guidance_scale (no guidance embedding): the task's guidance must reach true CFG."""
    gen = resolve_generator(str(models["qwen"]), device="cpu")
    plain = _image(gen, _task(guidance=1.0))
    guided = _image(gen, _task(guidance=5.0))
    assert not np.array_equal(np.asarray(plain.image), np.asarray(guided.image))
    assert guided.recipe["call"]["true_cfg_scale"] == 5.0 and guided.recipe["negative_prompt"] == " "
    assert guided.recipe["applied"]["classifier_free_guidance"] is True
    assert plain.recipe["applied"]["classifier_free_guidance"] is False and plain.recipe["guidance"] is None
    # what shaped the image without being set by the task is recorded too
    assert plain.recipe["pipeline_defaults"]["max_sequence_length"] == 512


def test_unsupported_setting_is_refused_before_any_image(models):
    gen = resolve_generator(str(models["lcm"]), device="cpu")
    with pytest.raises(PuncError, match="takes no 'negative_prompt'"):
        gen.preflight(_task(negative_prompt="blurry", guidance=5.0))


def test_opted_in_unsupported_setting_is_dropped_and_recorded(models):
    gen = resolve_generator(str(models["lcm"]), device="cpu")
    item = _image(gen, _task(negative_prompt="blurry", guidance=5.0, unsupported_settings="warn"))
    assert item.recipe["negative_prompt"] is None
    assert any("negative_prompt" in reason for reason in item.recipe["not_applied"])
    assert item.recipe["guidance"] == 5.0  # LCM's guidance embedding w did take the value


def test_unknown_generator_kwarg_is_refused(models):
    gen = resolve_generator(str(models["lcm"]), device="cpu", no_such_option=3)
    with pytest.raises(PuncError, match="takes no argument 'no_such_option'"):
        gen.preflight(_task())


@pytest.mark.parametrize("key", ["device", "dtype"])
def test_device_or_dtype_in_generator_kwargs_is_a_task_error(tmp_path, key):
    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "p0", "text": "a cat"}) + "\n")
    (tmp_path / "t.yaml").write_text(f"name: t\nprompts: p.jsonl\ngenerator_kwargs:\n  {key}: cuda\n")
    code, out, err = run_punc("eval", str(tmp_path / "t.yaml"), "-g", str(tmp_path), "-j", "x.yaml")
    assert code == 2 and "Traceback" not in err + out
    assert f"generator_kwargs.{key}" in err and "t.yaml" in err


def test_task_hash_unchanged_by_the_new_keys_at_their_defaults(tmp_path):
    """Published tasks keep their hash: dtype/unsupported_settings count only when set."""
    from harness.config.task import load_task

    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "p0", "text": "a cat"}) + "\n")
    (tmp_path / "a.yaml").write_text("name: t\nprompts: p.jsonl\n")
    (tmp_path / "b.yaml").write_text("name: t\nprompts: p.jsonl\ndtype: float16\n")
    plain, with_dtype = load_task(tmp_path / "a.yaml"), load_task(tmp_path / "b.yaml")
    settings = plain.config.model_dump(mode="json", exclude={"generator", "judge", "description"})
    for key in ("dtype", "unsupported_settings"):
        settings.pop(key)
    settings["prompts"] = plain.prompts_hash
    from harness.fingerprint import sha256_json

    assert plain.task_hash == sha256_json(settings)
    assert with_dtype.task_hash != plain.task_hash


def test_dtype_option_reaches_the_pipeline_and_the_recipe(tmp_path, models):
    from tiny_judges import build_tiny_captioner

    build_tiny_captioner(tmp_path / "cap")
    (tmp_path / "j.yaml").write_text("name: cap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 4\n")
    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "p0", "text": "a red cat"}) + "\n")
    (tmp_path / "t.yaml").write_text(
        "name: t\nprompts: p.jsonl\nimages_per_prompt: 1\nsteps: 2\nwidth: 32\nheight: 32\n"
        "scorers: [rougeL]\nbootstrap_samples: 0\ndtype: float32\n"
    )
    out = tmp_path / "run"
    argv = ["eval", str(tmp_path / "t.yaml"), "-g", str(models["lcm"]), "-j", str(tmp_path / "j.yaml")]
    code, _, err = run_punc(*argv, "-o", str(out), "-q", "--dtype", "bfloat16")
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert results["generation_recipe"]["dtype"] == "bfloat16"  # --dtype overrides the task's dtype
    assert results["judge"]["dtype"] == "float32" and results["judge"]["device"] == "cpu"
