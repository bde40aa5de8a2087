"""The typer application; command modules are discovered so each one stays independent."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from harness.errors import PuncError

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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one message per line and exit code 2."""
    _load_commands()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PuncError as exc:
        from harness.redact import scrub

        for line in scrub(str(exc)).splitlines() or [type(exc).__name__]:
            typer.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work is kept; run the same command to resume", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
