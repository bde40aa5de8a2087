"""Any diffusers pipeline, by hub id or local path, with one torch.Generator per image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.fingerprint import local_model_identity
from harness.generators.base import GeneratedImage, Generator, ImageRequest
from harness.hub import resolve_model_source


def pick_device(requested: str | None = None) -> str:
    import torch

    if requested:
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, requested: str | None = None) -> Any:
    """float32 on CPU (half is slow or unsupported there); bfloat16 on GPUs that support it, else float16."""
    import torch

    if requested and requested != "auto":
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def load_pipeline(
    spec: str, device: str | None = None, dtype: str | None = None, revision: str | None = None
):
    """Load with `DiffusionPipeline.from_pretrained`, the same code for hub ids and local folders."""
    import diffusers
    from diffusers import DiffusionPipeline
    from packaging.version import Version

    resolve_model_source(spec, revision, what="diffusers pipeline")
    device = pick_device(device)
    torch_dtype = pick_dtype(device, dtype)
    diffusers.utils.logging.disable_progress_bar()
    # diffusers renamed `torch_dtype` to `dtype` (0.36); older releases only know the former
    dtype_key = "dtype" if Version(diffusers.__version__) >= Version("0.36") else "torch_dtype"
    try:
        pipe = DiffusionPipeline.from_pretrained(spec, revision=revision, **{dtype_key: torch_dtype})
    except (OSError, ValueError) as exc:
        raise PuncError(f"could not load diffusers pipeline '{spec}': {exc}") from None
    pipe = pipe.to(device)
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    return pipe, device, torch_dtype


class DiffusersGenerator(Generator):
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
        self.pipeline_kwargs = pipeline_kwargs
        self.pipe, self.device, self.dtype = load_pipeline(spec, device, dtype, revision)
        self.batch_size = batch_size or (8 if self.device != "cpu" else 64)

    def describe(self) -> dict[str, Any]:
        local = Path(self.spec).exists()
        return {
            "kind": "diffusers",
            "model": Path(self.spec).name if local else self.spec,
            "revision": self.revision or (local_model_identity(self.spec) if local else None),
            "pipeline_class": type(self.pipe).__name__,
        }

    def _recipe(self, request: ImageRequest, call: dict[str, Any]) -> dict[str, Any]:
        import diffusers
        import torch

        scheduler = getattr(self.pipe, "scheduler", None)
        return {
            **self.describe(),
            "scheduler": type(scheduler).__name__ if scheduler is not None else None,
            "scheduler_config": dict(scheduler.config) if scheduler is not None else None,
            "prompt": request.prompt_text,
            "negative_prompt": request.negative_prompt,
            "steps": call.get("num_inference_steps"),
            "guidance": call.get("guidance_scale"),
            "width": call.get("width"),
            "height": call.get("height"),
            "seed": request.seed,
            "generator_device": "cpu",
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": self.device,
            "extra": {**self.pipeline_kwargs, **request.extra},
            "versions": {"diffusers": diffusers.__version__, "torch": torch.__version__},
        }

    def generate(self, requests: Sequence[ImageRequest]) -> list[GeneratedImage]:
        import torch

        first = requests[0]
        call: dict[str, Any] = {}
        if first.steps is not None:
            call["num_inference_steps"] = first.steps
        if first.guidance is not None:
            call["guidance_scale"] = first.guidance
        if first.width is not None:
            call["width"] = first.width
        if first.height is not None:
            call["height"] = first.height
        if first.negative_prompt:
            call["negative_prompt"] = [r.negative_prompt or "" for r in requests]
        # One CPU generator per image: the image depends on its own seed only, not on the batch.
        generators = [torch.Generator("cpu").manual_seed(r.seed) for r in requests]
        try:
            with torch.inference_mode():
                output = self.pipe(
                    prompt=[r.prompt_text for r in requests],
                    generator=generators,
                    output_type="pil",
                    **call,
                    **self.pipeline_kwargs,
                    **first.extra,
                )
        except Exception as exc:  # one bad batch must not end the run: its items fail, others go on
            if len(requests) > 1:
                return [item for r in requests for item in self.generate([r])]
            return [GeneratedImage(request=r, error=f"{type(exc).__name__}: {exc}") for r in requests]
        return [
            GeneratedImage(request=r, image=img, recipe=self._recipe(r, call))
            for r, img in zip(requests, output.images, strict=True)
        ]

    def close(self) -> None:
        import gc

        import torch

        del self.pipe
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
