"""The OpenAI-compatible client against scripted transports (no server): payload, retries, keys."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from tiny_judges import make_images

from harness.config.judge import JudgeConfig
from harness.errors import PuncError
from harness.judges import build_judge
from harness.judges._images import data_url_to_image, sample_seed
from harness.judges.base import CaptionRequest
from harness.judges.openai_backend import OpenAIJudge, build_payload

KEY = "sk-test-Zq9X-very-secret-4711"


def config(**overrides) -> JudgeConfig:
    fields = {
        "name": "remote",
        "backend": "openai",
        "model": "org/vlm-7b",
        "base_url": "http://judge.invalid/v1/",
        "max_new_tokens": 40,
        "max_retries": 3,
        "timeout_s": 5,
    }
    fields.update(overrides)
    return JudgeConfig.model_validate(fields)


def answer(text: str | None) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    )


def make_judge(handler, sleeps=None, **overrides) -> OpenAIJudge:
    sleeps = sleeps if sleeps is not None else []
    return OpenAIJudge(config(**overrides), transport=httpx.MockTransport(handler), sleep=sleeps.append)


@pytest.fixture
def request_one():
    return CaptionRequest(key="p1/seed0", image=make_images(1)[0], prompt_text="a red cat", sample_index=2)


def test_payload_structure(request_one):
    cfg = config(decoding={"temperature": 0.7, "top_p": 0.9, "top_k": 20, "seed": 5}, samples_per_image=3)
    payload = build_payload(cfg, request_one)
    assert payload["model"] == "org/vlm-7b"
    assert payload["max_tokens"] == 40 and payload["temperature"] == 0.7 and payload["top_p"] == 0.9
    assert payload["top_k"] == 20 and payload["n"] == 1
    assert payload["seed"] == sample_seed(5, "p1/seed0", 2)
    other = build_payload(cfg, CaptionRequest(key="p1/seed0", image=request_one.image, prompt_text="x"))
    assert other["seed"] != payload["seed"]
    (message,) = payload["messages"]
    assert message["role"] == "user"
    image_part, text_part = message["content"]
    assert text_part == {"type": "text", "text": "Describe this image."}  # the prompt is not shown by default
    url = image_part["image_url"]["url"]
    assert image_part["type"] == "image_url" and url.startswith("data:image/png;base64,")
    assert data_url_to_image(url).tobytes() == request_one.image.tobytes()  # lossless
    greedy = build_payload(config(), request_one)
    assert greedy["temperature"] == 0.0 and "top_k" not in greedy


def test_request_goes_to_chat_completions_with_bearer_key(monkeypatch, request_one):
    monkeypatch.setenv("PUNC_TEST_KEY", KEY)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization"), json.loads(request.content)))
        return answer("  a red cat on a mat ")

    judge = make_judge(handler, api_key_env="PUNC_TEST_KEY")
    (result,) = judge.caption([request_one])
    assert result.ok and result.text == "a red cat on a mat" and result.key == "p1/seed0"
    url, auth, body = seen[0]
    assert url == "http://judge.invalid/v1/chat/completions"
    assert auth == f"Bearer {KEY}"
    assert body["model"] == "org/vlm-7b"


def test_missing_api_key_variable_is_named(monkeypatch):
    monkeypatch.delenv("PUNC_MISSING_KEY", raising=False)
    with pytest.raises(PuncError, match="PUNC_MISSING_KEY"):
        build_judge(config(api_key_env="PUNC_MISSING_KEY"))


def test_retries_with_exponential_backoff_then_succeeds(request_one):
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused")
        if len(calls) == 2:
            raise httpx.ReadTimeout("read timed out")
        if len(calls) == 3:
            return httpx.Response(503, json={"error": {"message": "overloaded"}})
        return answer("a cat")

    sleeps: list[float] = []
    judge = make_judge(handler, sleeps, max_retries=3)
    judge.backoff_base_s = 1.0
    (result,) = judge.caption([request_one])
    assert result.ok and result.text == "a cat" and len(calls) == 4
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):  # equal jitter: in [step/2, step], step = base * 2^attempt
        assert 2**attempt / 2 <= delay <= 2**attempt


def test_backoff_has_jitter():
    judge = make_judge(lambda r: answer("x"))
    delays = {round(judge.backoff_delay(3), 6) for _ in range(20)}
    assert len(delays) > 1 and all(2.0 <= d <= 4.0 for d in delays)
    assert judge.backoff_delay(0, retry_after=7.0) == 7.0


def test_failure_after_retries_is_an_error_without_the_key(monkeypatch, request_one):
    monkeypatch.setenv("PUNC_TEST_KEY", KEY)

    def handler(request):  # a server that echoes the header into its error: the key must not leak
        return httpx.Response(
            500, json={"error": {"message": f"boom for {request.headers['authorization']}"}}
        )

    sleeps: list[float] = []
    judge = make_judge(handler, sleeps, api_key_env="PUNC_TEST_KEY", max_retries=2)
    (result,) = judge.caption([request_one])
    assert not result.ok and result.text is None
    assert "failed after 3 attempts" in result.error and "HTTP 500" in result.error
    assert KEY not in result.error and "***" in result.error
    assert len(sleeps) == 2


def test_client_errors_are_not_retried(request_one):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "model does not support images"}})

    (result,) = make_judge(handler).caption([request_one])
    assert len(calls) == 1 and not result.ok
    assert "HTTP 400" in result.error and "does not support images" in result.error


@pytest.mark.parametrize(
    "body", [answer(""), answer(None), answer("   "), httpx.Response(200, text="<html>")]
)
def test_empty_or_broken_answers_are_errors(body, request_one):
    (result,) = make_judge(lambda r: body).caption([request_one])
    assert not result.ok and result.text is None and result.error


def test_concurrency_is_bounded_and_order_kept():
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def handler(request):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return answer(json.loads(request.content)["messages"][0]["content"][1]["text"])

    judge = make_judge(handler, concurrency=3, show_prompt=True, prompt_template="{instruction}|{prompt}")
    images = make_images(12, size=8)
    reqs = [CaptionRequest(key=f"k{i}", image=images[i], prompt_text=f"prompt {i}") for i in range(12)]
    results = judge.caption(reqs)
    assert [r.key for r in results] == [f"k{i}" for i in range(12)]
    assert [r.text for r in results] == [f"Describe this image.|prompt {i}" for i in range(12)]
    assert 1 < state["peak"] <= 3
