"""What a task needs from the network (datasets, data-file URLs, model weights), whether the local caches
already hold it, and fetching it, so that a run can then go offline (`HF_HUB_OFFLINE=1`).

The cache checks ask the same functions a run uses, in offline mode: `datasets.load_dataset` for hub
datasets, punc's data-file cache for URLs, `snapshot_download(local_files_only=True)` for weights
(what harness.hub.resolve_model_source uses when offline).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.config.data_files import is_cached as data_files_cached
from harness.config.data_files import is_url, local_data_files
from harness.config.judge import JudgeConfig
from harness.config.task import DatasetSource, TaskConfig, dataset_sources
from harness.errors import PuncError

PACKAGED_BUILDERS = {"json", "csv", "parquet", "text", "arrow", "webdataset", "imagefolder", "audiofolder"}


@dataclass
class Need:
    """One thing a run will fetch from the network unless it is cached."""

    kind: Literal["dataset", "data files", "model"]
    role: str  # what it is for: "prompts", "generator", "judge", "scorer bertscore"
    id: str
    revision: str | None = None
    source: DatasetSource | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.role} {self.kind} {self.id}" + (f"@{self.revision}" if self.revision else "")


def _local(value: str) -> bool:
    return Path(value).expanduser().exists()


def dataset_needs(config: TaskConfig, base: Path) -> list[Need]:
    needs = []
    for source in (s.resolved(base) for s in dataset_sources(config)):
        files = [source.data_files] if isinstance(source.data_files, str) else list(source.data_files or [])
        urls = [f for f in files if is_url(f)]
        if urls:
            needs += [Need("data files", "prompts", url, source=source) for url in urls]
        elif not _local(source.dataset) and source.dataset not in PACKAGED_BUILDERS:
            label = source.dataset + (f"/{source.name}" if source.name else "")
            needs.append(Need("dataset", "prompts", label, source.revision, source=source))
    return needs


def generator_needs(spec: str | None) -> list[Need]:
    if not spec:
        return []
    from harness.generators import split_spec

    kind, argument = split_spec(spec)
    if kind == "diffusers" and not _local(argument):
        return [Need("model", "generator", argument)]
    return []


def judge_needs(judge: JudgeConfig | None) -> list[Need]:
    if judge is None or not judge.weights_needed or _local(judge.model):
        return []
    return [Need("model", "judge", judge.model, judge.revision)]


def scorer_needs(config: TaskConfig) -> list[Need]:
    from harness.scorers import DEFAULT_MODEL

    needs = []
    for scorer in config.scorers:
        model = scorer.params.get("model")
        if isinstance(model, str) and model != DEFAULT_MODEL and not _local(model):
            needs.append(Need("model", f"scorer {scorer.name}", model, scorer.params.get("revision")))
    return needs


@contextlib.contextmanager
def datasets_offline() -> Iterator[None]:
    """`datasets` in offline mode for one check, as a run with HF_HUB_OFFLINE=1 would load it."""
    import datasets

    before = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE = before


def is_cached(need: Need) -> bool:
    if need.kind == "data files":
        return data_files_cached(need.id)
    if need.kind == "dataset":
        assert need.source is not None
        try:
            with datasets_offline():
                need.source.load()
        except PuncError:
            return False
        return True
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(need.id, revision=need.revision, local_files_only=True)
    except Exception:  # huggingface_hub raises several types for "not in the cache"
        return False
    return True


def fetch(need: Need) -> str:
    """Download one need into the cache; returns a one-line description of what is now there."""
    if need.kind == "data files":
        return str(local_data_files(need.id))
    if need.kind == "dataset":
        assert need.source is not None
        return f"{len(need.source.load())} prompts"
    return _fetch_model(need)


# Weights other frameworks need, never used by punc's torch loaders.
_FOREIGN_WEIGHTS = ["*.msgpack", "*.h5", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.mlmodel", "*.gguf"]


def _fetch_model(need: Need) -> str:
    import httpx
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        if need.role == "generator":
            from diffusers import DiffusionPipeline

            path = DiffusionPipeline.download(need.id, revision=need.revision)
        else:
            files = HfApi().list_repo_files(need.id, revision=need.revision)
            ignore = list(_FOREIGN_WEIGHTS)
            if any(f.endswith(".safetensors") for f in files):
                ignore += ["*.bin", "*.pt", "*.pth"]
            path = snapshot_download(need.id, revision=need.revision, ignore_patterns=ignore)
    except (HfHubHTTPError, httpx.HTTPError, OSError, ValueError) as exc:
        raise PuncError(f"{need.label}: cannot be downloaded ({type(exc).__name__}: {exc})") from None
    return str(path)


def task_needs(
    config: TaskConfig, base: Path, generator: str | None = None, judge: JudgeConfig | None = None
) -> list[Need]:
    return (
        dataset_needs(config, base) + generator_needs(generator) + judge_needs(judge) + scorer_needs(config)
    )


def needs_for_task(
    path: Path, generator: str | None = None, judge: str | None = None, strict: bool = True
) -> tuple[TaskConfig, list[Need]]:
    """Everything a run of the task file needs from the network; `generator`/`judge` override the task's.

    A judge YAML that cannot be read is an error when `strict`, otherwise its weights are left out.
    """
    from harness.config._yaml import load_yaml_model
    from harness.config.judge import load_judge
    from harness.locate import resolve_judge_path

    config = load_yaml_model(TaskConfig, path)
    base = path.resolve().parent
    generator_spec = generator or (config.generator and _relative(base, config.generator))
    judge_value = judge or (config.judge and _relative(base, config.judge))
    judge_config = None
    if judge_value:
        try:
            judge_config = load_judge(resolve_judge_path(judge_value))
        except PuncError:
            if strict:
                raise
    needs = dataset_needs(config, base) + generator_needs(generator_spec) + judge_needs(judge_config)
    return config, needs + scorer_needs(config)


def hub_status(path: Path) -> str:
    """One phrase for `punc ls tasks`: `local`, or which network the task needs and whether it is cached."""
    try:
        _, needs = needs_for_task(path, strict=False)
    except PuncError:
        return "invalid (see `punc validate`)"
    if not needs:
        return "local"
    where = " and ".join(sorted({"the web" if n.kind == "data files" else "the hub" for n in needs}))
    missing = [n for n in needs if not is_cached(n)]
    state = "cached" if not missing else f"not cached: punc prefetch {path.stem}"
    return f"needs {where}; {state}"


def _relative(base: Path, value: str) -> str:
    """A path relative to the task file when that exists, else the value as given (a hub id)."""
    candidate = base / value
    return str(candidate.resolve()) if candidate.exists() else value
