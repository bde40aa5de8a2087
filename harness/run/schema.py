"""The typed schema of results.json; boards and `punc detect` read runs only through it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
#: results.json versions this harness reads (older ones through `upgrade_results`)
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
UNCERTAINTY_KEYS = ("u_ale", "u_epi", "u_tot")
PRF_KEYS = ("precision", "recall", "f1")


class Stat(BaseModel):
    """Mean and standard deviation over the K images of one prompt (samples averaged per image first)."""

    mean: float
    std: float
    n: int


class Interval(BaseModel):
    """A mean over prompts with a percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int


class PromptResult(BaseModel):
    prompt_id: str
    text: str
    labels: dict[str, Any]
    n_images: int
    n_captions: int
    metrics: dict[str, dict[str, Stat]] = Field(description="scorer -> output -> stat over images")
    uncertainty: dict[str, dict[str, Stat]] = Field(description="P/R scorer -> u_ale|u_epi|u_tot -> stat")
    failed_items: int = 0


class GroupSummary(BaseModel):
    n_prompts: int
    metrics: dict[str, dict[str, Interval]] = Field(description="scorer -> output or u_* -> interval")


class Failure(BaseModel):
    stage: str
    prompt_id: str | None = None
    index: int | None = None
    sample_index: int | None = None
    image_hash: str | None = None
    error: str


class StageCost(BaseModel):
    """Work and throughput of one stage, summed over every invocation that worked on this run."""

    items: int = Field(description="items computed (images, captions, caption-scorer pairs)")
    seconds: float = Field(description="wall-clock seconds the stage took, summed over invocations")
    items_per_s: float
    device: str = Field(description="where it ran, e.g. 'cuda:0' or '2 x cpu'")
    usd: float | None = Field(default=None, description="priced cost; None when no price was given")


class RunCost(BaseModel):
    """Throughput and cost of a run: read by boards for their cost column."""

    total_usd: float | None = None
    device_seconds: float = Field(description="seconds summed over every process (process-seconds)")
    per_stage: dict[str, StageCost]


class Results(BaseModel):
    model_config = ConfigDict(extra="allow")
    schema_version: int = SCHEMA_VERSION
    harness_version: str
    created: str
    model_name: str
    complete: bool
    task: dict[str, Any] = Field(description="name, version, hash, source, resolved settings")
    prompts: dict[str, Any] = Field(description="files, hash, count")
    generator: dict[str, Any]
    generation_recipe: dict[str, Any]
    judge: dict[str, Any] = Field(description="name, fingerprint, fingerprint fields, backend")
    scorers: dict[str, str] = Field(description="scorer name -> signature")
    primary_scorer: str | None
    image_policy: dict[str, Any]
    counts: dict[str, int]
    overall: GroupSummary
    by_shift: dict[str, GroupSummary]
    by_category: dict[str, GroupSummary]
    per_prompt: list[PromptResult]
    failures: list[Failure]
    versions: dict[str, str]
    git_commit: str | None
    timings: dict[str, float]
    bootstrap: dict[str, Any]
    baselines: dict[str, Any] = Field(
        default_factory=dict, description="baseline name -> signature and cost; values in baselines.jsonl"
    )
    cost: RunCost | None = None


def upgrade_results(raw: dict[str, Any]) -> dict[str, Any]:
    """An older results.json's data in the current schema's shape (version 1 is current)."""
    return raw
