"""Run the installed `punc` executable the way a user does, with a time limit, and check its outcome."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PUNC = str(Path(sys.executable).parent / "punc")


def punc(*args: str, timeout: float = 120, cwd: Path | None = None, env: dict | None = None, **kw):
    """CompletedProcess of `punc ARGS`; a hang fails the test through TimeoutExpired."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [PUNC, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=full_env, **kw
    )


def assert_user_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2, no traceback, every line an `error:` line, and each needle in stderr."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr[-3000:])
