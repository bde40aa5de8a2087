"""Judge backends: `build_judge(config)` returns the Judge registered for `config.backend`.

Backends are registered in `harness.registry.JUDGES` (plug-ins: entry-point group `punc.judges`) and
imported lazily, so importing this package never imports torch models, vLLM or httpx clients that a
run does not use.
"""

from __future__ import annotations

import importlib.util

from harness.config.judge import JudgeConfig
from harness.judges.base import CaptionRequest, CaptionResult, Judge, empty_caption_error
from harness.registry import JUDGES

__all__ = [
    "CaptionRequest",
    "CaptionResult",
    "Judge",
    "available_backends",
    "build_judge",
    "empty_caption_error",
]


def available_backends() -> dict[str, bool]:
    """Each backend name and whether it can be built in this environment (vLLM is an optional extra)."""
    found = {}
    for name in JUDGES.names():
        package = JUDGES.get(name).requires
        found[name] = package is None or importlib.util.find_spec(package) is not None
    return found


def build_judge(config: JudgeConfig, device: str | None = None) -> Judge:
    """Load the judge `config` describes; `device` overrides `config.device` (local backends only)."""
    return JUDGES.get(config.backend).from_config(config, device=device)
