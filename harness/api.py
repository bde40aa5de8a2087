"""The library entry points behind `harness.evaluate` and `harness.load_run`, for notebooks and scripts:
the same evaluation as `punc eval`, without the command line."""

from __future__ import annotations

from pathlib import Path

from harness.run.reader import RunReader, load_run
from harness.run.schema import Results

DEFAULT_TASK = "world_default"


def evaluate(
    task: str | Path = DEFAULT_TASK,
    *,
    generator: str | None = None,
    judge: str | Path | None = None,
    out: str | Path | None = None,
    limit: int | None = None,
    images_per_prompt: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    batch_size: int | None = None,
    model_name: str | None = None,
    rescore: bool = False,
    progress: bool = False,
) -> Results:
    """Evaluate a generator on a task (a YAML path or a name in tasks/) and return its Results.

    Arguments mean what `punc eval`'s options mean; the generator and judge default to the task's.
    The run directory (`out`, default runs/TASK/MODEL) keeps every image, caption and score, so calling
    again with the same arguments resumes instead of recomputing. Read it back with `load_run(out)`.
    """
    from harness.config.judge import load_judge
    from harness.config.task import load_task
    from harness.errors import PuncError
    from harness.locate import resolve_judge_path, resolve_task_path
    from harness.paths import inside, safe_name
    from harness.run.evaluate import EvalOptions, Evaluation

    loaded = load_task(resolve_task_path(str(task))).with_overrides(images_per_prompt=images_per_prompt)
    generator_spec = generator or (loaded.config.generator and loaded.resolve_path(loaded.config.generator))
    if not generator_spec:
        raise PuncError(f"{loaded.source}: the task names no generator; pass generator=")
    judge_value = judge or (loaded.config.judge and loaded.resolve_path(loaded.config.judge))
    if not judge_value:
        raise PuncError(f"{loaded.source}: the task names no judge; pass judge=")
    label = safe_name(model_name or Path(str(generator_spec).rstrip("/")).name.split(":")[-1])
    out_dir = Path(out) if out is not None else inside(Path("runs"), Path(loaded.config.name) / label)
    options = EvalOptions(
        task=loaded,
        generator=str(generator_spec),
        judge=load_judge(resolve_judge_path(str(judge_value))),
        out_dir=out_dir,
        limit=limit,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        rescore=rescore,
        model_name=model_name,
        progress=progress,
    )
    results = Evaluation(options).run()
    if results is None:  # only under a multi-process launch, which this entry point does not start
        raise PuncError("evaluate(): this process is not the main one of a multi-process launch")
    return results


__all__ = ["RunReader", "evaluate", "load_run"]
