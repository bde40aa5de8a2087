"""Serve a diffusers pipeline over the OpenAI images protocol (`punc serve-generator`).

POST /v1/images/generations (also /images/generations) takes OpenAI's fields (`model`, `prompt`, `n`,
`size` "WxH", `response_format` b64_json) plus what diffusers needs and OpenAI lacks: `seed`,
`negative_prompt`, `num_inference_steps`, `guidance_scale`. GET /v1/models lists these under
`punc_parameters`, so a client knows what it may send. Each request's settings are fitted to the
pipeline exactly as `punc eval` fits a task's (harness/generators/call_fitting.py); what the pipeline
cannot honour is answered 400 with the reason, never silently dropped. One request runs the model at a
time (the pipeline is not thread-safe); HTTP threads only parse and wait.
"""

from __future__ import annotations

import base64
import io
import secrets
import threading
import time
import uuid
from typing import Any

from harness.generators.base import ImageRequest
from harness.generators.call_fitting import TaskSettings, fit_call
from harness.generators.diffusers_pipeline import DiffusersGenerator
from harness.http_server import INVALID_BODY, BackgroundHTTPServer, JsonHandler

#: request fields beyond OpenAI's that this server honours
PUNC_PARAMETERS = ("seed", "negative_prompt", "num_inference_steps", "guidance_scale")
MAX_IMAGES_PER_REQUEST = 16


class BadRequest(Exception):
    pass


def parse_size(value: Any) -> tuple[int | None, int | None]:
    """OpenAI's "WIDTHxHEIGHT" (or absent/"auto": the pipeline's default)."""
    if value in (None, "auto"):
        return None, None
    if isinstance(value, str):
        width, sep, height = value.lower().partition("x")
        if (
            sep
            and width.isdigit()
            and height.isdigit()
            and 8 <= int(width) <= 8192
            and 8 <= int(height) <= 8192
        ):
            return int(width), int(height)
    raise BadRequest(f"size: 'WIDTHxHEIGHT' with sides from 8 to 8192, or 'auto' (got {value!r})")


def _optional(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise BadRequest(f"{name}: expected {getattr(kind, '__name__', 'a number')} (got {value!r})")
    return value


def parse_generation_request(body: Any) -> dict[str, Any]:
    """The settings of an images/generations body; BadRequest says what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest("prompt: a non-empty string")
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_IMAGES_PER_REQUEST:
        raise BadRequest(f"n: an integer from 1 to {MAX_IMAGES_PER_REQUEST}")
    response_format = body.get("response_format", "b64_json")
    if response_format not in (None, "b64_json"):
        raise BadRequest("response_format: only b64_json (this server keeps no image files to link to)")
    width, height = parse_size(body.get("size"))
    seed = _optional(body, "seed", int)
    if seed is not None and not 0 <= seed < 2**63:
        raise BadRequest("seed: an integer from 0 to 2**63 - 1")
    steps = _optional(body, "num_inference_steps", int)
    if steps is not None and not 1 <= steps <= 1000:
        raise BadRequest("num_inference_steps: an integer from 1 to 1000")
    guidance = _optional(body, "guidance_scale", (int, float))
    negative = _optional(body, "negative_prompt", str)
    return {
        "prompt": prompt,
        "n": n,
        "width": width,
        "height": height,
        "seed": seed,
        "steps": steps,
        "guidance": float(guidance) if guidance is not None else None,
        "negative_prompt": negative or None,
    }


def image_to_b64_png(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class ImageServer(BackgroundHTTPServer):
    """A running images/generations server around a DiffusersGenerator; use as a context manager."""

    command = "serve-generator"

    def __init__(
        self,
        generator: DiffusersGenerator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        model_name: str | None = None,
        api_key: str | None = None,
        handler: type[ImageHandler] | None = None,
    ) -> None:
        self.generator = generator
        self.model_name = model_name or str(generator.describe()["model"])
        self._model_lock = threading.Lock()
        super().__init__(handler or ImageHandler, host, port, api_key)

    def generate(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Fit, generate, and build the response body; BadRequest when the pipeline cannot honour it."""
        fitted = fit_call(
            self.generator.pipe,
            TaskSettings(
                steps=settings["steps"],
                guidance=settings["guidance"],
                negative_prompt=settings["negative_prompt"],
                width=settings["width"],
                height=settings["height"],
            ),
            self.generator.pipeline_kwargs,
        )
        if fitted.refused:
            raise BadRequest("; ".join(fitted.refused))
        base_seed = settings["seed"] if settings["seed"] is not None else secrets.randbelow(2**31)
        requests = [
            ImageRequest(prompt_id="request", prompt_text=settings["prompt"], index=i, seed=base_seed + i)
            for i in range(settings["n"])
        ]
        started = time.perf_counter()
        with self._model_lock:
            items = self.generator.generate_fitted(requests, fitted)
        self.count("images", len(items))
        self.count("generate_ms", int((time.perf_counter() - started) * 1000))
        failed = [item.error for item in items if item.error or item.image is None]
        if failed:
            raise RuntimeError(failed[0] or "no image")
        recipe = items[0].recipe
        return {
            "created": int(time.time()),
            "model": self.model_name,
            "data": [
                {
                    "b64_json": image_to_b64_png(item.image),
                    "revised_prompt": settings["prompt"],
                    "seed": item.request.seed,
                }
                for item in items
            ],
            "punc_recipe": {
                key: recipe.get(key)
                for key in (
                    "pipeline_class",
                    "revision",
                    "scheduler",
                    "steps",
                    "guidance",
                    "negative_prompt",
                    "dtype",
                    "device",
                    "applied",
                    "pipeline_defaults",
                    "versions",
                )
            },
        }


class ImageHandler(JsonHandler):
    server_ref: ImageServer
    server_version = "punc-serve-generator"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server_ref
        path = self._route()
        if path in ("/health", "/v1/health"):
            self._send_json(200, {"status": "ok", "model": server.model_name})
        elif path in ("/v1/models", "/models"):
            model = {
                "id": server.model_name,
                "object": "model",
                "created": int(time.time()),
                "owned_by": "punc",
                "punc_parameters": list(PUNC_PARAMETERS),
            }
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_error(404, f"no route GET {path}", "not_found")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server_ref
        path = self._route()
        raw = self._read_body()
        if raw is None:
            return
        if path not in ("/v1/images/generations", "/images/generations"):
            self._send_error(404, f"no route POST {path}", "not_found")
            return
        server.count("requests")
        if not server.authorized(self.headers.get("Authorization")):
            self._send_error(401, "invalid or missing API key", "authentication_error")
            return
        body = self._parse_body(raw)
        if body is INVALID_BODY:
            return
        try:
            settings = parse_generation_request(body)
        except BadRequest as exc:
            self._send_error(400, str(exc))
            return
        self.answer(settings)

    def answer(self, settings: dict[str, Any]) -> None:
        """Generate and reply (a test's fault-injecting handler overrides this, the rest stays real)."""
        try:
            body = self.server_ref.generate(settings)
        except BadRequest as exc:
            self._send_error(400, str(exc))
            return
        except Exception as exc:  # the pipeline failed: the client may retry
            self._send_error(500, f"generation failed: {type(exc).__name__}: {exc}"[:500], "server_error")
            return
        body["id"] = f"img-{uuid.uuid4().hex}"
        self._send_json(200, body)
