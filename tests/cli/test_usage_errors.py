"""Usage mistakes through the installed `punc` executable: exit 2, the usage line, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PUNC = shutil.which("punc", path=str(Path(sys.executable).parent)) or "punc"

# (arguments, text the error must contain); RUN is replaced by an existing folder
MISTAKES = [
    (["eval", "--nonexistent-flag"], "No such option: --nonexistent-flag"),
    (["eval", "--limit", "abc"], "'--limit'"),
    (["eval", "-k", "0"], "'--images-per-prompt' / '-k'"),
    (["eval", "--limit", "0"], "'--limit'"),
    (["eval", "--batch-size", "-3"], "'--batch-size'"),
    (["eval", "--score-batch-size", "0"], "'--score-batch-size'"),
    (["eval", "--threads", "0"], "'--threads'"),
    (["eval", "--threads", "many"], "'--threads'"),
    (["eval", "--out"], "'--out' requires an argument"),
    (["eval", "--quiet=yes"], "does not take a value"),
    (["eval", "world_default", "extra"], "unexpected extra argument"),
    (["ls", "widgets"], "'widgets' is not one of"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["publish", "RUN"], "Missing option '--board'"),
    (["publish", "RUN", "--board"], "'--board' requires an argument"),
    (["detect"], "Missing argument"),
    (["detect", "RUN", "--bootstrap", "-1"], "'--bootstrap'"),
    (["report", "bias", "RUN", "--alpha", "2"], "'--alpha'"),
    (["report", "frobnicate"], "No such command 'frobnicate'"),
    (["validate"], "Missing argument"),
    (["score"], "Missing argument"),
    (["serve-judge", "world", "--port", "abc"], "'--port'"),
    (["leaderboard", "frobnicate"], "No such command 'frobnicate'"),
    (["leaderboard", "build"], "Missing argument"),
    (["--version"], "No such option: --version"),
]


def run_punc_executable(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.mark.parametrize(("args", "says"), MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_usage_mistake_exits_2_with_usage_line(tmp_path, args, says):
    (tmp_path / "RUN").mkdir()
    result = run_punc_executable(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Usage: punc"), result.stderr
    assert says in result.stderr, result.stderr
    assert result.stdout == ""


def test_at_least_twenty_mistakes_are_covered():
    assert len(MISTAKES) >= 20


def test_no_arguments_shows_help_not_a_traceback(tmp_path):
    result = run_punc_executable(cwd=tmp_path)
    assert result.returncode == 2
    shown = result.stdout + result.stderr
    assert "Traceback" not in shown
    assert "Usage: punc" in shown and "eval" in shown


def test_help_is_not_an_error(tmp_path):
    result = run_punc_executable("eval", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--allow-failures", "--json", "--threads"):
        assert option in result.stdout
