"""`punc validate` and `punc ls`: check user files without running anything; list what is available."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app
from harness.errors import InputError, InputErrors, PuncError


def validate_file(path: Path) -> str:
    """Validate one prompt set, task or judge file; returns what it is, raises InputError(s) if not valid."""
    from harness.config._yaml import read_yaml, validate_model
    from harness.config.judge import JudgeConfig
    from harness.config.prompts import load_prompt_file
    from harness.config.task import load_task

    if path.suffix == ".jsonl":
        return f"prompt set, {len(load_prompt_file(path))} prompts"
    if path.suffix not in (".yaml", ".yml"):
        raise InputError(path, None, None, "a prompt set (.jsonl), or a task or judge (.yaml)")
    data, node = read_yaml(path)
    if isinstance(data, dict) and "backend" in data:
        validate_model(JudgeConfig, data, path, node)
        return f"judge ({data.get('backend')})"
    if isinstance(data, dict) and "prompts" in data:
        task = load_task(path)
        return f"task, {len(task.prompts)} prompts x {task.config.images_per_prompt} images"
    raise InputError(path, "line 1", None, "a task (with a 'prompts' key) or a judge (with a 'backend' key)")


@app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., help="Prompt sets (.jsonl), tasks and judges (.yaml)."),
) -> None:
    """Check files; exit 0 when all are valid, 2 with one line per problem when not."""
    problems: list[str] = []
    for path in paths:
        try:
            kind = validate_file(path)
        except InputErrors as exc:
            problems.extend(e.render() for e in exc.errors)
        except PuncError as exc:
            problems.extend(str(exc).splitlines())
        else:
            typer.echo(f"ok {path}: {kind}")
    if problems:
        for line in problems:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2)


@app.command("ls")
def ls(what: str = typer.Argument(..., help="tasks | judges | scorers | generators")) -> None:
    """List shipped tasks and judges, and the registered scorers and generator kinds."""
    from harness.locate import list_shipped

    if what == "tasks":
        from harness.prefetch import hub_status

        for path in list_shipped(what, ".yaml"):
            typer.echo(f"{path.stem:<28} {path}  [{hub_status(path)}]")
    elif what == "judges":
        for path in list_shipped(what, ".yaml"):
            typer.echo(f"{path.stem:<28} {path}")
    elif what == "scorers":
        from harness.scorers import available_scorers

        for name, description in available_scorers().items():
            typer.echo(f"{name:<12} {description}")
    elif what == "generators":
        from harness.generators import available_generators

        for name, target in available_generators().items():
            typer.echo(f"{name:<12} {target}")
    else:
        raise PuncError(f"ls: expected one of tasks, judges, scorers, generators, got {what!r}")
