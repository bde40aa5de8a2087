"""Any diffusers pipeline, by hub id or local path, with one torch.Generator per image."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.devices import pick_device, pick_dtype
from harness.errors import PuncError
from harness.fingerprint import local_model_identity
from harness.generators.base import GeneratedImage, Generator, ImageRequest
from harness.generators.call_fitting import FittedCall, TaskSettings, fit_call
from harness.generators.single_file import (
    SINGLE_FILE_KWARGS,
    inferred_config_repo,
    is_single_file,
    load_single_file_pipeline,
)
from harness.hub import resolve_model_source

if TYPE_CHECKING:
    from harness.config.task import TaskConfig

log = logging.getLogger(__name__)


def load_pipeline(
    spec: str,
    device: str | None = None,
    dtype: str | None = None,
    revision: str | None = None,
    single_file_options: dict[str, Any] | None = None,
):
    """Load with `DiffusionPipeline.from_pretrained`, the same code for hub ids and local folders; a
    `.safetensors` file goes through `from_single_file` (harness/generators/single_file.py)."""
    import diffusers
    from diffusers import DiffusionPipeline
    from packaging.version import Version

    resolve_model_source(spec, revision, what="diffusers pipeline")
    device = pick_device(device, mps=True)
    torch_dtype = pick_dtype(device, dtype, half_on_mps=True)
    diffusers.utils.logging.disable_progress_bar()
    # diffusers renamed `torch_dtype` to `dtype` (0.36); older releases only know the former
    dtype_key = "dtype" if Version(diffusers.__version__) >= Version("0.36") else "torch_dtype"
    if is_single_file(spec):
        pipe = load_single_file_pipeline(spec, single_file_options or {}, {dtype_key: torch_dtype})
        return _ready(pipe, device), device, torch_dtype
    try:
        pipe = DiffusionPipeline.from_pretrained(spec, revision=revision, **{dtype_key: torch_dtype})
    except (OSError, ValueError) as exc:
        raise PuncError(f"could not load diffusers pipeline '{spec}': {exc}") from None
    return _ready(pipe, device), device, torch_dtype


def _ready(pipe: Any, device: str) -> Any:
    pipe = pipe.to(device)
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    return pipe


class DiffusersGenerator(Generator):
    """A diffusers pipeline: a hub id, a local folder with model_index.json, or a single checkpoint file."""

    def __init__(
        self,
        spec: str,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | None = None,
        batch_size: int | None = None,
        **pipeline_kwargs: Any,
    ) -> None:
        self.spec = spec
        self.revision = revision
        single_file_options = {k: pipeline_kwargs.pop(k) for k in SINGLE_FILE_KWARGS if k in pipeline_kwargs}
        self.single_file = is_single_file(spec)
        if single_file_options and not self.single_file:
            keys = ", ".join(f"generator_kwargs.{k}" for k in single_file_options)
            raise PuncError(
                f"{keys}: only for single-file checkpoints (a .safetensors file), not for '{spec}'"
            )
        self.single_file_options = single_file_options
        self.pipeline_kwargs = pipeline_kwargs
        self.pipe, self.device, self.dtype = load_pipeline(spec, device, dtype, revision, single_file_options)
        self.batch_size = batch_size or (8 if self.device != "cpu" else 64)
        self.fitted: FittedCall | None = None
        self.unsupported_settings = "refuse"

    def describe(self) -> dict[str, Any]:
        local = Path(self.spec).exists()
        return {
            "kind": "diffusers",
            "model": Path(self.spec).name if local else self.spec,
            "revision": self.revision or (local_model_identity(self.spec) if local else None),
            "pipeline_class": type(self.pipe).__name__,
            **({"single_file": self._single_file_description()} if self.single_file else {}),
        }

    def _single_file_description(self) -> dict[str, Any]:
        config = self.single_file_options.get("config")
        return {
            "loader": "from_single_file",
            "config": Path(config).name
            if config and Path(config).exists()
            else config or inferred_config_repo(self.spec),
            "config_inferred": config is None,
            "pipeline_class_given": self.single_file_options.get("pipeline_class") is not None,
        }

    def preflight(self, task: TaskConfig) -> None:
        """Fit the task's settings to this pipeline's call; refuse what it cannot honour, before any image."""
        settings = TaskSettings(
            steps=task.steps,
            guidance=task.guidance,
            negative_prompt=task.negative_prompt,
            width=task.width,
            height=task.height,
        )
        self.unsupported_settings = task.unsupported_settings
        self.fitted = self._fit(settings)

    def _fit(self, settings: TaskSettings) -> FittedCall:
        fitted = fit_call(self.pipe, settings, self.pipeline_kwargs)
        if fitted.refused and self.unsupported_settings != "warn":
            reasons = "\n  ".join(fitted.refused)
            raise PuncError(
                f"generator '{self.spec}' cannot honour the task:\n  {reasons}\n"
                "Change the task, or set `unsupported_settings: warn` in it to run without these settings "
                "(they are then recorded as not applied)."
            )
        for reason in fitted.refused:
            log.warning("not applied: %s", reason)
        return fitted

    def _recipe(self, request: ImageRequest, fitted: FittedCall, image: Any) -> dict[str, Any]:
        import diffusers
        import torch

        scheduler = getattr(self.pipe, "scheduler", None)
        call = fitted.call
        steps = call.get("num_inference_steps", fitted.pipeline_defaults.get("num_inference_steps"))
        return {
            **self.describe(),
            "scheduler": type(scheduler).__name__ if scheduler is not None else None,
            "scheduler_config": dict(scheduler.config) if scheduler is not None else None,
            "prompt": request.prompt_text,
            "negative_prompt": fitted.applied.get("negative_prompt"),
            "steps": steps,
            "guidance": fitted.applied.get("guidance"),
            "width": image.width,
            "height": image.height,
            "seed": request.seed,
            "generator_device": "cpu",
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device,
            "call": {k: v for k, v in call.items()},
            "applied": dict(fitted.applied),
            "pipeline_defaults": dict(fitted.pipeline_defaults),
            "notes": list(fitted.notes),
            "not_applied": list(fitted.refused),
            "extra": {**self.pipeline_kwargs, **request.extra},
            "versions": {"diffusers": diffusers.__version__, "torch": torch.__version__},
        }

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        first = requests[0]
        fitted = self.fitted
        if fitted is None or first.extra:
            settings = TaskSettings(
                first.steps, first.guidance, first.negative_prompt, first.width, first.height
            )
            fitted = fit_call(self.pipe, settings, {**self.pipeline_kwargs, **first.extra})
            if fitted.refused and self.unsupported_settings != "warn":
                error = "not applicable to this pipeline: " + "; ".join(fitted.refused)
                return [GeneratedImage(request=r, error=error) for r in requests]
        return self.generate_fitted(requests, fitted)

    def generate_fitted(self, requests: Sequence[ImageRequest], fitted: FittedCall) -> list[GeneratedImage]:
        """Generate with an already fitted call (pre-flight's, or a server request's own)."""
        import torch

        call = dict(fitted.call)
        if "negative_prompt" in call:
            call["negative_prompt"] = [call["negative_prompt"]] * len(requests)
        try:
            # One CPU generator per image: the image depends on its own seed only, not on the batch.
            # Inside the try: a seed torch refuses (out of range) fails its own item, not the batch.
            generators = [torch.Generator("cpu").manual_seed(r.seed) for r in requests]
            with torch.inference_mode():
                output = self.pipe(
                    prompt=[r.prompt_text for r in requests],
                    generator=generators,
                    output_type="pil",
                    **call,
                )
        except Exception as exc:  # one bad batch must not end the run: its items fail, others go on
            if len(requests) > 1:
                return [item for r in requests for item in self.generate_fitted([r], fitted)]
            return [GeneratedImage(request=r, error=f"{type(exc).__name__}: {exc}") for r in requests]
        return [
            GeneratedImage(request=r, image=img, recipe=self._recipe(r, fitted, img))
            for r, img in zip(requests, output.images, strict=True)
        ]

    def close(self) -> None:
        import gc

        import torch

        self.pipe = None  # not `del`: a second close() must be safe
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
