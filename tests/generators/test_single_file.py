"""Single-file checkpoints through the installed `punc eval`: a tiny SD1.5 pipeline written as one LDM-layout
`.safetensors` file must make the same pixels as the pipeline folder it came from, offline."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_punc
from PIL import Image
from single_file_checkpoints import strip_weights, write_original_sd15_checkpoint
from tiny_generators import build_sd15
from tiny_judges import build_tiny_captioner

PUNC = str(Path(sys.executable).with_name("punc"))
SD15_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # what diffusers infers for SD1-style keys


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tiny pipeline folder, its single file, a weightless config folder, prompts and a judge."""
    root = tmp_path_factory.mktemp("single")
    folder = build_sd15(root / "sd15")
    checkpoint = write_original_sd15_checkpoint(folder, root / "tiny-sd15.safetensors")
    config = strip_weights(Path(shutil.copytree(folder, root / "sd15-config")))
    (root / "prompts.jsonl").write_text(
        '{"id": "cat", "text": "a red cat on a field"}\n{"id": "boat", "text": "two blue boats"}\n'
    )
    build_tiny_captioner(root / "captioner")
    (root / "judge.yaml").write_text(
        "name: cap\nbackend: transformers\nmodel: captioner\nmax_new_tokens: 4\n"
    )
    return {"root": root, "folder": folder, "checkpoint": checkpoint, "config": config}


def _task(root: Path, name: str, generator_kwargs: dict) -> Path:
    task = root / f"{name}.yaml"
    task.write_text(
        f"name: {name}\nprompts: prompts.jsonl\nimages_per_prompt: 2\nsteps: 2\nwidth: 32\nheight: 32\n"
        f"guidance: 3.0\nnegative_prompt: blurry\nscorers: [rougeL]\nbootstrap_samples: 0\n"
        f"generator_kwargs: {json.dumps(generator_kwargs)}\n"
    )
    return task


def _punc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([PUNC, *args], capture_output=True, text=True, env=environment, timeout=600)


def _pixels(run: Path) -> dict[tuple[str, int], np.ndarray]:
    records = [json.loads(line) for line in (run / "images.jsonl").read_text().splitlines() if line]
    found = {}
    for record in records:
        (png,) = run.rglob(f"{record['image_hash']}.png")
        found[(record["prompt_id"], record["index"])] = np.asarray(Image.open(png).convert("RGB"))
    return found


@pytest.fixture(scope="module")
def folder_run(world):
    root = world["root"]
    out = root / "run-folder"
    code, _, err = run_punc(
        "eval",
        str(_task(root, "folder", {})),
        "-g",
        str(world["folder"]),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(out),
        "-q",
    )
    assert code == 0, err
    return out


def test_single_file_with_a_config_folder_reproduces_the_pipeline_pixels(world, folder_run):
    """Weights from the single file only (the config folder has none), class given: identical images."""
    root = world["root"]
    task = _task(root, "single", {"config": "sd15-config", "pipeline_class": "StableDiffusionPipeline"})
    out = root / "run-single"
    proc = _punc(
        "eval",
        str(task),
        "-g",
        str(world["checkpoint"]),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(out),
        "-q",
    )
    assert proc.returncode == 0, proc.stderr
    expected, got = _pixels(folder_run), _pixels(out)
    assert set(got) == set(expected) and len(got) == 4
    for key in expected:
        assert np.array_equal(got[key], expected[key]), key
    assert not np.array_equal(got[("cat", 0)], got[("boat", 0)])  # real images, not one constant picture

    results = json.loads((out / "results.json").read_text())
    generator = results["generator"]
    assert generator["model"] == "tiny-sd15.safetensors"
    assert generator["pipeline_class"] == "StableDiffusionPipeline"
    assert generator["revision"] == "sha256:" + hashlib.sha256(world["checkpoint"].read_bytes()).hexdigest()
    recipe = results["generation_recipe"]
    assert generator["single_file"] == {
        "loader": "from_single_file",
        "config": "sd15-config",
        "config_inferred": False,
        "pipeline_class_given": True,
    }
    assert recipe["applied"]["classifier_free_guidance"] is True and recipe["negative_prompt"] == "blurry"


