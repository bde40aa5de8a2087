"""`punc prefetch` and `punc ls tasks`, through the installed `punc` executable: prompt files served by a
real HTTP server on loopback are fetched once, then the task loads with the server gone and
HF_HUB_OFFLINE=1; what cannot be fetched fails fast with exit code 2 and says what to do."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from harness.locate import PROJECT_ROOT

PUNC = shutil.which("punc", path=str(Path(sys.executable).parent)) or "punc"
PROMPTS = [
    {"tag": "single_object", "include": [{"class": "lamp", "count": 1}], "prompt": "a photo of a lamp"},
    {
        "tag": "colors",
        "include": [{"class": "cup", "count": 1, "color": "red"}],
        "prompt": "a photo of a red cup",
    },
]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "evaluation_metadata.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def punc(cwd: Path, *args: str, offline: bool, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    environ.update(HF_HOME=str(cwd / "hf-home"), HF_DATASETS_CACHE=str(cwd / "hf-datasets"), **env)
    if offline:
        environ["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([PUNC, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=180)


def geneval_task_at(cwd: Path, url: str) -> Path:
    """The shipped GenEval task, its data file served from `url` instead of GitHub."""
    task = yaml.safe_load((PROJECT_ROOT / "tasks" / "geneval.yaml").read_text())
    task["name"] = "geneval_loopback"
    task["prompts"]["data_files"] = url
    (cwd / "tasks").mkdir(exist_ok=True)
    path = cwd / "tasks" / "geneval_loopback.yaml"
    path.write_text(yaml.safe_dump(task))
    return path


def ls_line(result: subprocess.CompletedProcess, name: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith(name + " "))


def test_prefetch_then_run_offline_with_the_server_gone(tmp_path, server):
    port = server.server_address[1]
    geneval_task_at(tmp_path, f"http://127.0.0.1:{port}/evaluation_metadata.jsonl")

    listed = punc(tmp_path, "ls", "tasks", offline=True)
    assert listed.returncode == 0, listed.stderr
    assert "needs the web; not cached: punc prefetch geneval_loopback" in ls_line(listed, "geneval_loopback")
    assert "[local]" in ls_line(listed, "punc_protocol")
    assert "needs the hub; not cached" in ls_line(listed, "parti_prompts")

    before = punc(tmp_path, "validate", "tasks/geneval_loopback.yaml", offline=True)
    assert before.returncode == 2 and "punc prefetch" in before.stderr and "Traceback" not in before.stderr

    fetched = punc(tmp_path, "prefetch", "geneval_loopback", offline=False)
    assert fetched.returncode == 0, fetched.stderr
    assert "missing  prompts data files" in fetched.stdout and "fetched  prompts data files" in fetched.stdout
    assert "ready:" in fetched.stdout and "HF_HUB_OFFLINE=1 punc eval geneval_loopback" in fetched.stdout

    server.shutdown()
    server.server_close()
    after = punc(tmp_path, "validate", "tasks/geneval_loopback.yaml", offline=True)
    assert after.returncode == 0, after.stderr
    assert "task, 2 prompts x 4 images" in after.stdout
    listed = punc(tmp_path, "ls", "tasks", offline=True)
    assert ls_line(listed, "geneval_loopback").endswith("[needs the web; cached]")
    again = punc(tmp_path, "prefetch", "geneval_loopback", offline=True)
    assert (
        again.returncode == 0 and "cached   prompts data files" in again.stdout and "ready:" in again.stdout
    )


def test_unreachable_server_fails_fast_with_exit_2(tmp_path):
    geneval_task_at(tmp_path, f"http://127.0.0.1:{closed_port()}/evaluation_metadata.jsonl")
    result = punc(tmp_path, "prefetch", "geneval_loopback", offline=False)
    assert result.returncode == 2
    assert "cannot be downloaded (ConnectError)" in result.stderr and "Traceback" not in result.stderr
    offline = punc(tmp_path, "prefetch", "geneval_loopback", offline=True)
    assert offline.returncode == 2 and "HF_HUB_OFFLINE=1 is set" in offline.stderr


def test_hub_datasets_and_models_are_listed_and_an_unreachable_hub_fails_fast(tmp_path):
    (tmp_path / "judge.yaml").write_text("name: remote\nbackend: transformers\nmodel: some-org/some-vlm\n")
    dry = punc(
        tmp_path,
        "prefetch",
        "drawbench",
        "-j",
        "judge.yaml",
        "-g",
        "some-org/some-t2i",
        "--dry-run",
        offline=True,
    )
    assert dry.returncode == 1, dry.stderr
    assert "missing  prompts dataset sayakpaul/drawbench" in dry.stdout
    assert "missing  generator model some-org/some-t2i" in dry.stdout
    assert "missing  judge model some-org/some-vlm" in dry.stdout
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = punc(tmp_path, "prefetch", "drawbench", offline=False, HF_ENDPOINT=endpoint)
    assert result.returncode == 2 and "could not be fetched" in result.stderr
    assert (
        "failed   prompts dataset sayakpaul/drawbench" in result.stderr and "Traceback" not in result.stderr
    )


def test_a_task_with_everything_local_needs_nothing(tmp_path):
    result = punc(tmp_path, "prefetch", "world_default", offline=True)
    assert result.returncode == 0, result.stderr
    assert "ready: everything world_default needs (0 item(s)) is cached" in result.stdout


def put_in_hub_cache(hf_home: Path, repo_id: str) -> None:
    """A model as huggingface_hub's cache stores it (models--ORG--NAME/refs/main + snapshots/COMMIT/)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")


def test_models_already_in_the_hub_cache_count_as_cached(tmp_path):
    put_in_hub_cache(tmp_path / "hf-home", "some-org/cached-t2i")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "hub_model.yaml").write_text(
        yaml.safe_dump({"name": "hub_model", "prompts": "p.jsonl", "generator": "some-org/cached-t2i"})
    )
    (tmp_path / "tasks" / "p.jsonl").write_text(json.dumps({"id": "a", "text": "a lamp"}) + "\n")
    listed = punc(tmp_path, "ls", "tasks", offline=True)
    assert ls_line(listed, "hub_model").endswith("[needs the hub; cached]"), listed.stdout
    dry = punc(tmp_path, "prefetch", "hub_model", "--dry-run", offline=True)
    assert dry.returncode == 0 and "cached   generator model some-org/cached-t2i" in dry.stdout
    other = punc(tmp_path, "prefetch", "hub_model", "-g", "some-org/other-t2i", "--dry-run", offline=True)
    assert other.returncode == 1 and "missing  generator model some-org/other-t2i" in other.stdout
