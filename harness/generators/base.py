"""The generator protocol: make images for (prompt, index, seed) requests, each reproducible alone."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from harness.config.task import TaskConfig


@dataclass(frozen=True)
class ImageRequest:
    prompt_id: str
    prompt_text: str
    index: int
    seed: int
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GeneratedImage:
    """One image with the recipe that reproduces it alone, or the error that kept it from being made."""

    request: ImageRequest
    image: Image.Image | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Generator(ABC):
    """Plug-ins (entry-point group `punc.generators`) subclass this; `__init__(spec, **options)`.

    `spec` is what follows `KIND:` in `--generator KIND:SPEC`; options are the run's settings
    (device, dtype, batch_size, ...), each possibly None. The first line of a subclass's docstring is
    its description in `punc ls`.
    """

    #: how many requests `generate` should get at once
    batch_size: int = 8
    #: True when an image does not depend on what else is in its batch (then a resumed run sends only
    #: the missing items); False for models whose batched kernels round differently per batch
    batch_invariant: bool = False
    #: True for generators that read images other tools already made: they take no generation
    #: options, and a run is tied to their source path rather than to a model's content
    reads_existing_images: bool = False

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Identity of the model: kind, model id, revision or content hash. Goes into results and boards."""

    @abstractmethod
    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        """Make one image per request (same order); a failed item carries `error`, the rest still count."""

    def preflight(self, task: "TaskConfig") -> None:  # noqa: UP037
        """Refuse, before the first image, task settings this generator cannot honour (default: none)."""

    def close(self) -> None:
        """Free model memory before the judge loads."""
