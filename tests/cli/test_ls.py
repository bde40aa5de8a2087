"""`punc ls` through the installed executable: every plug-in kind, one line of description each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.registry import REGISTRIES

PUNC = str(Path(sys.executable).parent / "punc")


def punc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    return subprocess.run([PUNC, *args], capture_output=True, text=True, timeout=120, env=env)


def table(text: str) -> dict[str, str]:
    return {line.split()[0]: line.split(None, 1)[1] for line in text.splitlines() if line.strip()}


def test_bare_ls_lists_all_four_kinds_with_descriptions():
    done = punc("ls")
    assert done.returncode == 0, done.stderr
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in done.stdout.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = sections.setdefault(line[:-1], {})
        elif line.strip():
            name, description = line.split(None, 1)
            current[name] = description
    assert list(sections) == ["generators", "judge backends", "scorers", "baselines"]
    for heading, kind in zip(sections, ("generators", "judges", "scorers", "baselines"), strict=True):
        assert sections[heading] == REGISTRIES[kind].describe()
    assert sections["judge backends"]["openai"].startswith("Any OpenAI-compatible")
    assert sections["baselines"]["seed_ensemble_ssim"].startswith("1 − mean pairwise SSIM")


@pytest.mark.parametrize(
    ("what", "kind"),
    [
        ("generators", "generators"),
        ("judge-backends", "judges"),
        ("scorers", "scorers"),
        ("baselines", "baselines"),
    ],
)
def test_ls_of_one_kind(what, kind):
    done = punc("ls", what)
    assert done.returncode == 0, done.stderr
    assert table(done.stdout) == REGISTRIES[kind].describe()


def test_ls_of_something_unknown_is_a_usage_error():
    done = punc("ls", "plugins")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "judge-backends" in done.stderr and "baselines" in done.stderr
