"""Judge definitions (YAML): which captioning model, how it is asked, and how it decodes."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from harness._version import __version__
from harness.config._yaml import load_yaml_model
from harness.errors import PuncError
from harness.fingerprint import local_model_identity, sha256_json
from harness.registry import JUDGES
from harness.safe_ids import check_safe_id


class DecodingConfig(BaseModel):
    """Greedy by default (temperature 0); sampling needs temperature > 0 and gives distinct samples."""

    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(default=0.0, ge=0.0, le=5.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    num_beams: int = Field(default=1, ge=1, le=16)
    repetition_penalty: float | None = Field(default=None, gt=0.0)
    seed: int = Field(default=0, ge=0, le=2**62)  # torch generators take 64-bit seeds

    @property
    def sampling(self) -> bool:
        return self.temperature > 0


class JudgeConfig(BaseModel):
    """What every judge has; each backend's own options live in its subclass below.

    `JudgeConfig(...)` and `JudgeConfig.model_validate(...)` return the subclass that `backend` names:
    the configs form a pydantic discriminated union on `backend` (`judge_config_type`), over the
    built-in backends and any judge plug-in registered in `harness.registry.JUDGES`.
    """

    model_config = ConfigDict(extra="forbid")
    #: the field whose value picks the subclass
    discriminator: ClassVar[str] = "backend"
    #: True when `model` names weights this machine loads (a local folder or a hub id), so pre-flight
    #: and `punc prefetch` look for them; False when the model runs elsewhere (a server, an API)
    weights_needed: ClassVar[bool] = True

    name: str
    backend: str
    model: str
    revision: str | None = None
    instruction: str = "Describe this image."
    show_prompt: bool = False
    prompt_template: str = "{instruction}\nThe image was generated from this prompt: {prompt}"
    decoding: DecodingConfig = Field(default_factory=DecodingConfig)
    max_new_tokens: int = Field(default=128, ge=1, le=8192)
    batch_size: int = Field(default=8, ge=1, le=4096)
    samples_per_image: int = Field(default=1, ge=1, le=64)
    price_per_call_usd: float | None = Field(
        default=None, ge=0, description="US dollars per caption call, for the run's cost (not fingerprinted)"
    )
    source: str | None = Field(default=None, exclude=True)

    def __new__(cls, *args: Any, **data: Any) -> Any:
        if cls is JudgeConfig and data:  # the base class stands for the union of backends
            return judge_config_type(data.get("backend")).validate_python(data)
        return super().__new__(cls)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        """On `JudgeConfig` itself: validate as the union, returning the backend's subclass."""
        if cls is JudgeConfig:
            backend = obj.get("backend") if isinstance(obj, dict) else None
            return judge_config_type(backend).validate_python(obj, **kwargs)
        return super().model_validate(obj, **kwargs)

    @classmethod
    def member_for(cls, data: Any) -> type[JudgeConfig]:
        """The union member `data` selects (for error messages); the base class when none does."""
        backend = data.get("backend") if isinstance(data, dict) else None
        return _config_classes(backend).get(backend, cls) if isinstance(backend, str) else cls

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        return check_safe_id(value)

    @model_validator(mode="after")
    def _consistent(self) -> JudgeConfig:
        if self.samples_per_image > 1 and not self.decoding.sampling:
            raise ValueError(
                "decoding.temperature: a value > 0 when samples_per_image > 1 (greedy samples are identical)"
            )
        if self.show_prompt and "{prompt}" not in self.prompt_template:
            raise ValueError("prompt_template: a template containing {prompt} when show_prompt is true")
        return self

    def render_instruction(self, prompt_text: str) -> str:
        if not self.show_prompt:
            return self.instruction
        return self.prompt_template.replace("{instruction}", self.instruction).replace(
            "{prompt}", prompt_text
        )

    def fingerprint_fields(self) -> dict[str, Any]:
        """What changes captions: backend, model and its revision, instruction, decoding, harness version."""
        revision = self.revision or local_model_identity(self.model)
        return {
            "backend": self.backend,
            "model": self.model
            if revision is None or not Path(self.model).exists()
            else Path(self.model).name,
            "revision": revision,
            "instruction": self.instruction,
            "show_prompt": self.show_prompt,
            "prompt_template": self.prompt_template if self.show_prompt else None,
            "decoding": self.decoding.model_dump(),
            "max_new_tokens": self.max_new_tokens,
            "harness_version": __version__,
        }

    @property
    def fingerprint(self) -> str:
        return sha256_json(self.fingerprint_fields())


class TransformersJudgeConfig(JudgeConfig):
    """A model run in this process with transformers (CPU or GPU)."""

    backend: Literal["transformers"]
    mode: Literal["auto", "captioner", "chat"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    device: str | None = None


class VLLMJudgeConfig(JudgeConfig):
    """A chat VLM run by an in-process vLLM engine."""

    backend: Literal["vllm"]
    mode: Literal["auto", "captioner", "chat"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    #: engine arguments passed to vllm.LLM(...)
    engine_kwargs: dict[str, Any] = Field(default_factory=dict)


class OpenAIJudgeConfig(JudgeConfig):
    """Any OpenAI-compatible chat-completions server (`vllm serve`, `punc serve-judge`, a hosted API)."""

    weights_needed: ClassVar[bool] = False
    backend: Literal["openai"]
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int = Field(default=4, ge=1, le=256)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=20)

    @model_validator(mode="after")
    def _has_url(self) -> OpenAIJudgeConfig:
        if not self.base_url:
            raise ValueError("base_url: the server's URL (e.g. http://127.0.0.1:8000/v1) for backend openai")
        return self


BUILTIN_CONFIGS: tuple[type[JudgeConfig], ...] = (TransformersJudgeConfig, VLLMJudgeConfig, OpenAIJudgeConfig)


def _backend_of(config_class: type[JudgeConfig]) -> str:
    (value,) = get_args(config_class.model_fields["backend"].annotation)
    return value


def _config_classes(backend: object = None) -> dict[str, type[JudgeConfig]]:
    """Backend name -> config class: the built-ins, plus the plug-in that `backend` names (if any).

    A plug-in judge declares its options as `config_class`, a JudgeConfig subclass whose `backend`
    is `Literal["its-name"]`; only the plug-in asked for is imported.
    """
    found = {_backend_of(c): c for c in BUILTIN_CONFIGS}
    if isinstance(backend, str) and backend not in found and backend in JUDGES:
        try:
            config_class = JUDGES.get(backend).config_class
            found[_backend_of(config_class)] = config_class
        except (PuncError, AttributeError, KeyError, TypeError, ValueError):
            pass  # a broken plug-in: the union says which backends exist
    return found


def judge_config_type(backend: object = None) -> TypeAdapter[Any]:
    """The discriminated union of judge configs on `backend` (built-ins, plus the plug-in `backend`)."""
    return _union_of(tuple(_config_classes(backend).values()))


@functools.cache
def _union_of(members: tuple[type[JudgeConfig], ...]) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[Union[members], Field(discriminator="backend")])  # noqa: UP007


def load_judge(path: str | Path) -> JudgeConfig:
    """Load a judge YAML; a relative local `model` path is resolved against the YAML's folder."""
    path = Path(path)
    config = load_yaml_model(JudgeConfig, path)
    candidate = (path.resolve().parent / config.model).resolve()
    if not Path(config.model).is_absolute() and candidate.exists():
        config = config.model_copy(update={"model": str(candidate)})
    return config.model_copy(update={"source": str(path)})
