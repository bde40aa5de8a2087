"""A judge behind any OpenAI-compatible chat-completions server (vLLM serve, punc serve-judge, hosted APIs).

Each request is one POST `{base_url}/chat/completions` with the image as a base64 PNG data URL. Requests
run on `concurrency` threads; 5xx, 408/429, timeouts and connection errors are retried `max_retries`
times with exponential backoff and jitter. What still fails comes back as CaptionResult.error, never
as a caption. The API key (from the environment variable `api_key_env`) is sent as a Bearer header
only: it is never logged, stored or put in a message.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from harness.config.judge import JudgeConfig, OpenAIJudgeConfig
from harness.errors import PuncError
from harness.http_retry import RetryPolicy, post_with_retries, snippet
from harness.judges._images import image_to_data_url, redact, sample_seed
from harness.judges.base import CaptionRequest, CaptionResult, Judge, empty_caption_error
from harness.redact import SecretRefused, check_key
from harness.redact import register as register_secret

log = logging.getLogger(__name__)


def build_messages(instruction: str, image_data_url: str) -> list[dict[str, Any]]:
    """One user turn: the image, then the instruction (the order local chat judges use too)."""
    return [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": image_data_url}},
                {"type": "text", "text": instruction},
            ],
        }
    ]


def build_payload(config: JudgeConfig, request: CaptionRequest) -> dict[str, Any]:
    """The chat-completions body for one caption; the seed is specific to (key, sample_index)."""
    decoding = config.decoding
    payload: dict[str, Any] = {
        "model": config.model,
        "messages": build_messages(
            config.render_instruction(request.prompt_text), image_to_data_url(request.image)
        ),
        "max_tokens": config.max_new_tokens,
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
        "seed": sample_seed(decoding.seed, request.key, request.sample_index),
        "n": 1,
        "stream": False,
    }
    if decoding.top_k is not None:  # not in the OpenAI API; vLLM and punc serve-judge accept it
        payload["top_k"] = decoding.top_k
    if decoding.repetition_penalty is not None:
        payload["repetition_penalty"] = decoding.repetition_penalty
    return payload


def parse_content(body: Any) -> str | None:
    """The assistant text of a chat-completions answer (string or list of text parts)."""
    choice = body["choices"][0]
    content = choice["message"].get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if content is None else str(content).strip()


class OpenAIJudge(Judge):
    """Any OpenAI-compatible chat-completions server (vllm serve, punc serve-judge, a hosted API)."""

    config_class = OpenAIJudgeConfig
    requires = "httpx"
    config: OpenAIJudgeConfig
    batch_invariant = True  # each image is its own request

    def __init__(
        self,
        config: OpenAIJudgeConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        super().__init__(config)
        if not config.base_url:
            raise PuncError(f"judge '{config.name}': backend openai needs base_url")
        self._key: str | None = None
        if config.api_key_env:
            self._key = os.environ.get(config.api_key_env) or None
            if self._key is None:
                raise PuncError(
                    f"judge '{config.name}': the environment variable {config.api_key_env} (the API key "
                    f"for {config.base_url}) is not set or empty"
                )
            register_secret(self._key)  # scrubbed from every message from now on, even if refused below
            try:
                check_key(self._key, f"judge '{config.name}': environment variable {config.api_key_env}")
            except SecretRefused as exc:
                raise PuncError(str(exc)) from None
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self._sleep = sleep
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(
                max_connections=config.concurrency, max_keepalive_connections=config.concurrency
            ),
            transport=transport,
        )

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "base_url": self.config.base_url}

    def caption(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        if not requests:
            return []
        workers = min(self.config.concurrency, len(requests))
        if workers == 1:
            return [self._caption_one(request) for request in requests]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="punc-openai") as pool:
            return list(pool.map(self._caption_one, requests))

    def close(self) -> None:
        self._client.close()

    # ---- one request

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.config.max_retries,
            timeout_s=self.config.timeout_s,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
            sleep=self._sleep,
        )

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with 'equal jitter': half the step fixed, half random."""
        return self.retry_policy().delay(attempt, retry_after)

    def _caption_one(self, request: CaptionRequest) -> CaptionResult:
        try:
            payload = build_payload(self.config, request)
        except Exception as exc:
            return CaptionResult(key=request.key, error=self._clean(f"cannot encode the image: {exc}"))

        def on_retry(attempt: int, error: str, delay: float) -> None:
            log.debug(
                "caption %s: attempt %d failed (%s); retrying in %.2f s",
                request.key,
                attempt,
                self._clean(error),
                delay,
            )

        outcome = post_with_retries(self._client, self.url, payload, self.retry_policy(), on_retry)
        response = outcome.response
        if response is None:
            return CaptionResult(key=request.key, error=self._clean(outcome.error or "no answer"))
        if response.status_code >= 400:
            error = f"HTTP {response.status_code} (not retried): {snippet(response)}"
            return CaptionResult(key=request.key, error=self._clean(error))
        return self._result(request, response)

    def _result(self, request: CaptionRequest, response: httpx.Response) -> CaptionResult:
        try:
            text = parse_content(response.json())
        except Exception as exc:
            error = (
                f"the server's answer is not a chat completion ({type(exc).__name__}): {snippet(response)}"
            )
            return CaptionResult(key=request.key, error=self._clean(error))
        error = empty_caption_error(text)
        return CaptionResult(key=request.key, text=None if error else text, error=error)

    def _clean(self, text: str) -> str:
        return redact(text, [self._key])
