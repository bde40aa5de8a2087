"""POST with retries, shared by the clients of OpenAI-compatible servers (judges, image generators).

5xx, 408/409/425/429, timeouts and connection errors are retried with exponential backoff and 'equal
jitter' (a server's Retry-After is honoured up to the cap); other 4xx answers are returned at once.
Secrets never reach a message: callers pass theirs to `redact`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass
class PostOutcome:
    """The final answer (any status but a retryable one), or why every attempt failed."""

    response: httpx.Response | None
    error: str | None
    attempts: int


@dataclass
class RetryPolicy:
    max_retries: int = 3
    timeout_s: float = 60.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with 'equal jitter': half the step fixed, half random."""
        step = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        delay = step / 2 + random.uniform(0, step / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max_s))
        return delay


def post_with_retries(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    policy: RetryPolicy,
    on_retry: Callable[[int, str, float], None] | None = None,
) -> PostOutcome:
    attempts = policy.max_retries + 1
    last_error = "no attempt made"
    for attempt in range(attempts):
        retry_after: float | None = None
        try:
            response = client.post(url, json=payload)
        except httpx.TimeoutException as exc:
            last_error = f"timed out after {policy.timeout_s:g} s ({type(exc).__name__})"
        except httpx.TransportError as exc:
            last_error = f"connection failed ({type(exc).__name__}: {exc})"
        else:
            if response.status_code not in RETRYABLE_STATUS:
                return PostOutcome(response, None, attempt + 1)
            last_error = f"HTTP {response.status_code}: {snippet(response)}"
            retry_after = retry_after_seconds(response)
        if attempt + 1 < attempts:
            delay = policy.delay(attempt, retry_after)
            if on_retry is not None:
                on_retry(attempt + 1, last_error, delay)
            policy.sleep(delay)
    plural = "s" if attempts > 1 else ""
    return PostOutcome(None, f"failed after {attempts} attempt{plural}: {last_error}", attempts)


def snippet(response: httpx.Response, limit: int = 200) -> str:
    """The error message of an answer (OpenAI's {"error": {"message"}} or the raw text), shortened."""
    try:
        body = response.json()
        message = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except Exception:
        text = response.text
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "") if text else "(empty body)"


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
