"""Thread count: --threads, then PUNC_THREADS, then the CPU quota found in cgroup files and affinity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import PuncError
from harness.threads import cpu_quota, resolve_threads

PINNED = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("150000 100000", min(PINNED, 2)), ("50000 100000", 1), ("max 100000", PINNED), (None, PINNED)],
)
def test_quota_from_cgroup_v2(tmp_path, cpu_max, expected):
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    assert cpu_quota(tmp_path) == expected


def test_quota_from_cgroup_v1(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(tmp_path) == 1


def test_option_beats_environment_beats_quota(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    monkeypatch.setenv("PUNC_THREADS", "3")
    assert resolve_threads(5, tmp_path) == (5, "--threads")
    assert resolve_threads(None, tmp_path) == (3, "PUNC_THREADS")
    monkeypatch.delenv("PUNC_THREADS")
    assert resolve_threads(None, tmp_path) == (1, "CPU quota")


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_bad_environment_value_is_an_error(monkeypatch, value):
    monkeypatch.setenv("PUNC_THREADS", value)
    with pytest.raises(PuncError, match="PUNC_THREADS"):
        resolve_threads(None)


def test_bad_environment_value_exits_2_through_punc(tmp_path):
    env = {**os.environ, "PUNC_THREADS": "lots", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "punc"), "eval", "--limit", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "error: PUNC_THREADS='lots': expected a whole number of threads >= 1" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_apply_sets_torch_threads():
    import torch

    from harness.threads import apply_threads

    before = torch.get_num_threads()
    try:
        apply_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
