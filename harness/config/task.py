"""Tasks: a prompt set paired with generation settings and the scorers to run (YAML, safe-loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config._yaml import load_yaml_model
from harness.config.prompts import PromptRecord, load_prompt_dataset, load_prompts
from harness.errors import InputError
from harness.fingerprint import sha256_json
from harness.safe_ids import check_safe_id

#: Seeds feed torch generators (64-bit) after adding the image index; 2**62 leaves room for that.
MAX_SEED = 2**62


class DatasetSource(BaseModel):
    """A prompt set stored as a `datasets` dataset; columns map dataset columns to id, text and labels.

    `dataset` is a hub id, a local folder, or a packaged builder (`json`, `csv`, `parquet`) that reads
    `data_files` (local paths or URLs). `name` picks a configuration (subset) of a hub dataset.
    """

    model_config = ConfigDict(extra="forbid")
    dataset: str
    name: str | None = None
    data_files: str | list[str] | None = None
    split: str | None = Field(
        default="train", description="null: the dataset's only split, whatever its name"
    )
    revision: str | None = None
    id_column: str | None = None
    text_column: str = "text"
    labels_column: str | None = None
    label_columns: list[str] | dict[str, str] = Field(
        default_factory=list,
        description="columns kept as labels; a mapping renames them (Category: category)",
    )
    id_prefix: str = ""
    labels: dict[str, Any] = Field(
        default_factory=dict, description="labels every prompt of this source gets"
    )
    collapse_duplicate_ids: bool = Field(
        default=False, description="one prompt per id, for tables with one row per question (DSG-1k)"
    )

    def resolved(self, base: Path) -> DatasetSource:
        """Local dataset folders and data files relative to the task file become absolute paths."""

        def local(value: str) -> str:
            return str((base / value).resolve()) if (base / value).exists() else value

        files = self.data_files
        if isinstance(files, str):
            files = local(files)
        elif files is not None:
            files = [local(f) for f in files]
        return self.model_copy(update={"dataset": local(self.dataset), "data_files": files})

    def load(self) -> list[PromptRecord]:
        columns = {"id": self.id_column or "", "text": self.text_column, "labels": self.labels_column or ""}
        return load_prompt_dataset(
            self.dataset,
            self.split,
            columns,
            self.label_columns,
            self.revision,
            name=self.name,
            data_files=self.data_files,
            id_prefix=self.id_prefix,
            labels=self.labels,
            collapse_duplicate_ids=self.collapse_duplicate_ids,
        )

    def describe(self) -> str:
        return self.dataset + (f"/{self.name}" if self.name else "") + f"[{self.split or 'its only split'}]"


class ScorerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class TaskConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str = "1"
    description: str = ""
    prompts: str | list[str] | DatasetSource | list[DatasetSource]
    images_per_prompt: int = Field(default=4, ge=1, le=1024)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] | None = None
    width: int | None = Field(default=None, ge=8, le=8192)
    height: int | None = Field(default=None, ge=8, le=8192)
    steps: int | None = Field(default=None, ge=1, le=1000)
    guidance: float | None = Field(default=None, ge=0)
    negative_prompt: str | None = None
    generator_kwargs: dict[str, Any] = Field(default_factory=dict)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] | None = Field(
        default=None, description="generator weights dtype (default: float32 on CPU, bf16/fp16 on GPUs)"
    )
    unsupported_settings: Literal["refuse", "warn"] = Field(
        default="refuse",
        description="a setting the generator cannot honour stops the run (refuse) or is dropped and recorded (warn)",
    )
    scorers: list[ScorerSpec] = Field(
        default_factory=lambda: [ScorerSpec(name="rougeL"), ScorerSpec(name="bertscore")]
    )
    primary_scorer: str | None = None
    baselines: list[ScorerSpec] = Field(
        default_factory=list, description="image-space uncertainty baselines (harness.baselines) to run too"
    )
    generator: str | None = None
    judge: str | None = None
    bootstrap_samples: int = Field(default=1000, ge=0, le=100_000)

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        return check_safe_id(value)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("scorers", "baselines", mode="before")
    @classmethod
    def _scorer_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("generator_kwargs")
    @classmethod
    def _no_reserved_kwargs(cls, value: dict[str, Any]) -> dict[str, Any]:
        from harness.generators.call_fitting import RESERVED_KWARGS

        for key in value:
            if key in RESERVED_KWARGS:
                raise ValueError(f"generator_kwargs.{key}: not allowed; {RESERVED_KWARGS[key]}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TaskConfig:
        if self.seeds is not None:
            if len(self.seeds) < self.images_per_prompt:
                raise ValueError(
                    f"seeds: a list of at least images_per_prompt={self.images_per_prompt} seeds "
                    f"(got {len(self.seeds)}), or omit it and set a base `seed`"
                )
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError("seeds: distinct values, so that images differ")
        names = [s.name for s in self.scorers]
        if not names:
            raise ValueError("scorers: at least one scorer")
        if len(set(names)) != len(names):
            raise ValueError("scorers: each scorer name at most once")
        if self.primary_scorer is not None and self.primary_scorer not in names:
            raise ValueError(f"primary_scorer: one of the task's scorers {names}")
        return self

    def seed_for(self, index: int) -> int:
        """Seed of image `index` of every prompt: explicit list, or base seed + index."""
        return self.seeds[index] if self.seeds is not None else self.seed + index

    def resolved_primary_scorer(self, precision_recall_scorers: list[str]) -> str | None:
        if self.primary_scorer:
            return self.primary_scorer
        return next((s.name for s in self.scorers if s.name in precision_recall_scorers), None)


# Task keys added after tasks were published, left out of the task hash while they hold their default.
UNHASHED_DEFAULTS: dict[str, Any] = {"dtype": None, "unsupported_settings": "refuse"}


class LoadedTask(BaseModel):
    """A task with its prompt set loaded and paths resolved against the task file."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    config: TaskConfig
    source: str
    base_dir: Path
    prompts: list[PromptRecord]
    prompt_files: list[str]

    def resolve_path(self, value: str) -> str:
        """A task-relative path when that exists, otherwise the value as given (a hub id)."""
        candidate = (self.base_dir / value).resolve()
        return str(candidate) if candidate.exists() else value

    @property
    def prompts_hash(self) -> str:
        return sha256_json([p.model_dump(mode="json") for p in self.prompts])

    def with_overrides(self, **changes: Any) -> LoadedTask:
        clean = {k: v for k, v in changes.items() if v is not None}
        if not clean:
            return self
        config = TaskConfig.model_validate({**self.config.model_dump(), **clean})
        return self.model_copy(update={"config": config})

    def limited(self, limit: int | None) -> LoadedTask:
        """The first `limit` prompts of each shift, so a quick run still covers every shift."""
        if not limit:
            return self
        kept: list[PromptRecord] = []
        counts: dict[str, int] = {}
        for record in self.prompts:
            if counts.get(record.shift, 0) < limit:
                kept.append(record)
                counts[record.shift] = counts.get(record.shift, 0) + 1
        return self.model_copy(update={"prompts": kept})

    @property
    def task_hash(self) -> str:
        """Identity of what is measured: settings plus prompt content (not file locations)."""
        settings = self.config.model_dump(mode="json", exclude={"generator", "judge", "description"})
        for key, default in UNHASHED_DEFAULTS.items():  # keys added later: old tasks keep their hash
            if settings.get(key) == default:
                settings.pop(key, None)
        settings["prompts"] = self.prompts_hash
        return sha256_json(settings)


