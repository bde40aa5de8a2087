"""The judge protocol: caption images; every backend (transformers, vLLM, OpenAI-compatible) implements it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from harness.config.judge import JudgeConfig

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class CaptionRequest:
    """One caption to make: `key` is opaque to the judge and comes back unchanged."""

    key: str
    image: Image.Image
    prompt_text: str
    sample_index: int = 0


@dataclass(frozen=True)
class CaptionResult:
    """Exactly one of `text` (non-empty caption) or `error` (why this item failed) is set."""

    key: str
    text: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.text and self.text.strip())


class Judge(ABC):
    """Backends never raise for a single bad item: they return a CaptionResult with `error` instead.

    A backend is registered under its `backend:` name (`harness.registry.JUDGES`, or the entry-point
    group `punc.judges`); its options are `config_class`, a JudgeConfig subclass whose `backend`
    field is `Literal["that-name"]`. The first line of its docstring is its description in `punc ls`.
    """

    #: the backend's options: a JudgeConfig subclass with `backend: Literal["<name>"]`
    config_class: ClassVar[type[JudgeConfig]]
    #: the package the backend imports, checked by `available_backends()` (None: nothing extra)
    requires: ClassVar[str | None] = None
    #: True when a caption does not depend on what else is in its batch (a remote server answers each
    #: request alone): a resumed run then sends only the missing items.
    batch_invariant: bool = False

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config

    @classmethod
    def from_config(cls, config: JudgeConfig, device: str | None = None) -> Judge:
        """Build the judge; `device` overrides the config's device where the backend runs locally."""
        return cls(config)

    @property
    def fingerprint(self) -> str:
        return self.config.fingerprint

    @abstractmethod
    def caption(self, requests: Sequence[CaptionRequest]) -> list[CaptionResult]:
        """Caption a batch; results in the order of `requests`."""

    def describe(self) -> dict[str, object]:
        return {"name": self.config.name, "backend": self.config.backend, "model": self.config.model}

    def close(self) -> None:
        """Free model memory before the next stage loads its own; safe to call twice."""


def empty_caption_error(text: str | None) -> str | None:
    """An empty answer is a failure, never a caption: it would score as total uncertainty."""
    return None if text and text.strip() else "the judge returned an empty caption"
