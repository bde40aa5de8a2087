"""`punc prefetch TASK`: download every dataset and weight a run will need, then say it can go offline."""

from __future__ import annotations

import typer

from harness.cli.app import app


@app.command("prefetch")
def prefetch(
    task: str = typer.Argument(..., help="Task YAML path or name in tasks/."),
    judge: str = typer.Option(
        None, "--judge", "-j", help="Judge YAML path or name in judges/ (default: the task's)."
    ),
    generator: str = typer.Option(None, "--generator", "-g", help="Generator spec (default: the task's)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only list what is needed and whether it is cached."
    ),
) -> None:
    """Fill the local caches (Hugging Face hub and datasets caches) so `punc eval` can run with HF_HUB_OFFLINE=1."""
    from harness.config._yaml import load_yaml_model
    from harness.config.judge import load_judge
    from harness.config.task import TaskConfig, load_task
    from harness.errors import PuncError
    from harness.hub import offline_reason
    from harness.locate import resolve_judge_path, resolve_task_path
    from harness.prefetch import dataset_needs, fetch, generator_needs, is_cached, judge_needs, scorer_needs

    path = resolve_task_path(task)
    config = load_yaml_model(TaskConfig, path)
    base = path.resolve().parent
    generator_spec = generator or (config.generator and _relative(base, config.generator))
    judge_value = judge or (config.judge and _relative(base, config.judge))
    judge_config = load_judge(resolve_judge_path(judge_value)) if judge_value else None
    needs = dataset_needs(config, base) + generator_needs(generator_spec) + judge_needs(judge_config)
    needs += scorer_needs(config)
    if not generator_spec:
        typer.echo("note: no generator given (task names none; pass --generator to prefetch its weights)")
    if not judge_value:
        typer.echo("note: no judge given (task names none; pass --judge to prefetch its weights)")

    missing = []
    for need in needs:
        if is_cached(need):
            typer.echo(f"cached   {need.label}")
        else:
            missing.append(need)
            typer.echo(f"missing  {need.label}")
    if dry_run:
        raise typer.Exit(0 if not missing else 1)
    if missing and offline_reason():
        raise PuncError(f"{len(missing)} item(s) missing and {offline_reason()}: unset it to download them")

    failures = []
    for need in missing:
        try:
            where = fetch(need)
        except PuncError as exc:
            failures.append(str(exc))
            typer.echo(f"failed   {need.label}: {exc}", err=True)
            continue
        typer.echo(f"fetched  {need.label} -> {where}")
    if failures:
        raise PuncError(
            f"{len(failures)} of {len(needs)} item(s) could not be fetched; the others are cached"
        )
    load_task(path)  # the prompt set now loads from the caches alone
    left = [n.label for n in needs if not is_cached(n)]
    if left:
        raise PuncError("still not in the cache after fetching: " + ", ".join(left))
    command = " ".join(["HF_HUB_OFFLINE=1 punc eval", task, *(["-g", generator] if generator else [])])
    command += f" -j {judge}" if judge else ""
    typer.echo(
        f"ready: everything {config.name} needs ({len(needs)} item(s)) is cached; the run can go offline: {command}"
    )


def _relative(base, value: str) -> str:
    candidate = base / value
    return str(candidate.resolve()) if candidate.exists() else value
