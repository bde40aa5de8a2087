"""The judge contract, checked for every judge backend in the registry.

Every backend returns one result per request in request order, turns a broken image into an error
on that item alone (the other captions are what they are without it), has a fingerprint that is
the same for two judges built from the same configuration, and can be closed twice.

transformers runs the tiny offline captioner; openai talks to `punc serve-judge`'s server on
loopback serving that captioner. vLLM is a GPU extra that is not installed here: its backend code
runs for real against a stand-in engine that answers a digest of each image it was sent, so order
and per-item failures are still observable.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from collections.abc import Iterator

import pytest
from contract_helpers import truncated_image
from tiny_judges import make_images

from harness.config.judge import JudgeConfig
from harness.judges import build_judge
from harness.judges.base import CaptionRequest, Judge
from harness.registry import JUDGES

BUILT_IN = [name for name in JUDGES.names() if JUDGES.is_builtin(name)]
CASES = ("transformers", "openai", "vllm")


def test_every_built_in_backend_has_a_contract_case():
    assert sorted(BUILT_IN) == sorted(CASES)


def standin_vllm() -> types.ModuleType:
    """An engine that answers 'image <digest of the image URL>' for each conversation, in order."""
    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def chat(self, messages, sampling_params=None, use_tqdm=True):
            answers = []
            for conversation in messages:
                url = conversation[0]["content"][0]["image_url"]["url"]
                digest = hashlib.sha256(url.encode()).hexdigest()[:8]
                answers.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(text=f"image {digest}")]))
            return answers

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module


def config_for(backend: str, captioner_dir, base_url: str | None = None) -> JudgeConfig:
    common = {"name": "contract", "backend": backend, "max_new_tokens": 8, "batch_size": 4}
    if backend == "transformers":
        return JudgeConfig(**common, model=str(captioner_dir), device="cpu")
    if backend == "openai":
        return JudgeConfig(**common, model="tiny", base_url=base_url, max_retries=0, timeout_s=30)
    return JudgeConfig(**common, model="org/some-chat-vlm", mode="chat")


@pytest.fixture(scope="module")
def served(captioner_dir) -> Iterator[str]:
    from harness.judges.server import JudgeServer

    local = build_judge(config_for("transformers", captioner_dir))
    with JudgeServer(local, port=0, model_name="tiny") as server:
        yield server.base_url
    local.close()


@pytest.fixture(scope="module", params=CASES)
def make_judge(request, captioner_dir):
    """A factory: the contract builds several judges of one configuration."""
    backend = request.param
    base_url = request.getfixturevalue("served") if backend == "openai" else None
    if backend == "vllm" and importlib.util.find_spec("vllm") is None:
        patch = pytest.MonkeyPatch()
        patch.setitem(sys.modules, "vllm", standin_vllm())
    else:
        patch = None
    config = config_for(backend, captioner_dir, base_url)
    built: list[Judge] = []

    def make() -> Judge:
        judge = build_judge(config, device="cpu")
        built.append(judge)
        return judge

    yield make
    for judge in built:
        judge.close()
    if patch is not None:
        patch.undo()


def requests_for(images, prefix: str = "p") -> list[CaptionRequest]:
    return [CaptionRequest(f"{prefix}{i}/0", image, f"prompt {i}") for i, image in enumerate(images)]


def test_results_keep_request_order(make_judge):
    judge = make_judge()
    requests = requests_for(make_images(6))
    forward = judge.caption(requests)
    backward = judge.caption(requests[::-1])
    assert [r.key for r in forward] == [r.key for r in requests]
    assert [r.key for r in backward] == [r.key for r in requests[::-1]]
    assert all(r.ok for r in forward + backward), [r.error for r in forward + backward]
    assert {r.key: r.text for r in forward} == {r.key: r.text for r in backward}
    assert len({r.text for r in forward}) > 1, "different images must get different captions"


def test_a_broken_image_fails_alone(make_judge):
    judge = make_judge()
    good = requests_for(make_images(3))
    bad = CaptionRequest("broken/0", truncated_image(), "prompt b")
    results = judge.caption([good[0], bad, good[1], good[2]])
    assert [r.key for r in results] == ["p0/0", "broken/0", "p1/0", "p2/0"]
    assert not results[1].ok and results[1].error
    alone = {r.key: r.text for r in judge.caption(good)}
    assert {r.key: r.text for r in results if r.key != "broken/0"} == alone


def test_fingerprint_is_stable_across_instances(make_judge):
    first, second = make_judge(), make_judge()
    assert isinstance(first.fingerprint, str) and len(first.fingerprint) == 64
    assert first.fingerprint == second.fingerprint
    assert first.describe() == second.describe()


def test_close_twice_is_safe(make_judge):
    judge = make_judge()
    judge.close()
    judge.close()
