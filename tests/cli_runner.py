"""Run the real `punc` entry point in-process and capture what a user would see."""

from __future__ import annotations

import contextlib
import io
import sys


def run_punc(*args: str) -> tuple[int, str, str]:
    from harness.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    return code, out.getvalue(), err.getvalue()
