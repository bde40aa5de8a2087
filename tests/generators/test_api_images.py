"""The OpenAI-images generator against a real `ImageServer` / `punc serve-generator` on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from cli_runner import run_punc
from image_faults import FaultPlan, faulty_handler
from tiny_generators import build_sd15
from tiny_judges import build_tiny_captioner

from harness.config.task import TaskConfig
from harness.errors import PuncError
from harness.generators import resolve_generator
from harness.generators.base import ImageRequest
from harness.generators.diffusers_pipeline import DiffusersGenerator
from harness.generators.image_server import ImageServer

PROMPTS = ["a red cat", "a blue boat", "two green trees"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return build_sd15(tmp_path_factory.mktemp("api") / "sd")


@pytest.fixture(scope="module")
def local(pipeline):
    return DiffusersGenerator(str(pipeline), device="cpu")


def _task(**fields) -> TaskConfig:
    base = {"name": "t", "prompts": "p.jsonl", "steps": 2, "width": 32, "height": 32}
    return TaskConfig.model_validate({**base, **fields})


def _client(server: ImageServer, **options):
    options.setdefault("sleep", lambda s: None)
    return resolve_generator(f"openai-images:{server.model_name}", base_url=server.base_url, **options)


def _requests(task: TaskConfig) -> list[ImageRequest]:
    return [
        ImageRequest("p", text, 0, seed=11 + i, steps=task.steps, width=32, height=32, guidance=task.guidance,
                     negative_prompt=task.negative_prompt)
        for i, text in enumerate(PROMPTS)
    ]  # fmt: skip


def test_served_images_equal_local_generation_with_the_same_seed(local):
    task = _task(guidance=3.0, negative_prompt="blurry")
    with ImageServer(local, model_name="tiny-sd") as server:
        client = _client(server, concurrency=2)
        client.preflight(task)
        remote = client.generate(_requests(task))
    local.preflight(task)
    for item, ref in zip(remote, [local.generate([r])[0] for r in _requests(task)], strict=True):
        assert item.error is None, item.error
        assert np.array_equal(np.asarray(item.image), np.asarray(ref.image))
        assert item.recipe["seed_sent"] and item.recipe["reported"]["seed"] == item.request.seed
        assert item.recipe["request"]["negative_prompt"] == "blurry" and item.recipe["guidance"] == 3.0
        assert item.recipe["reported"]["model"] == "tiny-sd"
        assert item.recipe["reported"]["server_recipe"]["pipeline_class"] == "StableDiffusionPipeline"


def test_injected_faults_are_retried_and_persistent_ones_reported(local):
    plan = FaultPlan({"a red cat": ["500", "drop", "429"], "a blue boat": ["503"] * 10})
    with ImageServer(local, model_name="tiny-sd", handler=faulty_handler(plan)) as server:
        client = _client(server, max_retries=3)
        client.preflight(_task())
        cat, boat, trees = client.generate(_requests(_task()))
    assert cat.error is None and trees.error is None
    assert plan.counts["a red cat"] == 4  # three faults, then the answer
    assert boat.image is None and "failed after 4 attempts" in boat.error and "HTTP 503" in boat.error
    assert plan.counts["a blue boat"] == 4


def test_settings_an_api_does_not_list_are_refused_before_any_request(local):
    with ImageServer(local, model_name="tiny-sd") as server:
        # a model the server does not list: treated as plain OpenAI (no seed, steps or negative prompt)
        client = resolve_generator("openai-images:other", base_url=server.base_url)
        with pytest.raises(PuncError, match="takes no 'negative_prompt'"):
            client.preflight(_task(negative_prompt="blurry"))
        client.preflight(_task(unsupported_settings="warn", negative_prompt="blurry"))
        assert "seed" not in client.payload(_requests(_task())[0])
        assert server.stats["requests"] == 0


def test_malformed_bodies_are_answered_400_by_the_shared_safe_parser(local):
    """The images route once parsed with plain json.loads: deep nesting killed the handler unanswered."""
    with ImageServer(local, model_name="tiny-sd") as server:
        url = server.base_url + "/images/generations"
        for body in (b"[" * 5000 + b"]" * 5000, b'{"prompt": "a", "prompt": "b"}', b"\xff", b"{"):
            answer = httpx.post(url, content=body, timeout=30)
            assert answer.status_code == 400, body[:20]
            assert "the body is not" in answer.json()["error"]["message"]
        assert server.stats.get("images", 0) == 0


def test_missing_key_variable_is_an_error_without_the_key(monkeypatch):
    monkeypatch.delenv("PUNC_TEST_IMAGES_KEY", raising=False)
    with pytest.raises(PuncError, match="PUNC_TEST_IMAGES_KEY"):
        resolve_generator(
            "openai-images:x", base_url="http://127.0.0.1:9/v1", api_key_env="PUNC_TEST_IMAGES_KEY"
        )


def _write_eval_inputs(root: Path, base_url: str, key_env: str | None = None) -> tuple[Path, Path]:
    build_tiny_captioner(root / "cap")
    (root / "j.yaml").write_text("name: cap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 4\n")
    (root / "p.jsonl").write_text(
        "".join(json.dumps({"id": f"p{i}", "text": t}) + "\n" for i, t in enumerate(PROMPTS))
    )
    kwargs = {"base_url": base_url, "max_retries": 1, "concurrency": 2}
    if key_env:
        kwargs["api_key_env"] = key_env
    (root / "t.yaml").write_text(
        "name: api\nprompts: p.jsonl\nimages_per_prompt: 2\nsteps: 2\nwidth: 32\nheight: 32\n"
        f"scorers: [rougeL]\nbootstrap_samples: 0\ngenerator_kwargs: {json.dumps(kwargs)}\n"
    )
    return root / "t.yaml", root / "j.yaml"


def test_eval_resumes_without_paying_twice(tmp_path, local, monkeypatch):
    """A failed image is requested again on the next run; stored images never are."""
    monkeypatch.setenv("PUNC_TEST_IMAGES_KEY", "sk-test-secret-123")
    plan = FaultPlan({"two green trees": ["500"] * 4})
    with ImageServer(
        local, model_name="tiny-sd", api_key="sk-test-secret-123", handler=faulty_handler(plan)
    ) as server:
        task, judge = _write_eval_inputs(tmp_path, server.base_url, "PUNC_TEST_IMAGES_KEY")
        argv = [
            "eval",
            str(task),
            "-g",
            "openai-images:tiny-sd",
            "-j",
            str(judge),
            "-o",
            str(tmp_path / "run"),
            "-q",
        ]
        code, _, err = run_punc(*argv)
        assert code == 1, err  # finished with two failed images (issue 12: exit code 1)
        first = json.loads((tmp_path / "run" / "results.json").read_text())
        assert first["counts"]["images"] == 4 and first["counts"]["failed_images"] == 2
        assert plan.counts["two green trees"] == 4  # 2 images x (1 try + 1 retry)
        answered = server.stats["images"]
        code, _, err = run_punc(*argv)
        assert code == 0, err
        second = json.loads((tmp_path / "run" / "results.json").read_text())
        assert second["complete"] and second["counts"]["images"] == 6
        assert server.stats["images"] - answered == 2  # only the two missing images were generated
        code, _, _ = run_punc(*argv)
        assert code == 0 and server.stats["images"] - answered == 2  # a finished run asks for nothing
    stored = "".join(p.read_text() for p in (tmp_path / "run").rglob("*.json*"))
    assert "sk-test-secret-123" not in stored
    assert second["generation_recipe"]["steps"] == 2


def test_punc_serve_generator_executable(tmp_path, pipeline):
    """The installed `punc serve-generator`: serves, refuses a missing key, answers OpenAI's shape."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PUNC_TEST_SERVE_KEY": "k-123"}
    punc = str(Path(sys.executable).with_name("punc"))
    proc = subprocess.Popen(
        [punc, "serve-generator", str(pipeline), "--port", "0", "--device", "cpu", "--model-name", "tiny",
         "--api-key-env", "PUNC_TEST_SERVE_KEY"],
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = ""
        while "serving generator" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "serve-generator exited before serving"
        base_url = re.search(r"(http://\S+/v1)", line).group(1)
        body = {"model": "tiny", "prompt": "a red cat", "size": "32x32", "num_inference_steps": 2, "seed": 5}
        assert httpx.post(f"{base_url}/images/generations", json=body, timeout=60).status_code == 401
        answer = httpx.post(
            f"{base_url}/images/generations", json=body, headers={"Authorization": "Bearer k-123"}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        assert len(data) == 1 and data[0]["seed"] == 5 and data[0]["b64_json"]
        bad = httpx.post(
            f"{base_url}/images/generations",
            json={**body, "size": "big"},
            headers={"Authorization": "Bearer k-123"},
        )
        assert bad.status_code == 400 and "size" in bad.json()["error"]["message"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
