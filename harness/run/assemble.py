"""Results assembly: from the stages' records on disk to the typed results.json of one evaluation."""

from __future__ import annotations

import json
import platform
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from harness._version import __version__
from harness.config.task import LoadedTask
from harness.run.aggregate import grouped, prompt_results, summarize
from harness.run.cost import Prices, run_cost
from harness.run.jsonl import read_jsonl
from harness.run.options import EvalOptions
from harness.run.records import FailureLine, read_records
from harness.run.schema import Failure, Results, ScorerSpec, run_status
from harness.run.store import RunStore

TRACKED_LIBRARIES = (
    "torch",
    "diffusers",
    "transformers",
    "sentence-transformers",
    "rouge-score",
    "bert-score",
    "vllm",
    "numpy",
    "pydantic",
)
#: recipe fields of the first image that results.json repeats as the run's generation recipe
RECIPE_KEYS = (
    "scheduler",
    "steps",
    "guidance",
    "width",
    "height",
    "dtype",
    "device",
    "negative_prompt",
    "applied",
    "pipeline_defaults",
    "notes",
    "not_applied",
)
IMAGE_POLICY = {"format": "png", "mode": "RGB", "resize": None, "judge_sees": "stored PNG"}


@dataclass
class StageOutputs:
    """What the stages left for this task, each in grid order."""

    images: dict[tuple[str, int], dict[str, Any]]
    captions: dict[tuple, dict[str, Any]]
    scores: list[dict[str, Any]]
    signatures: dict[str, str]
    prf_scorers: set[str]
    scorer_specs: dict[str, ScorerSpec]
    baselines: dict[str, Any] = field(default_factory=dict)


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "punc-harness": __version__}
    for name in TRACKED_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def open_failures(store: RunStore, task: LoadedTask, images: dict, captions: dict) -> list[Failure]:
    """Failures of items still missing now; an item that later succeeded is not a failure."""
    latest: dict[tuple, dict[str, Any]] = {}
    for record in read_records(store.failures_log, FailureLine):
        if record.get("stage") == "generate":
            key = ("generate", record.get("prompt_id"), record.get("index"))
            if (record.get("prompt_id"), record.get("index")) in images:
                continue
        elif record.get("stage") == "caption":
            item = (
                record.get("prompt_id"),
                record.get("index"),
                record.get("image_hash"),
                record.get("sample_index"),
            )
            if item in captions or (record.get("prompt_id"), record.get("index")) not in images:
                continue
            key = ("caption", *item)
        else:
            continue
        latest[key] = record
    pids = {p.id for p in task.prompts}
    fields = ("stage", "prompt_id", "index", "sample_index", "image_hash", "error")
    return [Failure(**{k: r.get(k) for k in fields}) for r in latest.values() if r.get("prompt_id") in pids]


def previous_judge_runtime(store: RunStore) -> dict[str, str]:
    """Where the judge ran and in which dtype, from the last results when every caption was on disk."""
    try:
        previous = json.loads(store.results_file.read_text())["judge"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {k: previous[k] for k in ("device", "dtype", "mode") if k in previous}


def _generator_info(options: EvalOptions, description: dict[str, Any] | None, first_recipe: dict) -> dict:
    """The generator as it described itself, or as the first stored image's recipe names it."""
    generator = description or {
        k: first_recipe.get(k)
        for k in ("kind", "model", "revision", "pipeline_class", "source", "single_file")
    }
    return {**{k: v for k, v in generator.items() if v is not None}, "spec": options.generator}


def _counts(
    task: LoadedTask, options: EvalOptions, out: StageOutputs, failures: list[Failure], recomputed: int
):
    expected_images = len(task.prompts) * task.config.images_per_prompt  # of the --limit'ed task
    expected_captions = expected_images * options.judge.samples_per_image
    return {
        "prompts": len(task.prompts),
        "images": len(out.images),
        "captions": len(out.captions),
        "scores": len(out.scores),
        "expected_images": expected_images,
        "expected_captions": expected_captions,
        "failed_images": sum(f.stage == "generate" for f in failures),
        "failed_captions": sum(f.stage == "caption" for f in failures),
        "recomputed_for_batch_stability": recomputed,
    }


def is_complete(task: LoadedTask, full_task: LoadedTask, out: StageOutputs, counts: dict[str, int]) -> bool:
    """Every item of the whole task is done (never under --limit)."""
    return (
        len(task.prompts) == len(full_task.prompts)
        and len(out.images) == counts["expected_images"]
        and len(out.captions) == counts["expected_captions"]
        and len(out.scores) == counts["expected_captions"] * len(out.signatures)
    )


def assemble_results(
    options: EvalOptions,
    task: LoadedTask,
    out: StageOutputs,
    failures: list[Failure],
    *,
    generator_description: dict[str, Any] | None,
    judge_runtime: dict[str, str],
    timings: dict[str, float],
    recomputed: int,
    events_log: Path,
) -> Results:
    """The results of one evaluation of `task` (the --limit'ed one; options.task is the whole task)."""
    full_task, config, judge = options.task, task.config, options.judge
    failed_by_prompt: dict[str, int] = defaultdict(int)
    for failure in failures:
        failed_by_prompt[failure.prompt_id or ""] += 1
    image_counts: dict[str, int] = defaultdict(int)
    for pid, _ in out.images:
        image_counts[pid] += 1
    per_prompt = prompt_results(task.prompts, out.scores, out.prf_scorers, image_counts, failed_by_prompt)
    n_boot, seed = config.bootstrap_samples, config.seed
    counts = _counts(task, options, out, failures, recomputed)
    first_recipe = next(iter(out.images.values()), {}).get("recipe", {})
    generator = _generator_info(options, generator_description, first_recipe)
    return Results(
        harness_version=__version__,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        model_name=options.model_name or str(generator.get("model") or Path(options.generator).name),
        status=run_status(is_complete(task, full_task, out, counts), len(failures)),
        task={
            "name": config.name,
            "version": config.version,
            "hash": full_task.task_hash,
            "source": full_task.source,
            "limit": options.limit,
            "resolved": config.model_dump(mode="json"),
        },
        prompts={
            "files": full_task.prompt_files,
            "hash": full_task.prompts_hash,
            "count": len(full_task.prompts),
            "evaluated": len(task.prompts),
        },
        generator=generator,
        generation_recipe={
            **{k: first_recipe.get(k) for k in RECIPE_KEYS if k in first_recipe},
            "images_per_prompt": config.images_per_prompt,
            "seeds": [config.seed_for(k) for k in range(config.images_per_prompt)],
            "versions": first_recipe.get("versions"),
        },
        judge={
            "name": judge.name,
            "fingerprint": judge.fingerprint,
            "backend": judge.backend,
            "samples_per_image": judge.samples_per_image,
            "fields": judge.fingerprint_fields(),
            **judge_runtime,
        },
        scorers=out.signatures,
        scorer_specs=out.scorer_specs,
        primary_scorer=config.resolved_primary_scorer(sorted(out.prf_scorers)),
        image_policy=IMAGE_POLICY,
        counts=counts,
        overall=summarize(per_prompt, n_boot, seed),
        by_shift=grouped(per_prompt, "shift", n_boot, seed),
        by_category=grouped(per_prompt, "category", n_boot, seed),
        per_prompt=per_prompt,
        failures=failures,
        versions=library_versions(),
        git_commit=git_commit(),
        timings=timings,
        cost=run_cost(read_jsonl(events_log), options.prices or Prices()),
        baselines=out.baselines,
        bootstrap={"samples": n_boot, "seed": seed, "confidence": 0.95, "method": "percentile, over prompts"},
    )
