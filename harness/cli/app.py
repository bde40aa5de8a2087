"""The typer application; command modules are discovered so each one stays independent."""

from __future__ import annotations

import importlib
import pkgutil
import sys

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


def _show_usage_error(exc: Exception) -> int:
    """typer ships its own copy of click: its usage errors carry the usage line and exit code 2."""
    from typer._click.exceptions import ClickException as TyperClickException

    if isinstance(exc, TyperClickException):
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
            sys.exit(code)
    except Interrupted as exc:
        typer.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except PuncError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            typer.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work is kept; run the same command to resume", err=True)
        sys.exit(Interrupted.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("interrupted", err=True)
        sys.exit(Interrupted.exit_code)
    except Exception as exc:
        sys.exit(_show_usage_error(exc))
