"""Every name `punc ls` prints works where it is used, and missing names are reported plainly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

PUNC = str(Path(sys.executable).parent / "punc")
ROOT = Path(__file__).resolve().parents[2]


def punc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    return subprocess.run([PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def listed(what: str) -> dict[str, Path]:
    done = punc("ls", what)
    assert done.returncode == 0, done.stderr
    return {line.split()[0]: Path(line.split()[1]) for line in done.stdout.splitlines() if line.strip()}


@pytest.mark.parametrize("what", ["tasks", "judges"])
def test_listed_names_resolve_to_the_listed_file(what, tmp_path, monkeypatch):
    from harness.locate import resolve_judge_path, resolve_task_path
    from harness.prefetch import hub_status

    names = listed(what)
    assert names, f"punc ls {what} printed nothing"
    monkeypatch.chdir(tmp_path)  # names must work from anywhere, not only in the checkout
    resolve = resolve_task_path if what == "tasks" else resolve_judge_path
    for name, path in names.items():
        assert resolve(name).resolve() == path.resolve(), name
        done = punc("validate", str(resolve(name)), cwd=tmp_path)
        if what == "tasks" and hub_status(path).startswith("needs"):
            # a standard suite loads from the hub or the web: offline it must say how to prefetch it
            assert done.returncode == 2 and "punc prefetch" in done.stderr, (name, done.stderr)
        else:
            assert done.returncode == 0, (name, done.stderr)


def test_nested_judge_names_are_listed_bare():
    names = listed("judges")
    assert {"world", "qwen2-vl-vllm", "smolvlm-transformers", "openai-server"} <= set(names)
    assert names["qwen2-vl-vllm"].parts[-2:] == ("examples", "qwen2-vl-vllm.yaml")


def test_listed_scorers_and_generator_kinds_build():
    from harness.generators import split_spec
    from harness.scorers import build_scorer

    for name in listed("scorers"):
        assert build_scorer(name).name == name
    for kind in listed("generators"):
        assert split_spec(f"{kind}:somewhere")[0] == kind


def test_missing_judge_name_says_so_once(tmp_path):
    done = punc("eval", "--judge", "nosuch.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "judge 'nosuch.yaml': no such file, and no judge named 'nosuch' in judges/" in done.stderr
    assert ".yaml.yaml" not in done.stderr and "Traceback" not in done.stderr


def test_serve_judge_accepts_a_listed_name(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [PUNC, "serve-judge", "world", "--port", "0"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = ""
        for line in proc.stderr:
            if line.startswith("serving judge"):
                break
        assert "serving judge 'world-captioner'" in line, line
        url = line.split(" at ")[1].split()[0]
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