def test_identity_follows_the_checkpoint_content(world, tmp_path):
    """Same name and size, one tensor in the middle changed (a merge or a small fine-tune): another identity,
    so a run directory is never mixed up (edge hashing, as for folders, would miss it)."""
    from safetensors.torch import load_file, save_file

    from harness.fingerprint import local_model_identity

    changed = tmp_path / "tiny-sd15.safetensors"
    state = load_file(world["checkpoint"])
    state["model.diffusion_model.out.2.bias"] = state["model.diffusion_model.out.2.bias"] + 0.5
    save_file(state, changed)
    assert local_model_identity(changed) != local_model_identity(world["checkpoint"])


def _fake_hub_cache(cache: Path, config: Path) -> None:
    """The layout huggingface_hub keeps for a downloaded repo: configs only, as `from_single_file` fetches."""
    repo = cache / ("models--" + SD15_REPO.replace("/", "--"))
    commit = "0" * 40
    shutil.copytree(config, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_config_and_class_inferred_from_the_keys_via_the_local_cache(world, folder_run, tmp_path):
    """No generator_kwargs: diffusers' key-based inference picks SD1.5's hub repo, found in the cache offline."""
    cache = tmp_path / "hub"
    _fake_hub_cache(cache, world["config"])
    root = world["root"]
    out = root / "run-inferred"
    proc = _punc(
        "eval",
        str(_task(root, "inferred", {})),
        "-g",
        str(world["checkpoint"]),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(out),
        "-q",
        env={"HF_HUB_CACHE": str(cache)},
    )
    assert proc.returncode == 0, proc.stderr
    expected, got = _pixels(folder_run), _pixels(out)
    assert all(np.array_equal(got[key], expected[key]) for key in expected) and len(got) == 4
    generator = json.loads((out / "results.json").read_text())["generator"]
    assert generator["pipeline_class"] == "StableDiffusionPipeline"
    assert (
        generator["single_file"]["config"] == SD15_REPO
        and generator["single_file"]["config_inferred"] is True
    )
    assert generator["single_file"]["pipeline_class_given"] is False


def test_offline_without_configs_stops_with_what_to_do(world, tmp_path):
    root = world["root"]
    out = tmp_path / "run"
    proc = _punc(
        "eval",
        str(_task(root, "nocfg", {})),
        "-g",
        str(world["checkpoint"]),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(out),
        "-q",
        env={"HF_HUB_CACHE": str(tmp_path / "empty-cache")},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert SD15_REPO in proc.stderr and "HF_HUB_OFFLINE=1 is set" in proc.stderr
    assert "generator_kwargs.config" in proc.stderr and f"hf download {SD15_REPO} --include" in proc.stderr
    assert not (out / "images.jsonl").exists() or not (out / "images.jsonl").read_text()


@pytest.mark.parametrize(
    ("kwargs", "spec", "message"),
    [
        (
            {"pipeline_class": "NoSuchPipeline", "config": "sd15-config"},
            "checkpoint",
            "pipeline class 'NoSuchPipeline' cannot load single files",
        ),
        (
            {"config": "missing-folder/"},
            "checkpoint",
            "generator_kwargs.config: 'missing-folder/': no such local folder",
        ),
        ({"config": "sd15-config"}, "folder", "generator_kwargs.config: only for single-file checkpoints"),
        (
            {"config": "sd15-config", "pipeline_class": "StableDiffusionXLPipeline"},
            "checkpoint",
            "loaded as StableDiffusionXLPipeline without its text_encoder_2, tokenizer_2",
        ),
    ],
)
def test_bad_single_file_options_exit_2(world, tmp_path, kwargs, spec, message):
    root = world["root"]
    generator = world["checkpoint"] if spec == "checkpoint" else world["folder"]
    code, _, err = run_punc(
        "eval",
        str(_task(root, f"bad-{spec}-{len(message)}", kwargs)),
        "-g",
        str(generator),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(tmp_path / "run"),
        "-q",
    )
    assert code == 2 and message in err, err
    assert "Traceback" not in err


def test_pickle_checkpoints_are_refused_unopened(world, tmp_path):
    """A .ckpt is a pickle that can run code when loaded: refused by name, its bytes never read."""
    root = world["root"]
    trap = tmp_path / "model.ckpt"
    trap.write_bytes(b"not even a pickle")
    code, _, err = run_punc(
        "eval",
        str(_task(root, "ckpt", {})),
        "-g",
        str(trap),
        "-j",
        str(root / "judge.yaml"),
        "-o",
        str(tmp_path / "run"),
        "-q",
    )
    assert code == 2 and "Python pickles" in err and ".safetensors" in err, err
