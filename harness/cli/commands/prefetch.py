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
    from harness.errors import PuncError
    from harness.hub import offline_reason
    from harness.locate import resolve_task_path
    from harness.prefetch import fetch, is_cached, needs_for_task

    path = resolve_task_path(task)
    config, needs = needs_for_task(path, generator, judge)
    if not (generator or config.generator):
        typer.echo("note: no generator given (the task names none; pass --generator to prefetch its weights)")
    if not (judge or config.judge):
        typer.echo("note: no judge given (the task names none; pass --judge to prefetch its weights)")

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
    left = [n.label for n in needs if not is_cached(n)]
    if left:
        raise PuncError("still not in the cache after fetching: " + ", ".join(left))
    command = " ".join(["HF_HUB_OFFLINE=1 punc eval", task, *(["-g", generator] if generator else [])])
    command += f" -j {judge}" if judge else ""
    typer.echo(
        f"ready: everything {config.name} needs ({len(needs)} item(s)) is cached; the run can go offline: {command}"
    )
