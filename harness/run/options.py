"""What one evaluation is asked to do: the task, generator, judge, run directory and knobs of `punc eval`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.config.judge import JudgeConfig
from harness.config.task import LoadedTask
from harness.run.cost import Prices

SCORE_BATCH = 256


@dataclass
class EvalOptions:
    task: LoadedTask
    generator: str
    judge: JudgeConfig
    out_dir: Path
    limit: int | None = None
    device: str | None = None
    dtype: str | None = None
    batch_size: int | None = None
    rescore: bool = False
    model_name: str | None = None
    progress: bool = True
    score_batch_size: int = SCORE_BATCH
    prices: Prices | None = None
    overlap: bool | None = None  # caption while generating; None: for remote judges (run/overlap.py)


@dataclass
class ResolvedInputs:
    """A task with its generator, judge and run directory, as `punc eval` and `harness.evaluate` name them."""

    task: LoadedTask
    generator: str
    judge_path: Path
    judge: JudgeConfig
    out_dir: Path


def resolve_inputs(
    task: str | None,
    generator: str | None,
    judge: str | None,
    out: Path | None,
    model_name: str | None,
    images_per_prompt: int | None,
    generator_hint: str,
    judge_hint: str,
) -> ResolvedInputs:
    """The task file and its overrides; the generator and judge default to the task's, and the run
    directory to runs/TASK/MODEL. The hints say how the caller passes a missing generator or judge."""
    from harness.config.judge import load_judge
    from harness.config.task import load_task
    from harness.errors import PuncError
    from harness.locate import resolve_judge_path, resolve_task_path
    from harness.paths import inside, safe_name

    loaded = load_task(resolve_task_path(task)).with_overrides(images_per_prompt=images_per_prompt)
    generator_spec = generator or (loaded.config.generator and loaded.resolve_path(loaded.config.generator))
    if not generator_spec:
        raise PuncError(f"{loaded.source}: the task names no generator; pass {generator_hint}")
    judge_value = judge or (loaded.config.judge and loaded.resolve_path(loaded.config.judge))
    if not judge_value:
        raise PuncError(f"{loaded.source}: the task names no judge; pass {judge_hint}")
    judge_path = resolve_judge_path(judge_value)
    label = safe_name(model_name or Path(generator_spec.rstrip("/")).name.split(":")[-1])
    out_dir = out if out is not None else inside(Path("runs"), Path(loaded.config.name) / label)
    return ResolvedInputs(loaded, generator_spec, judge_path, load_judge(judge_path), out_dir)
