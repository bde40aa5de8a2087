"""A generator behind any OpenAI-compatible /v1/images/generations endpoint (gpt-image, DALL-E, hosted Flux,
`punc serve-generator`, ...).

`--generator openai-images:MODEL`, options in the task's `generator_kwargs`: `base_url` (default OpenAI's),
`api_key_env` (the variable holding the key; OPENAI_API_KEY for OpenAI's URL), `size` (default from the
task's width/height), `quality`, `concurrency`, `timeout_s`, `max_retries`, `extra_body` (more request
fields, e.g. `{style: vivid}`; a null value drops a default field such as `response_format`).

One request per image (n=1), on `concurrency` threads, retried like the judge's client. Images already in
the run directory are never requested again: the harness asks only for missing items (batch_invariant).
Before the first image, GET {base_url}/models says which fields beyond OpenAI's the server takes
(`punc_parameters`: seed, negative_prompt, num_inference_steps, guidance_scale); a task setting the API
cannot take is refused like a pipeline's (or dropped and recorded with `unsupported_settings: warn`).
The recipe keeps what the API reports: its model snapshot, the revised prompt, the seed it used.
The key is sent as a Bearer header only; it is never logged, stored or put in a message.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx

from harness.errors import PuncError
from harness.generators.base import GeneratedImage, Generator, ImageRequest
from harness.http_retry import RetryPolicy, post_with_retries, snippet
from harness.judges._images import redact

if TYPE_CHECKING:
    from harness.config.task import TaskConfig

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"
# task setting -> request field, for servers that advertise it in punc_parameters
EXTENSION_FIELDS = {
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "negative_prompt": "negative_prompt",
}


class OpenAIImagesGenerator(Generator):
    """An OpenAI-compatible images endpoint (/v1/images/generations), e.g. `punc serve-generator`."""

    batch_invariant = True  # each image is its own request

    def __init__(
        self,
        spec: str,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
        *,
        base_url: str = OPENAI_BASE_URL,
        api_key_env: str | None = None,
        size: str | None = None,
        quality: str | None = None,
        concurrency: int = 4,
        timeout_s: float = 120.0,
        max_retries: int = 3,
        extra_body: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base_s: float = 0.5,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise PuncError(
                f"generator openai-images: unknown generator_kwargs {sorted(unknown)} (known: base_url, "
                "api_key_env, size, quality, concurrency, timeout_s, max_retries, extra_body)"
            )
        if not spec:
            raise PuncError("generator openai-images: name the model, e.g. openai-images:gpt-image-1")
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
            raise PuncError("generator_kwargs.concurrency: an integer from 1 to 256")
        self.model = spec
        self.base_url = base_url.rstrip("/")
        if api_key_env is None and self.base_url == OPENAI_BASE_URL:
            api_key_env = "OPENAI_API_KEY"
        self._key: str | None = None
        if api_key_env:
            self._key = os.environ.get(api_key_env) or None
            if self._key is None:
                raise PuncError(
                    f"generator openai-images: the environment variable {api_key_env} (the API key for "
                    f"{self.base_url}) is not set or empty"
                )
        self.size = size
        self.quality = quality
        self.concurrency = concurrency
        self.extra_body = dict(extra_body or {})
        self.batch_size = batch_size or concurrency * 4
        self.policy = RetryPolicy(max_retries, timeout_s, backoff_base_s, sleep=sleep)
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )
        self.accepted: set[str] = set()
        self.fields: dict[str, Any] = {}
        self.not_applied: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"kind": "openai-images", "model": self.model, "base_url": self.base_url, "revision": None}

    # ---- pre-flight

    def advertised_parameters(self) -> set[str]:
        """Fields beyond OpenAI's that the server lists for this model (empty when it lists none)."""
        try:
            response = self._client.get(f"{self.base_url}/models")
            entries = response.json().get("data", []) if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError, AttributeError):
            return set()
        for entry in entries:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                return {str(p) for p in entry.get("punc_parameters", []) if isinstance(p, str)}
        return set()

    def preflight(self, task: TaskConfig) -> None:
        self.accepted = self.advertised_parameters()
        refused: list[str] = []
        fields: dict[str, Any] = {}
        if (task.width is None) != (task.height is None):
            refused.append("width/height: the images API takes a size WIDTHxHEIGHT, so set both or neither")
        elif task.width is not None:
            fields["size"] = f"{task.width}x{task.height}"
        for setting, name in EXTENSION_FIELDS.items():
            value = getattr(task, setting)
            if value is None:
                continue
            if name in self.accepted:
                fields[name] = value
            else:
                refused.append(f"{setting}: the images API at {self.base_url} takes no '{name}'")
        self.fields = fields
        self.not_applied = refused
        if refused and task.unsupported_settings != "warn":
            reasons = "\n  ".join(refused)
            raise PuncError(
                f"generator 'openai-images:{self.model}' cannot honour the task:\n  {reasons}\n"
                "Change the task, or set `unsupported_settings: warn` in it to run without these settings "
                "(they are then recorded as not applied)."
            )
        for reason in refused:
            log.warning("not applied: %s", reason)

    # ---- generation

    def payload(self, request: ImageRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": request.prompt_text,
            "n": 1,
            "response_format": "b64_json",
        }
        if self.size:
            body["size"] = self.size
        if self.quality:
            body["quality"] = self.quality
        body.update(self.fields)
        if "seed" in self.accepted:
            body["seed"] = request.seed
        body.update(self.extra_body)
        return {k: v for k, v in body.items() if v is not None}

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        if not requests:
            return []
        workers = min(self.concurrency, len(requests))
        if workers == 1:
            return [self._generate_one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="punc-images") as pool:
            return list(pool.map(self._generate_one, requests))

    def _generate_one(self, request: ImageRequest) -> GeneratedImage:
        body = self.payload(request)
        outcome = post_with_retries(self._client, f"{self.base_url}/images/generations", body, self.policy)
        response = outcome.response
        if response is None:
            return GeneratedImage(request=request, error=self._clean(outcome.error or "no answer"))
        if response.status_code >= 400:
            error = f"HTTP {response.status_code} (not retried): {snippet(response)}"
            return GeneratedImage(request=request, error=self._clean(error))
        try:
            answer = response.json()
            item = answer["data"][0]
            if "b64_json" not in item:
                raise ValueError("no b64_json in the answer (this client fetches no URLs)")
            from PIL import Image

            image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"], validate=True)))
            image.load()
            image = image.convert("RGB")
        except (ValueError, KeyError, IndexError, TypeError, binascii.Error, OSError) as exc:
            error = f"the server's answer holds no image ({type(exc).__name__}: {exc}): {snippet(response)}"
            return GeneratedImage(request=request, error=self._clean(error))
        return GeneratedImage(
            request=request, image=image, recipe=self._recipe(request, body, answer, item, image)
        )

    def _recipe(
        self,
        request: ImageRequest,
        body: dict[str, Any],
        answer: dict[str, Any],
        item: dict[str, Any],
        image: Any,
    ) -> dict[str, Any]:
        reported = {
            "model": answer.get("model"),
            "revised_prompt": item.get("revised_prompt"),
            "seed": item.get("seed"),
            "created": answer.get("created"),
        }
        if isinstance(answer.get("punc_recipe"), dict):
            reported["server_recipe"] = answer["punc_recipe"]
        return {
            **self.describe(),
            "prompt": request.prompt_text,
            "seed": request.seed,
            "seed_sent": "seed" in body,
            "request": {k: v for k, v in body.items() if k != "prompt"},
            "steps": body.get("num_inference_steps"),
            "guidance": body.get("guidance_scale"),
            "negative_prompt": body.get("negative_prompt"),
            "width": image.width,
            "height": image.height,
            "not_applied": list(self.not_applied),
            "reported": {k: v for k, v in reported.items() if v is not None},
        }

    def _clean(self, text: str) -> str:
        return redact(text, [self._key])

    def close(self) -> None:
        self._client.close()