def dataset_sources(config: TaskConfig) -> list[DatasetSource]:
    """The task's `datasets` sources (empty for a task made of JSONL files)."""
    if isinstance(config.prompts, DatasetSource):
        return [config.prompts]
    if isinstance(config.prompts, list) and config.prompts and isinstance(config.prompts[0], DatasetSource):
        return list(config.prompts)  # type: ignore[arg-type]
    return []


def load_task(path: str | Path) -> LoadedTask:
    path = Path(path)
    config = load_yaml_model(TaskConfig, path)
    base = path.resolve().parent
    sources = dataset_sources(config)
    if sources:
        prompts = []
        owners: dict[str, str] = {}
        for source in (s.resolved(base) for s in sources):
            for record in source.load():
                if record.id in owners:
                    raise InputError(
                        path,
                        "key prompts",
                        "id_prefix",
                        f"ids not already used by {owners[record.id]}",
                        record.id,
                    )
                owners[record.id] = source.describe()
                prompts.append(record)
        files = [s.resolved(base).describe() for s in sources]
    else:
        names = [config.prompts] if isinstance(config.prompts, str) else config.prompts
        if not names:
            raise InputError(path, "key prompts", "prompts", "a prompt file path or a list of them")
        paths = [(base / name).resolve() for name in names]  # type: ignore[operator]
        for name, resolved in zip(names, paths, strict=True):
            if not resolved.is_file():
                raise InputError(path, "key prompts", "prompts", "a path to an existing JSONL file", name)
        prompts = load_prompts(paths)
        files = [str(p) for p in paths]
    return LoadedTask(config=config, source=str(path), base_dir=base, prompts=prompts, prompt_files=files)
