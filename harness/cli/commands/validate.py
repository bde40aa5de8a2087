"""`punc validate` and `punc ls`: check user files without running anything; list what is available."""

from __future__ import annotations

from enum import StrEnum
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
    from harness.run.preflight import check_scorers

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
        check_scorers(task.config.scorers, file=str(path))
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


class Listing(StrEnum):
    tasks = "tasks"
    judges = "judges"
    scorers = "scorers"
    generators = "generators"
    baselines = "baselines"
    judge_backends = "judge-backends"


#: the plug-in kinds (harness.registry), by the heading `punc ls` prints and the registry's key
PLUGIN_LISTINGS = {
    Listing.generators: "generators",
    Listing.judge_backends: "judges",
    Listing.scorers: "scorers",
    Listing.baselines: "baselines",
}


def _print_plugins(what: Listing, indent: str = "") -> None:
    from harness.registry import REGISTRIES

    listed = REGISTRIES[PLUGIN_LISTINGS[what]].describe()
    width = max((len(name) for name in listed), default=0)
    for name, description in listed.items():
        typer.echo(f"{indent}{name:<{width}}  {description}")


@app.command("ls")
def ls(
    what: Listing | None = typer.Argument(
        None,
        help="What to list; without it, every plug-in kind (generators, judge backends, scorers, baselines).",
    ),
) -> None:
    """List shipped tasks and judges, and the registered generators, judge backends, scorers and baselines.

    Every name printed works where it is used: `punc eval TASK`, `--judge NAME`, `punc serve-judge
    NAME`, `--generator KIND:ARGUMENT`, a judge's `backend: NAME`, a task's `scorers: [NAME]` and
    `baselines: [NAME]`.
    """
    from harness.locate import shipped_names

    if what is None:
        for index, listing in enumerate(PLUGIN_LISTINGS):
            typer.echo(("\n" if index else "") + f"{listing.value.replace('-', ' ')}:")
            _print_plugins(listing, indent="  ")
    elif what == Listing.tasks:
        from harness.prefetch import hub_status

        for name, path in shipped_names(what.value).items():
            typer.echo(f"{name:<28} {path}  [{hub_status(Path(path))}]")
    elif what == Listing.judges:
        for name, path in shipped_names(what.value).items():
            typer.echo(f"{name:<28} {path}")
    else:
        _print_plugins(what)
