"""User-facing errors: each one says where the problem is and what was expected, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def printable(text: object) -> str:
    """One line whatever the input: control and separator characters are shown escaped."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)


class PuncError(Exception):
    """An error the user can act on. The CLI prints its message and exits with code 2."""

    exit_code = 2


class InputError(PuncError):
    """A problem in a user file: names the file, the line or key path, the field and the expectation."""

    def __init__(
        self,
        file: str | Path | None,
        where: str | int | None,
        field: str | None,
        expected: str,
        got: object = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.where = where
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self.render())

    def render(self) -> str:
        place = self.file or "<input>"
        if self.where not in (None, ""):
            place += f":{self.where}" if isinstance(self.where, int) else f" at {printable(self.where)}"
        text = f"{place}: "
        if self.field:
            text += f"field '{printable(self.field)}': "
        text += f"expected {printable(self.expected)}"
        if self.got is not None:
            shown = repr(self.got)
            text += f", got {printable(shown[:80] + '...' if len(shown) > 80 else shown)}"
        return text


class InputErrors(PuncError):
    """Several input problems found in one pass, reported one per line."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


def storage_error(exc: OSError, doing: str = "read or write") -> PuncError:
    """A failed read or write of the run's own files (read-only folder, full disk) as a user error."""
    target = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return PuncError(
        f"cannot {doing} {printable(target)}: {reason}. Work already finished is kept on disk; "
        "fix the cause (permissions, free space, another --out) and run the same command to resume."
    )


def storage_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: an OSError escaping `function` (full disk, read-only folder) becomes a PuncError."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            raise storage_error(exc) from None

    return wrapper


class Interrupted(PuncError):
    """Ctrl-C during a run: what was finished is on disk; the CLI prints this and exits 130."""

    exit_code = 130

    def __init__(self, kept: int, what: str = "items") -> None:
        self.kept = kept
        super().__init__(f"interrupted: {kept} {what} kept; run the same command to resume")
