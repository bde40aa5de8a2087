"""The typer application; command modules are discovered so each one stays independent."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import typer

from harness.errors import Interrupted, PuncError

app = typer.Typer(
    name="punc",
    help="Per-prompt uncertainty of text-to-image models, judged by vision-language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _load_commands() -> None:
    from harness.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}")


def fail(message: str, code: int = 2) -> None:
    """Print a user-facing error and exit; used where a command must stop early."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _context_for(argv: list[str]) -> Any:
    """A context of the deepest (sub)command named in argv, for its usage line; None if unknown."""
    from typer.main import get_command

    command = get_command(app)
    ctx = None
    names = ["punc"]
    try:
        ctx = command.make_context("punc", [], resilient_parsing=True)
        for token in argv:
            sub = getattr(command, "commands", {}).get(token)
            if sub is None:
                continue
            command, names = sub, [*names, token]
            ctx = command.make_context(" ".join(names), [], parent=None, resilient_parsing=True)
    except Exception:  # a usage line is a courtesy: never fail while looking for it
        return ctx
    return ctx


def _show_usage_error(exc: Exception, argv: list[str] | None) -> int:
    """typer ships its own copy of click: its usage errors carry the usage line and exit code 2."""
    from typer._click.exceptions import ClickException as TyperClickException

    if isinstance(exc, TyperClickException):
        if getattr(exc, "ctx", "absent") is None:  # raised while parsing: find the command's usage
            exc.ctx = _context_for(argv if argv is not None else sys.argv[1:])
        exc.show()
        return exc.exit_code
    import click  # a plug-in command built on plain click raises these

    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    raise exc


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors and user errors become short messages, exit code 2.

    Exit codes: 0 all work done, 1 a run finished with failed items, 2 bad input or usage,
    130 interrupted (finished work is kept).
    """
    _load_commands()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            if code == Interrupted.exit_code:  # typer turns Ctrl-C in a command into exit code 130
                typer.echo("interrupted: finished work is kept; run the same command to resume", err=True)
            sys.exit(code)
    except Interrupted as exc:
        typer.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except PuncError as exc:
        from harness.redact import scrub

        for line in scrub(str(exc)).splitlines() or [type(exc).__name__]:
            typer.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work is kept; run the same command to resume", err=True)
        sys.exit(Interrupted.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:
        sys.exit(_show_usage_error(exc, argv))
