"""The baseline protocol and the resources baselines share (image encoders, the generator pipeline).

A baseline maps the K stored images of one prompt (and the prompt text) to one number u, higher =
more uncertain, and counts the network forward passes it made for that prompt. Heavy models are
loaded lazily and shared between baselines through `Resources`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image

from harness.errors import PuncError


@dataclass
class Outcome:
    """One prompt's baseline value, the passes it cost, and optional components (for z-scoring).

    `extra_scores` are further per-prompt scores of the same computation (each becomes its own row in
    `punc detect`, never summed into u); `info` is bookkeeping (e.g. a one-off fit cost), not a score."""

    u: float
    passes: int
    components: dict[str, float] = field(default_factory=dict)
    extra_scores: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class Resources:
    """Lazily loaded models shared by every baseline of one run (one encoder per spec, one pipeline)."""

    def __init__(
        self, generator_spec: str | None = None, device: str | None = None, judge_config: Any = None
    ) -> None:
        self.generator_spec = generator_spec
        self.device = device
        self.judge_config = judge_config
        self._encoders: dict[str | None, Any] = {}
        self._adapter: Any = None
        self._judge: Any = None

    def encoder(self, spec: str | None) -> Any:
        from harness.baselines.features import ImageEncoder

        if spec not in self._encoders:
            self._encoders[spec] = ImageEncoder.load(spec, self.device)
        return self._encoders[spec]

    def adapter(self) -> Any:
        from harness.baselines.pipeline import PipelineAdapter

        if self._adapter is None:
            if not self.generator_spec:
                raise PuncError("this baseline needs the generator pipeline, but no generator was given")
            from harness.generators.diffusers_pipeline import load_pipeline

            pipe, device, _ = load_pipeline(self.generator_spec, self.device)
            self._adapter = PipelineAdapter(pipe, device)
        return self._adapter

    def judge(self) -> Any:
        """The run's judge (for baselines that caption their own generations), loaded once."""
        if self._judge is None:
            if self.judge_config is None:
                raise PuncError("this baseline captions images, but the run has no judge")
            from harness.judges import build_judge

            self._judge = build_judge(self.judge_config, device=self.device)
        return self._judge

    def close(self) -> None:
        """Drop the models (the generator pipeline can be large) before the next stage."""
        import gc

        self._adapter = None
        if self._judge is not None:
            self._judge.close()
            self._judge = None
        self._encoders.clear()
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass


class Baseline(ABC):
    """An image-space uncertainty baseline: the K images of one prompt -> u (higher = more uncertain).

    Contract: `__init__(self, resources=None, **params)` takes the task YAML's `params` as keyword
    arguments (`from_params` checks their names against that signature); `signature()` names
    everything that changes u; `evaluate()` scores one prompt and may raise for that prompt alone
    (the stage records the failure and goes on). Registered in `harness.registry.BASELINES` or the
    entry-point group `punc.baselines`; the first docstring line is its description in `punc ls`.
    """

    kind: ClassVar[str]
    needs_pipeline: ClassVar[bool] = False

    def __init__(self, resources: Resources | None = None) -> None:
        self.resources = resources or Resources()

    @classmethod
    def from_params(cls, resources: Resources, params: dict[str, Any]) -> Baseline:
        """Build from a task's `params`: unknown names are refused, listing the accepted ones."""
        accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "resources")]
        check_params(getattr(cls, "kind", cls.__name__), params, set(accepted))
        return cls(resources, **params)

    @abstractmethod
    def signature(self) -> str:
        """Method, parameters, encoder and generator identity, library versions."""

    def prepare(self) -> None:
        """Load the models this baseline needs, so that load time is not billed to the first prompt."""
        path = getattr(self, "_encoder_path", None)
        if path is not None:
            self.resources.encoder(path)
        if self.needs_pipeline:
            self.resources.adapter()

    @abstractmethod
    def evaluate(self, prompt_text: str, images: Sequence[Image.Image]) -> Outcome:
        """u for the images of one prompt."""

    def close(self) -> None:
        """Release what this instance holds; safe to call twice. Models live in the shared
        `Resources`, which the baselines stage closes once all baselines are done."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.signature()}>"


def check_params(kind: str, params: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise PuncError(f"baseline '{kind}': unknown params {unknown}; allowed: {sorted(allowed)}")
