"""Serve a transformers judge over the OpenAI chat-completions protocol (`punc serve-judge`).

Endpoints: POST /v1/chat/completions (also /chat/completions), GET /v1/models, GET /health.
HTTP threads only parse and wait; one batcher thread owns the model (it is not thread-safe) and groups
requests that arrive together into batches of up to `batch_size`.

Fault injection, for testing clients (not shown in --help): a JSON plan mapping an image key (see
`image_fault_key`) or "*" (every image) to the actions of that image's successive requests, e.g.
`{"*": ["500", "drop", "slow:2.5", "empty"]}`; later requests are answered normally. Actions: an HTTP
status code ("500", "503", "429"), "drop" (close the connection without answering), "slow:SECONDS"
(wait, then answer), "empty" (answer with an empty caption), "ok".
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from harness.config.judge import DecodingConfig
from harness.errors import PuncError, printable
from harness.http_server import INVALID_BODY, BackgroundHTTPServer, JsonHandler
from harness.judges._images import data_url_payload, data_url_to_image
from harness.judges.transformers_backend import GenerationItem, GenerationOutput, TransformersJudge
from harness.safe_load import parse_json

log = logging.getLogger(__name__)

FAULTS_ENV = "PUNC_SERVE_JUDGE_FAULTS"


def image_fault_key(image_url: str) -> str:
    """The key of an image in a fault plan: sha256 of its data URL's base64 payload, 16 hex digits."""
    return hashlib.sha256(data_url_payload(image_url).encode("ascii")).hexdigest()[:16]


def parse_fault_plan(text: str | None) -> dict[str, list[str]]:
    """Validate a fault plan (JSON text); PuncError says what is wrong."""
    if not text:
        return {}
    try:
        plan = parse_json(text)
    except ValueError as exc:
        raise PuncError(f"fault plan: expected {exc}") from None
    if not isinstance(plan, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(a, str) for a in v)
        for k, v in plan.items()
    ):
        raise PuncError('fault plan: expected {"IMAGE_KEY or *": ["500", "drop", "slow:2", "empty", ...]}')
    for actions in plan.values():
        for action in actions:
            if action in ("drop", "empty", "ok") or (action.isdigit() and 400 <= int(action) <= 599):
                continue
            if action.startswith("slow:"):
                try:
                    float(action[5:])
                    continue
                except ValueError:
                    pass
            raise PuncError(
                f"fault plan: unknown action '{action}' (HTTP status, drop, slow:SECONDS, empty, ok)"
            )
    return plan


class FaultInjector:
    """Counts requests per image and returns the planned action of each one."""

    def __init__(self, plan: dict[str, list[str]]) -> None:
        self.plan = plan
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def action(self, image_key: str) -> str:
        if not self.plan:
            return "ok"
        with self._lock:
            index = self._counts[image_key]
            self._counts[image_key] += 1
        actions = self.plan.get(image_key, self.plan.get("*", []))
        return actions[index] if index < len(actions) else "ok"


@dataclass
class _Pending:
    item: GenerationItem
    params: tuple[float, float, int | None, int]
    done: threading.Event = field(default_factory=threading.Event)
    output: GenerationOutput | None = None


class _BadRequest(Exception):
    pass


