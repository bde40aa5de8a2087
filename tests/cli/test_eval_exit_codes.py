"""`punc eval` through the installed executable: exit codes 0/1/2/130, pre-flight, summary and threads.

0: all work done; 1: finished with failed items (0 with --allow-failures); 2: bad input, found before
the first image; 130: interrupted, with the count of finished items kept on disk.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from tiny_judges import build_tiny_captioner
from tiny_pipelines import build_tiny_sd_pipeline

ROOT = Path(__file__).resolve().parents[2]
PUNC = str(Path(sys.executable).parent / "punc")
SHIFTS = {"p0": "ood", "p1": "none", "p2": "none", "p3": "vague", "p4": "none"}
K = 2


def punc(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env, check=False
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """Prompts of three shifts, a complete folder of pre-made images and a tiny local captioner."""
    root = tmp_path_factory.mktemp("exit")
    build_tiny_captioner(root / "cap")
    (root / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    rows = [{"id": pid, "text": f"a red circle {pid}", "labels": {"shift": s}} for pid, s in SHIFTS.items()]
    (root / "p.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (root / "t.yaml").write_text(
        f"name: exits\nprompts: p.jsonl\nimages_per_prompt: {K}\nscorers: [rouge1]\nbootstrap_samples: 20\n"
    )
    for i, pid in enumerate(SHIFTS):
        (root / "images" / pid).mkdir(parents=True)
        for k in range(K):
            Image.new("RGB", (24, 24), (40 * i, 90 * k, 100)).save(root / "images" / pid / f"{k}.png")
    return root


def eval_args(ws: Path, out: str, *extra: str, task: str = "t.yaml", images: str = "images") -> list[str]:
    return [
        "eval",
        str(ws / task),
        "-g",
        str(ws / images),
        "-j",
        str(ws / "j.yaml"),
        "-o",
        str(ws / out),
        *extra,
    ]


def test_exit_0_all_done_json_summary_on_stdout(ws):
    done = punc(*eval_args(ws, "run0", "-q", "--json", "--threads", "1"), cwd=ws)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout holds only the summary
    results = json.loads((ws / "run0" / "results.json").read_text())
    assert [g["shift"] for g in summary["groups"]] == ["none", "ood", "vague", "all"]
    assert [g["prompts"] for g in summary["groups"]] == [3, 1, 1, 5]
    assert [g["too_small"] for g in summary["groups"]] == [True, True, True, False]
    none = summary["groups"][0]["u_tot"]
    assert none["mean"] == pytest.approx(results["by_shift"]["none"]["metrics"]["rouge1"]["u_tot"]["mean"])
    assert summary["counts"]["images"] == summary["counts"]["expected_images"] == 5 * K
    assert summary["failures"] == [] and summary["complete"] is True
    assert "torch threads: 1 (--threads)" in done.stderr


def test_limit_summary_counts_against_the_limited_task(ws):
    done = punc(*eval_args(ws, "runL", "-q", "--json", "--limit", "1"), cwd=ws)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["limit"] == 1 and summary["complete"] is False  # 3 of the 5 prompts
    assert [(g["shift"], g["prompts"]) for g in summary["groups"]] == [
        ("none", 1),
        ("ood", 1),
        ("vague", 1),
        ("all", 3),
    ]
    assert summary["counts"]["images"] == summary["counts"]["expected_images"] == 3 * K
    assert summary["counts"]["captions"] == summary["counts"]["expected_captions"] == 3 * K


def test_exit_1_failed_items_and_allow_failures(ws):
    images = ws / "holes"
    for pid in SHIFTS:
        (images / pid).mkdir(parents=True)
        Image.new("RGB", (24, 24), (1, 2, 3)).save(images / pid / "0.png")
    (images / "p4" / "1.png").write_text("not an image")  # p0..p3 lack image 1, p4's is broken
    failed = punc(*eval_args(ws, "run1", images="holes"), cwd=ws, env={"PUNC_THREADS": "1"})
    assert failed.returncode == 1, failed.stderr
    assert "exit code 1: 5 item(s) failed" in failed.stderr
    assert "torch threads: 1 (PUNC_THREADS)" in failed.stderr
    table = failed.stdout
    assert table.index("│ none") < table.index("│ ood") < table.index("│ vague") < table.index("│ all")
    assert re.search(r"│ none\s+│\s+3\* │", table) and "fewer than 5 prompts: too small to trust" in table
    assert "failed generate p4#1" in table and "failed generate p0#1" in table
    assert "generate" in failed.stderr and "generate" not in table.split("failed")[0]  # progress on stderr

    accepted = punc(*eval_args(ws, "run1", "-q", "--allow-failures", images="holes"), cwd=ws)
    assert accepted.returncode == 0, accepted.stderr
    assert "failed generate p4#1" in accepted.stdout, "accepted failures are still listed"


def _assert_bad_input_before_any_image(done, out: Path, *says: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    for text in says:
        assert text in done.stderr, done.stderr
    assert not (out / "images.jsonl").exists() and not (out / "images").exists()


def test_exit_2_bad_scorer_parameter_before_generating(ws):
    (ws / "layr.yaml").write_text(
        "name: exits\nprompts: p.jsonl\nscorers: [rouge1, {name: bertscore, params: {layr: 3}}]\n"
    )
    done = punc(*eval_args(ws, "run2", task="layr.yaml"), cwd=ws)
    _assert_bad_input_before_any_image(
        done, ws / "run2", "layr.yaml at key scorers[1]: field 'params'", "got ['layr']"
    )
    checked = punc("validate", str(ws / "layr.yaml"), cwd=ws)
    assert checked.returncode == 2 and "layr.yaml at key scorers[1]" in checked.stderr


def test_exit_2_unknown_scorer_name(ws):
    (ws / "nosuch.yaml").write_text("name: exits\nprompts: p.jsonl\nscorers: [rouge1, bleurt]\n")
    done = punc(*eval_args(ws, "run2b", task="nosuch.yaml"), cwd=ws)
    _assert_bad_input_before_any_image(done, ws / "run2b", "scorers[1]: field 'name'", "got 'bleurt'")


def test_exit_2_unreachable_judge_server_before_generating(ws):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (ws / "remote.yaml").write_text(
        f"name: remote\nbackend: openai\nmodel: m\nbase_url: http://127.0.0.1:{port}/v1\n"
    )
    started = time.perf_counter()
    args = eval_args(ws, "run2c")
    args[args.index("-j") + 1] = str(ws / "remote.yaml")
    done = punc(*args, cwd=ws)
    _assert_bad_input_before_any_image(done, ws / "run2c", f"http://127.0.0.1:{port}/v1 cannot be reached")
    assert time.perf_counter() - started < 60


def test_exit_2_missing_judge_model_folder(ws):
    (ws / "nomodel.yaml").write_text("name: nomodel\nbackend: transformers\nmodel: ./no-such-model\n")
    args = eval_args(ws, "run2d")
    args[args.index("-j") + 1] = str(ws / "nomodel.yaml")
    done = punc(*args, cwd=ws)
    _assert_bad_input_before_any_image(done, ws / "run2d", "no-such-model", "no such local folder")


@pytest.mark.parametrize(
    ("generator", "says"),
    [
        ("foo:bar", "'foo' is not a registered generator kind"),
        ("missing/images.jsonl", "no such file or folder (expected a JSONL manifest"),
    ],
)
def test_exit_2_generator_spec(ws, generator, says):
    args = eval_args(ws, "run2e")
    args[args.index("-g") + 1] = generator  # as typed, relative to the working directory
    done = punc(*args, cwd=ws)
    _assert_bad_input_before_any_image(done, ws / "run2e", says)
    assert "hf download" not in done.stderr and "diffusers pipeline" not in done.stderr


def test_exit_2_premade_numbered_from_one(ws):
    images = ws / "from1"
    for pid in SHIFTS:
        (images / pid).mkdir(parents=True)
        for k in range(1, K + 1):
            Image.new("RGB", (24, 24), (9, 9, 9)).save(images / pid / f"{k}.png")
    done = punc(*eval_args(ws, "run2f", images="from1"), cwd=ws)
    _assert_bad_input_before_any_image(
        done, ws / "run2f", "field 'image numbers'", f"0-based numbers 0..{K - 1}", "got 'images 1, 2'"
    )


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_exit_130_interrupted_keeps_work_and_resumes(tmp_path, ws):
    build_tiny_sd_pipeline(tmp_path / "sd")
    rows = [{"id": f"q{i:02d}", "text": f"a blue square {i}"} for i in range(40)]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "t.yaml").write_text(
        "name: sigint\nprompts: p.jsonl\nimages_per_prompt: 1\nsteps: 4\nscorers: [rouge1]\n"
        f"bootstrap_samples: 10\ngenerator: sd\njudge: {ws / 'j.yaml'}\n"
    )
    out = tmp_path / "run"
    args = [
        PUNC,
        "eval",
        str(tmp_path / "t.yaml"),
        "-o",
        str(out),
        "--batch-size",
        "1",
        "-q",
        "--threads",
        "1",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while _lines(out / "images.jsonl") < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    kept = sum(_lines(out / name) for name in ("images.jsonl", "captions.jsonl", "scores.jsonl"))
    assert kept >= 2
    assert f"interrupted: {kept} items kept; run the same command to resume" in stderr
    assert not (out / "results.json").exists()

    resumed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["complete"] and results["counts"]["images"] == 40
