"""JudgeConfig is a discriminated union on `backend`: each backend's options live in its own model.

The fingerprint (the key cached captions are stored under) must not move with the refactor: old runs
must still resume. The pinned values were computed by main at commit 8546e55, before the union,
with the harness version set to "0.0.0-pinned" so that a version bump does not break this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness.config.judge as judge_module
from harness.config.judge import (
    JudgeConfig,
    OpenAIJudgeConfig,
    TransformersJudgeConfig,
    VLLMJudgeConfig,
    load_judge,
)
from harness.errors import InputError
from harness.fingerprint import sha256_json

ROOT = Path(__file__).resolve().parents[2]
PUNC = str(Path(sys.executable).parent / "punc")

PINNED_ON_MAIN = {
    "judges/world.yaml": "d9f2d3ab2efe488a121ee7c896d5fdf4300b0e33c921e2a4eae625eb9f65eff6",
    "judges/world-sampled.yaml": "0a18eceea78f106bcad5f9a97d264fb9485719168d36fce11bcd507e61dcc7b9",
    "judges/examples/openai-server.yaml": "7613f9fb5c118a90d56a1e7fe516f0bc3f4e425886041ee1b0ac73ceefe331d9",
    "judges/examples/qwen2-vl-vllm.yaml": "dfed3bad49b1de621a49adaef2e669f32ad08195ae9d5aa474c7df127080d167",
    "judges/examples/smolvlm-transformers.yaml": "a70cf34032d577948735b58df03ebfab3efd7a2a35ad7c2d8027e89d5e36b1e4",
}
INLINE = {
    "name": "x",
    "backend": "transformers",
    "model": "org/m",
    "revision": "abc",
    "show_prompt": True,
    "decoding": {"temperature": 0.7, "top_k": 5, "seed": 3},
    "samples_per_image": 2,
    "max_new_tokens": 40,
    "dtype": "float16",
    "batch_size": 2,
}
INLINE_PINNED = "f36f88edbefccbd626585b338be8686505bd3285069c611e734788632f75a948"


@pytest.fixture
def pinned_version(monkeypatch):
    monkeypatch.setattr(judge_module, "__version__", "0.0.0-pinned")


@pytest.mark.parametrize("path", sorted(PINNED_ON_MAIN))
def test_fingerprints_of_shipped_judges_are_unchanged(path, pinned_version):
    assert load_judge(ROOT / path).fingerprint == PINNED_ON_MAIN[path]


def test_fingerprint_of_an_inline_config_is_unchanged(pinned_version):
    assert JudgeConfig.model_validate(INLINE).fingerprint == INLINE_PINNED
    assert JudgeConfig(**INLINE).fingerprint == INLINE_PINNED


def test_the_shipped_board_runs_still_resume_with_the_world_judge():
    """Its captions are stored under the fingerprint its results.json recorded; the judge must match it."""
    for results_file in sorted((ROOT / "leaderboards" / "embedded" / "runs").glob("*/results.json")):
        stored = json.loads(results_file.read_text())["judge"]
        fields = load_judge(ROOT / "judges" / "world.yaml").fingerprint_fields()
        fields["harness_version"] = stored["fields"]["harness_version"]  # the version it was made with
        assert fields == stored["fields"], results_file
        assert sha256_json(fields) == stored["fingerprint"], results_file


@pytest.mark.parametrize(
    ("backend", "extra", "member"),
    [
        ("transformers", {"device": "cpu", "dtype": "float32"}, TransformersJudgeConfig),
        ("vllm", {"engine_kwargs": {"max_model_len": 4096}}, VLLMJudgeConfig),
        ("openai", {"base_url": "http://127.0.0.1:9/v1", "concurrency": 2}, OpenAIJudgeConfig),
    ],
)
def test_backend_selects_its_own_model(backend, extra, member):
    data = {"name": "j", "backend": backend, "model": "org/m", **extra}
    for config in (JudgeConfig(**data), JudgeConfig.model_validate(data)):
        assert type(config) is member and isinstance(config, JudgeConfig)
        assert config.model_dump(include=set(extra)) == extra
        assert config.model_copy(update={"batch_size": 3}).batch_size == 3


@pytest.mark.parametrize(
    ("backend", "foreign"),
    [
        ("transformers", "base_url"),
        ("openai", "device"),
        ("vllm", "concurrency"),
        ("openai", "engine_kwargs"),
    ],
)
def test_an_option_of_another_backend_is_refused(backend, foreign):
    data = {"name": "j", "backend": backend, "model": "org/m", foreign: 1}
    if backend == "openai":
        data["base_url"] = "http://h/v1"
    with pytest.raises(ValueError, match=f"{foreign}\n  Extra inputs are not permitted"):
        JudgeConfig.model_validate(data)


def punc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    return subprocess.run([PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_validate_names_file_line_and_field_of_a_foreign_option(tmp_path):
    (tmp_path / "local.yaml").write_text("name: j\nbackend: transformers\nmodel: m\nbase_url: http://h/v1\n")
    (tmp_path / "remote.yaml").write_text(
        "name: r\nbackend: openai\nmodel: m\nbase_url: http://h/v1\ndevice: cuda\n"
    )
    done = punc("validate", "local.yaml", "remote.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    local = next(line for line in lines if "local.yaml" in line)
    remote = next(line for line in lines if "remote.yaml" in line)
    assert "local.yaml at line 4, key base_url: field 'base_url': expected no unknown field" in local
    assert "remote.yaml at line 5, key device: field 'device'" in remote

    def allowed(line: str) -> set[str]:
        return set(line.split("allowed: ")[1].rstrip(")").split(", "))

    assert {"device", "dtype", "mode"} <= allowed(local) and "engine_kwargs" not in allowed(local)
    assert {"base_url", "concurrency"} <= allowed(remote) and not {"mode", "device"} & allowed(remote)


def test_unknown_or_missing_backend_is_a_clear_error(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: j\nbackend: tensorflow\nmodel: m\n")
    with pytest.raises(InputError) as caught:
        load_judge(tmp_path / "bad.yaml")
    message = str(caught.value)
    assert "bad.yaml at line 2, key backend" in message
    assert "transformers, vllm, openai" in message and "'tensorflow'" in message
    with pytest.raises(ValueError, match="backend"):
        JudgeConfig.model_validate({"name": "j", "model": "m"})