class JudgeServer(BackgroundHTTPServer):
    """A running chat-completions server around a TransformersJudge; use as a context manager."""

    command = "serve-judge"

    def __init__(
        self,
        judge: TransformersJudge,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        model_name: str | None = None,
        api_key: str | None = None,
        faults: dict[str, list[str]] | None = None,
        batch_wait_s: float = 0.005,
        workers: int = 32,
        backlog: int = 256,
        idle_timeout_s: float = 15.0,
        read_timeout_s: float = 30.0,
        max_image_pixels: int | None = None,
    ) -> None:
        self.judge = judge
        self.model_name = model_name or judge.config.name
        self.faults = FaultInjector(faults or {})
        self.batch_wait_s = batch_wait_s
        self.max_image_pixels = max_image_pixels
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._model_lock = threading.Lock()
        super().__init__(
            _Handler,
            host,
            port,
            api_key,
            workers=workers,
            backlog=backlog,
            idle_timeout_s=idle_timeout_s,
            read_timeout_s=read_timeout_s,
        )

    def workers(self) -> list[tuple[str, Callable[[], None]]]:
        return [("punc-judge-batcher", self._batch_loop)]

    # ---- generation

    def submit(self, item: GenerationItem, decoding: DecodingConfig, max_new_tokens: int) -> GenerationOutput:
        params = (decoding.temperature, decoding.top_p, decoding.top_k, max_new_tokens)
        pending = _Pending(item=item, params=params)
        self._queue.put(pending)
        while not pending.done.wait(timeout=0.2):
            if self._stop.is_set():  # stopped with this request still queued: answer, never hang
                return GenerationOutput(error="the judge server is shutting down")
        assert pending.output is not None
        return pending.output

    def _batch_loop(self) -> None:
        size = self.judge.config.batch_size
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < size:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(
                        self._queue.get(timeout=max(remaining, 0))
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
            groups: dict[tuple[float, float, int | None, int], list[_Pending]] = defaultdict(list)
            for pending in batch:
                groups[pending.params].append(pending)
            for (temperature, top_p, top_k, max_new_tokens), members in groups.items():
                decoding = self.judge.config.decoding.model_copy(
                    update={"temperature": temperature, "top_p": top_p, "top_k": top_k}
                )
                started = time.perf_counter()
                try:
                    with self._model_lock:
                        outputs = self.judge.generate([m.item for m in members], decoding, max_new_tokens)
                except Exception as exc:  # generate reports per item; this is a last resort
                    outputs = [GenerationOutput(error=f"{type(exc).__name__}: {exc}") for _ in members]
                self.count("batches")
                self.count("generate_ms", int((time.perf_counter() - started) * 1000))
                for pending, output in zip(members, outputs, strict=True):
                    pending.output = output
                    pending.done.set()

    def decoding_for(self, body: dict[str, Any]) -> tuple[DecodingConfig, int]:
        """The request's decoding: its temperature/top_p/top_k/max_tokens over the judge YAML's."""
        base = self.judge.config.decoding
        update: dict[str, Any] = {}
        for name in ("temperature", "top_p", "top_k"):
            value = body.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _BadRequest(f"{name}: expected a number")
            update[name] = value
        if "top_k" in update and update["top_k"] in (0, -1):  # vLLM's "disabled"
            update["top_k"] = None
        try:
            decoding = DecodingConfig.model_validate({**base.model_dump(), **update})
        except ValidationError as exc:
            raise _BadRequest(f"invalid sampling parameters: {exc.errors()[0].get('msg')}") from None
        if decoding.sampling and decoding.num_beams > 1:
            decoding = decoding.model_copy(update={"num_beams": 1})
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if max_tokens is None:
            max_tokens = self.judge.config.max_new_tokens
        if not _is_int(max_tokens) or not 1 <= max_tokens <= 8192:
            raise _BadRequest("max_tokens: expected an integer from 1 to 8192")
        limit = getattr(self.judge, "max_new_tokens_limit", None)
        if limit is not None and max_tokens > limit:
            raise _BadRequest(f"max_tokens: this judge's model generates at most {limit} tokens")
        return decoding, max_tokens


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def request_seed(body: dict[str, Any]) -> int | None:
    """The request's seed: absent/null, or an integer in [0, 2**63); anything else is a 400."""
    seed = body.get("seed")
    if seed is None:
        return None
    if not _is_int(seed) or not 0 <= seed < 2**63:
        raise _BadRequest("seed: expected an integer from 0 to 2**63 - 1")
    return seed


def parse_chat_request(body: Any) -> tuple[str, str]:
    """The (instruction, image data URL) of a chat-completions body: the last user turn's parts."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise _BadRequest("expected a JSON object with a non-empty 'messages' list")
    users = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise _BadRequest("expected a message with role 'user'")
    content = users[-1].get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _BadRequest("expected the user message's content to be a list of parts")
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if isinstance(url, str):
                images.append(url)
    if len(images) != 1:
        raise _BadRequest(f"expected exactly one image_url part (a base64 data URL), got {len(images)}")
    if not images[0].startswith("data:"):
        raise _BadRequest("image_url: only base64 data URLs are accepted (this server fetches nothing)")
    return "\n".join(texts).strip(), images[0]


class _Handler(JsonHandler):
    server_ref: JudgeServer
    server_version = "punc-serve-judge"

    # ---- routes

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server_ref
        path = self.path.split("?")[0].rstrip("/")
        if path in ("/health", "/v1/health"):
            self._send_json(200, {"status": "ok", "model": server.model_name})
        elif path in ("/v1/models", "/models"):
            created = int(time.time())
            model = {"id": server.model_name, "object": "model", "created": created, "owned_by": "punc"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_error(404, f"no route GET {printable(path)[:200]}", "not_found")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server_ref
        path = self._route()
        raw = self._read_body()
        if raw is None:
            return
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"no route POST {printable(path)[:200]}", "not_found")
            return
        server.count("requests")
        if not server.authorized(self.headers.get("Authorization")):
            self._send_error(401, "invalid or missing API key", "authentication_error")
            return
        body = self._parse_body(raw)
        if body is INVALID_BODY:
            return
        try:
            instruction, image_url = parse_chat_request(body)
            decoding, max_tokens = server.decoding_for(body)
            seed = request_seed(body)
            action = server.faults.action(image_fault_key(image_url))
        except (_BadRequest, ValueError) as exc:
            self._send_error(400, str(exc))
            return
        if action.isdigit():
            server.count("faults")
            self._send_error(int(action), "injected fault", "server_error")
            return
        if action == "drop":
            server.count("faults")
            self._drop()
            return
        if action.startswith("slow:"):
            server.count("faults")
            time.sleep(float(action[5:]))
        try:
            image = data_url_to_image(image_url, server.max_image_pixels)
        except ValueError as exc:
            self._send_error(400, f"image_url: {exc}")
            return
        if seed is None:
            seed = uuid.uuid4().int % (2**31 - 1) if decoding.sampling else 0
        item = GenerationItem(
            image=image, instruction=instruction or server.judge.config.instruction, seed=seed
        )
        if action == "empty":
            output = GenerationOutput(text="")
        else:
            output = server.submit(item, decoding, max_tokens)
        if output.error is not None:
            self._send_error(500, output.error, "server_error")
            return
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": server.model_name,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": output.text or ""},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": output.prompt_tokens,
                    "completion_tokens": output.completion_tokens,
                    "total_tokens": output.prompt_tokens + output.completion_tokens,
                },
            },
        )
