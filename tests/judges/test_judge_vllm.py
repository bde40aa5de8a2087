"""The vLLM backend without vLLM: the clear error, the request construction, and the wiring (fake engine)."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
from tiny_judges import make_images

from harness.config.judge import JudgeConfig
from harness.errors import PuncError
from harness.judges import available_backends, build_judge
from harness.judges._images import data_url_to_image, sample_seed
from harness.judges.base import CaptionRequest


def config(**overrides) -> JudgeConfig:
    fields = {"name": "vlm", "backend": "vllm", "model": "Qwen/Qwen2-VL-2B-Instruct", "revision": "abc123"}
    fields.update(overrides)
    return JudgeConfig.model_validate(fields)


def test_importing_the_module_does_not_import_vllm(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # any `import vllm` now raises ImportError
    monkeypatch.delitem(sys.modules, "harness.judges.vllm_backend", raising=False)
    module = importlib.import_module("harness.judges.vllm_backend")
    assert hasattr(module, "VLLMJudge")


def test_missing_vllm_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(PuncError, match=r"pip install 'punc-harness\[vllm\]'"):
        build_judge(config())
    assert available_backends()["transformers"] and available_backends()["openai"]


def test_conversation_and_sampling_construction():
    from harness.judges.vllm_backend import build_conversation, engine_kwargs, sampling_kwargs

    image = make_images(1)[0]
    request = CaptionRequest(key="p7/s1", image=image, prompt_text="a cat", sample_index=2)
    cfg = config(
        show_prompt=True,
        decoding={"temperature": 0.8, "top_p": 0.95, "top_k": 40, "seed": 11},
        samples_per_image=4,
        max_new_tokens=64,
        engine_kwargs={"max_model_len": 4096, "dtype": "bfloat16"},
    )
    conversation = build_conversation(cfg, request)
    assert conversation == [
        {
            "role": "user",
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": conversation[0]["content"][0]["image_url"]["url"]},
                },
                {
                    "type": "text",
                    "text": "Describe this image.\nThe image was generated from this prompt: a cat",
                },
            ],
        }
    ]
    assert data_url_to_image(conversation[0]["content"][0]["image_url"]["url"]).tobytes() == image.tobytes()
    assert sampling_kwargs(cfg, request) == {
        "n": 1,
        "temperature": 0.8,
        "top_p": 0.95,
        "top_k": 40,
        "max_tokens": 64,
        "seed": sample_seed(11, "p7/s1", 2),
    }
    assert sampling_kwargs(config(), request)["temperature"] == 0.0
    assert engine_kwargs(cfg) == {
        "model": "Qwen/Qwen2-VL-2B-Instruct",
        "revision": "abc123",
        "dtype": "bfloat16",  # engine_kwargs win
        "seed": 11,
        "max_model_len": 4096,
    }


def fake_vllm(answers):
    """A stand-in for the vllm module that records how the backend drives it."""
    module = types.ModuleType("vllm")
    calls = {"init": None, "chat": []}

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            calls["init"] = kwargs

        def chat(self, messages, sampling_params=None, use_tqdm=True):
            calls["chat"].append((messages, sampling_params))
            if answers == "raise":
                raise RuntimeError("engine died")
            return [
                types.SimpleNamespace(outputs=[types.SimpleNamespace(text=answers.pop(0))]) for _ in messages
            ]

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module, calls


def test_captions_through_a_fake_engine(monkeypatch):
    module, calls = fake_vllm([" a cat ", "", "a dog", "a bird", "a tree"])
    monkeypatch.setitem(sys.modules, "vllm", module)
    judge = build_judge(config(batch_size=2, engine_kwargs={"gpu_memory_utilization": 0.5}))
    images = make_images(5)
    results = judge.caption([CaptionRequest(key=f"k{i}", image=images[i], prompt_text="p") for i in range(5)])
    assert (
        calls["init"]["model"] == "Qwen/Qwen2-VL-2B-Instruct"
        and calls["init"]["gpu_memory_utilization"] == 0.5
    )
    assert [len(messages) for messages, _ in calls["chat"]] == [2, 2, 1]  # batches of batch_size
    seeds = [params.kwargs["seed"] for _, batch in calls["chat"] for params in batch]
    assert seeds == [sample_seed(0, f"k{i}", 0) for i in range(5)]
    assert [r.text for r in results] == ["a cat", None, "a dog", "a bird", "a tree"]
    assert results[1].error == "the judge returned an empty caption"


def test_engine_failure_gives_errors(monkeypatch):
    module, _ = fake_vllm("raise")
    monkeypatch.setitem(sys.modules, "vllm", module)
    judge = build_judge(config())
    results = judge.caption([CaptionRequest(key="k", image=make_images(1)[0], prompt_text="p")])
    assert not results[0].ok and "engine died" in results[0].error


def test_unsupported_settings_are_refused_before_loading(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(PuncError, match="num_beams"):
        build_judge(config(decoding={"num_beams": 4}))
    with pytest.raises(PuncError, match="captioner"):
        build_judge(config(mode="captioner"))
