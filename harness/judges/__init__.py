"""Judge backends: `build_judge(config)` returns the Judge for `config.backend`.

Backends are imported lazily, so importing this package never imports torch models, vLLM or httpx
clients that a run does not use.
"""

from __future__ import annotations

import importlib.util

from harness.config.judge import JudgeConfig
from harness.errors import PuncError
from harness.judges.base import CaptionRequest, CaptionResult, Judge, empty_caption_error

__all__ = [
    "CaptionRequest",
    "CaptionResult",
    "Judge",
    "available_backends",
    "build_judge",
    "empty_caption_error",
]

BACKENDS = ("transformers", "vllm", "openai")


def available_backends() -> dict[str, bool]:
    """Each backend name and whether it can be built in this environment (vLLM is an optional extra)."""
    return {
        "transformers": importlib.util.find_spec("transformers") is not None,
        "vllm": importlib.util.find_spec("vllm") is not None,
        "openai": importlib.util.find_spec("httpx") is not None,
    }


def build_judge(config: JudgeConfig, device: str | None = None) -> Judge:
    """Load the judge `config` describes; `device` overrides `config.device` (local backends only)."""
    if config.backend == "transformers":
        from harness.judges.transformers_backend import TransformersJudge

        return TransformersJudge(config, device=device)
    if config.backend == "vllm":
        from harness.judges.vllm_backend import VLLMJudge

        return VLLMJudge(config)
    if config.backend == "openai":
        from harness.judges.openai_backend import OpenAIJudge

        return OpenAIJudge(config)
    raise PuncError(f"judge '{config.name}': unknown backend '{config.backend}' (expected one of {BACKENDS})")
