"""The typed schema of results.json; boards and `punc detect` read runs only through it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

#: 2: `status` replaces the `complete` flag as the source of truth; typed task, prompts, generator, judge,
#: counts and bootstrap; `scorer_specs` beside the signatures.
SCHEMA_VERSION = 2
#: results.json versions this harness reads (older ones through `upgrade_results`)
SUPPORTED_SCHEMA_VERSIONS = frozenset({1, 2})

#: complete: every item of the whole task is done; partial: a --limit'ed run or items still missing;
#: failed: items failed (listed in `failures`); stale: scores are being recomputed (--rescore).
RunStatus = Literal["complete", "partial", "failed", "stale"]
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


class _Part(BaseModel):
    """A part of results.json; keys this harness does not know are kept (older or newer writers), and
    fields that version-1 files could leave out have defaults, so those files still read."""

    model_config = ConfigDict(extra="allow")


class TaskInfo(_Part):
    name: str = ""
    version: str = ""
    hash: str | None = None
    source: str | None = None
    limit: int | None = Field(default=None, description="--limit: prompts of each shift evaluated")
    resolved: dict[str, Any] = Field(default_factory=dict, description="the task's settings, resolved")


class PromptsInfo(_Part):
    files: list[str] = Field(default_factory=list)
    hash: str | None = None
    count: int | None = Field(default=None, description="prompts of the whole task")
    evaluated: int | None = Field(default=None, description="prompts evaluated (fewer under --limit)")


class GeneratorInfo(_Part):
    spec: str | None = Field(default=None, description="what was passed as --generator")
    kind: str | None = None
    model: str | None = None
    revision: str | None = None


class JudgeInfo(_Part):
    name: str | None = None
    fingerprint: str | None = None
    backend: str | None = None
    samples_per_image: int = 1
    fields: dict[str, Any] = Field(default_factory=dict, description="what the fingerprint hashes")
    device: str | None = None
    dtype: str | None = None
    mode: str | None = None


class Counts(_Part):
    prompts: int = 0
    images: int = 0
    captions: int = 0
    scores: int = 0
    expected_images: int = 0
    expected_captions: int = 0
    failed_images: int = 0
    failed_captions: int = 0
    recomputed_for_batch_stability: int = 0


class BootstrapInfo(_Part):
    samples: int | None = None
    seed: int | None = None
    confidence: float = 0.95
    method: str = "percentile, over prompts"


class ScorerSpec(BaseModel):
    """How a scorer was asked for in the task, beside the signature string that pins its version."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)
    signature: str


class Results(BaseModel):
    model_config = ConfigDict(extra="allow")
    schema_version: int = SCHEMA_VERSION
    harness_version: str
    created: str
    model_name: str
    status: RunStatus
    stale: str | None = Field(default=None, description="why the results are stale (status 'stale')")
    task: TaskInfo
    prompts: PromptsInfo
    generator: GeneratorInfo
    generation_recipe: dict[str, Any]
    judge: JudgeInfo
    scorers: dict[str, str] = Field(description="scorer name -> signature")
    scorer_specs: dict[str, ScorerSpec] = Field(default_factory=dict, description="scorer name -> spec")
    primary_scorer: str | None
    image_policy: dict[str, Any]
    counts: Counts
    overall: GroupSummary
    by_shift: dict[str, GroupSummary]
    by_category: dict[str, GroupSummary]
    per_prompt: list[PromptResult]
    failures: list[Failure]
    versions: dict[str, str]
    git_commit: str | None
    timings: dict[str, float]
    bootstrap: BootstrapInfo
    baselines: dict[str, Any] = Field(
        default_factory=dict, description="baseline name -> signature and cost; values in baselines.jsonl"
    )
    cost: RunCost | None = None

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade_results(data) if isinstance(data, dict) else data

    @computed_field  # written for readers of version 1 files; `status` is the source of truth
    @property
    def complete(self) -> bool:
        return self.status == "complete"


def upgrade_results(raw: dict[str, Any]) -> dict[str, Any]:
    """An older results.json's data in the current schema's shape; `complete` is derived, not read."""
    data = dict(raw)
    complete = data.pop("complete", None)
    if "status" not in data:  # version 1: the flag was the truth
        if complete is True:
            data["status"] = "complete"
        elif data.get("stale"):
            data["status"] = "stale"
        else:
            data["status"] = "failed" if data.get("failures") else "partial"
        data["schema_version"] = SCHEMA_VERSION
    return data


def run_status(complete: bool, failures: int) -> RunStatus:
    """The status of a finished invocation."""
    if complete:
        return "complete"
    return "failed" if failures else "partial"
