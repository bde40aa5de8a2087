"""Fit a task's generation settings to one diffusers pipeline's own call signature.

Pipelines differ: some take no `negative_prompt` (Flux2, LCM swallows it in `**kwargs`), some gate
classifier-free guidance behind another name (`true_cfg_scale` in Flux and QwenImage, where
`guidance_scale` is a distilled-guidance embedding or ignored), and most ignore a negative prompt unless
guidance is on. Passing settings blindly either crashes every image or silently ignores them while the
recipe claims they were applied. `fit_call` decides, from the signature and the loaded components, what
to pass and what each setting became; settings that cannot be honoured are listed as `refused`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

# The pipeline arguments the harness sets itself for every call.
HARNESS_ARGUMENTS = frozenset({"prompt", "generator", "output_type"})
# Signature defaults that do not shape an image (inputs given another way, or output plumbing).
NOT_SHAPING = frozenset(
    {
        "prompt",
        "prompt_2",
        "prompt_3",
        "generator",
        "output_type",
        "return_dict",
        "num_images_per_prompt",
        "callback",
        "callback_steps",
        "callback_on_step_end",
        "callback_on_step_end_tensor_inputs",
        "cross_attention_kwargs",
        "joint_attention_kwargs",
        "attention_kwargs",
        "image",
        "ip_adapter_image",
        "ip_adapter_image_embeds",
        "latents",
    }
)
# Keys a task may not put into generator_kwargs, with what to use instead.
RESERVED_KWARGS = {
    "device": "the device is chosen at run time with `punc eval --device`, not by the task",
    "dtype": "set the task's top-level `dtype:` key (or `punc eval --dtype`)",
    "torch_dtype": "set the task's top-level `dtype:` key (or `punc eval --dtype`)",
    "prompt": "prompts come from the task's prompt set",
    "generator": "seeds come from the task's `seed`/`seeds`",
    "output_type": "the harness always asks for PIL images",
    "num_images_per_prompt": "set the task's `images_per_prompt` (one seed per image)",
}
# A blank negative prompt: QwenImage and Flux turn true CFG on only when some negative prompt is given.
BLANK_NEGATIVE = " "


@dataclass(frozen=True)
class TaskSettings:
    """What a task asks of every image (None: leave it to the pipeline)."""

    steps: int | None = None
    guidance: float | None = None
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class FittedCall:
    """Keyword arguments for the pipeline call, and how each task setting was applied."""

    pipeline_class: str
    call: dict[str, Any] = field(default_factory=dict)
    applied: dict[str, Any] = field(default_factory=dict)
    pipeline_defaults: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def call_parameters(pipe: Any) -> dict[str, inspect.Parameter]:
    """Named parameters of `pipe.__call__` (a `**kwargs` catch-all accepts nothing it would use)."""
    signature = inspect.signature(pipe.__call__)
    return {
        name: p
        for name, p in signature.parameters.items()
        if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }


def _component_config(pipe: Any, component: str, key: str) -> Any:
    module = getattr(pipe, component, None)
    config = getattr(module, "config", None)
    return getattr(config, key, None) if config is not None else None


def _default(params: dict[str, inspect.Parameter], name: str) -> Any:
    value = params[name].default
    return None if value is inspect.Parameter.empty else value


def _json_scalar(value: Any) -> bool:
    if isinstance(value, bool | int | float | str) or value is None:
        return True
    return isinstance(value, list | tuple) and all(isinstance(v, bool | int | float | str) for v in value)


def fit_call(pipe: Any, settings: TaskSettings, extra: dict[str, Any] | None = None) -> FittedCall:
    """Map settings onto `pipe`'s own argument names; list what it cannot honour in `refused`."""
    params = call_parameters(pipe)
    name = type(pipe).__name__
    fitted = FittedCall(pipeline_class=name)
    extra = dict(extra or {})

    for key in extra:
        if key in RESERVED_KWARGS:
            fitted.refused.append(f"generator_kwargs.{key}: not allowed; {RESERVED_KWARGS[key]}")
        elif key not in params:
            fitted.refused.append(
                f"generator_kwargs.{key}: {name} takes no argument '{key}' "
                f"(it takes: {', '.join(sorted(set(params) - NOT_SHAPING))})"
            )
    extra = {k: v for k, v in extra.items() if k in params and k not in RESERVED_KWARGS}
    fitted.call.update(extra)

    for setting, argument in (("steps", "num_inference_steps"), ("width", "width"), ("height", "height")):
        value = getattr(settings, setting)
        if value is None:
            continue
        if argument in params:
            fitted.call[argument] = value
        else:
            fitted.refused.append(f"{setting}: {name} takes no '{argument}' argument")

    _fit_guidance(pipe, params, settings, fitted)
    _fit_negative_prompt(pipe, params, settings, fitted)
    _note_environment(pipe, params, fitted)
    if fitted.applied.get("classifier_free_guidance") is False and "classifier-free" in str(
        fitted.applied.get("guidance_meaning")
    ):
        # the scale is set but no unconditional branch runs: no guidance shaped the image
        fitted.applied["guidance_ignored"] = fitted.applied.get("guidance")
        fitted.applied["guidance"] = None

    for argument, parameter in params.items():
        if argument in fitted.call or argument in NOT_SHAPING or argument.endswith("_embeds"):
            continue
        if "embeds" in argument or "mask" in argument:
            continue
        value = parameter.default
        if value is inspect.Parameter.empty or not _json_scalar(value):
            continue
        fitted.pipeline_defaults[argument] = list(value) if isinstance(value, tuple) else value
    return fitted


