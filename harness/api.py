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
    from harness.errors import PuncError
    from harness.run.evaluate import EvalOptions, Evaluation
    from harness.run.options import resolve_inputs

    inputs = resolve_inputs(
        str(task),
        generator,
        None if judge is None else str(judge),
        None if out is None else Path(out),
        model_name,
        images_per_prompt,
        generator_hint="generator=",
        judge_hint="judge=",
    )
    options = EvalOptions(
        task=inputs.task,
        generator=inputs.generator,
        judge=inputs.judge,
        out_dir=inputs.out_dir,
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