def _fit_guidance(
    pipe: Any, params: dict[str, inspect.Parameter], settings: TaskSettings, fitted: FittedCall
) -> None:
    """Send the task's guidance to the argument that really sets classifier-free guidance."""
    name = fitted.pipeline_class
    distilled_embedding = bool(_component_config(pipe, "transformer", "guidance_embeds"))
    if "true_cfg_scale" in params and not distilled_embedding:
        # Flux-schnell, QwenImage: `guidance_scale` is ignored without a guidance embedding;
        # classifier-free guidance is `true_cfg_scale`.
        target, meaning = "true_cfg_scale", "classifier-free guidance (true_cfg_scale)"
    elif "guidance_scale" in params:
        target = "guidance_scale"
        if distilled_embedding:
            meaning = "distilled guidance embedding (transformer.config.guidance_embeds)"
        elif _component_config(pipe, "unet", "time_cond_proj_dim") is not None:
            meaning = "guidance embedding (unet.config.time_cond_proj_dim)"
        else:
            meaning = "classifier-free guidance (guidance_scale)"
    else:
        if settings.guidance is not None:
            fitted.refused.append(f"guidance: {name} takes neither 'guidance_scale' nor 'true_cfg_scale'")
        return
    if getattr(getattr(pipe, "config", None), "is_distilled", False) and target == "guidance_scale":
        if settings.guidance is not None:
            fitted.refused.append(
                f"guidance: {name} is step-distilled (config.is_distilled) and ignores guidance_scale"
            )
        return
    if settings.guidance is not None:
        fitted.call[target] = settings.guidance
        if target != "guidance_scale":
            fitted.notes.append(f"guidance {settings.guidance} sent as {target}")
    value = fitted.call.get(target, _default(params, target))
    fitted.applied["guidance"] = value
    fitted.applied["guidance_argument"] = target
    fitted.applied["guidance_meaning"] = meaning


def _cfg_scale(pipe: Any, params: dict[str, inspect.Parameter], fitted: FittedCall) -> tuple[str, Any]:
    """The argument and value that switch classifier-free guidance (hence negative prompts) on."""
    if "true_cfg_scale" in params:
        return "true_cfg_scale", fitted.call.get("true_cfg_scale", _default(params, "true_cfg_scale"))
    return "guidance_scale", fitted.call.get("guidance_scale", _default(params, "guidance_scale"))


def _cfg_possible(pipe: Any, params: dict[str, inspect.Parameter], argument: str) -> bool:
    """False where the pipeline never runs an unconditional branch through `argument`."""
    if argument == "guidance_scale":
        if "guidance_scale" not in params:
            return False
        if getattr(getattr(pipe, "config", None), "is_distilled", False):
            return False
        if _component_config(pipe, "unet", "time_cond_proj_dim") is not None:
            return False
        if _component_config(pipe, "transformer", "guidance_embeds"):
            return False
    return True


def _fit_negative_prompt(
    pipe: Any, params: dict[str, inspect.Parameter], settings: TaskSettings, fitted: FittedCall
) -> None:
    name = fitted.pipeline_class
    argument, scale = _cfg_scale(pipe, params, fitted)
    possible = "negative_prompt" in params and _cfg_possible(pipe, params, argument)
    if settings.negative_prompt:
        if "negative_prompt" not in params:
            fitted.refused.append(f"negative_prompt: {name} takes no 'negative_prompt' argument")
            return
        if not possible:
            fitted.refused.append(
                f"negative_prompt: {name} runs no classifier-free guidance here, so a negative prompt "
                "would be ignored"
            )
            return
        if scale is None or float(scale) <= 1:
            guidance_goes_there = fitted.applied.get("guidance_argument") == argument
            fix = (
                "the task's guidance above 1"
                if guidance_goes_there
                else f"generator_kwargs.{argument} above 1"
            )
            fitted.refused.append(
                f"negative_prompt: {name} ignores it unless {argument} > 1 (it would be {scale}); set {fix}"
            )
            return
        fitted.call["negative_prompt"] = settings.negative_prompt
        fitted.applied["negative_prompt"] = settings.negative_prompt
        fitted.applied["classifier_free_guidance"] = True
        return
    # No negative prompt asked for. Pipelines that switch true CFG on only when *some* negative prompt
    # is given (Flux, QwenImage) get a blank one, so that the task's guidance is really applied.
    if argument == "true_cfg_scale" and scale is not None and float(scale) > 1:
        if settings.guidance is not None or "true_cfg_scale" in fitted.call:
            fitted.call["negative_prompt"] = BLANK_NEGATIVE
            fitted.applied["negative_prompt"] = BLANK_NEGATIVE
            fitted.notes.append(f"blank negative prompt sent so that {argument}={scale} takes effect")
            fitted.applied["classifier_free_guidance"] = True
            return
        fitted.applied["classifier_free_guidance"] = False
        fitted.notes.append(f"{argument} default {scale} has no effect without a negative prompt")
        return
    fitted.applied["negative_prompt"] = None
    fitted.applied["classifier_free_guidance"] = (
        argument == "guidance_scale"
        and _cfg_possible(pipe, params, argument)
        and scale is not None
        and float(scale) > 1
    )


def _note_environment(pipe: Any, params: dict[str, inspect.Parameter], fitted: FittedCall) -> None:
    """Behaviour that depends on what is installed rather than on the call (PixArt's prompt cleaning)."""
    if "clean_caption" not in params:
        return
    from diffusers.utils import is_bs4_available, is_ftfy_available

    requested = bool(fitted.call.get("clean_caption", _default(params, "clean_caption")))
    effective = requested and is_bs4_available() and is_ftfy_available()
    fitted.applied["clean_caption_requested"] = requested
    fitted.applied["clean_caption_applied"] = effective
    if requested and not effective:
        fitted.notes.append(
            "clean_caption requested but beautifulsoup4/ftfy are not installed: prompts sent raw"
        )
