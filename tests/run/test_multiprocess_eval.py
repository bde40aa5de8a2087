"""`punc eval --num-processes 2` on the embedded world: the same run directory as one process, and a
2-process run killed mid-generation resumes with 1 process without redoing finished batches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
PUNC = Path(sys.executable).with_name("punc")
LIMIT, K = 1, 2  # one prompt of each of the four shifts, 2 images each: 8 images, 8 captions, 24 scores


@pytest.fixture(scope="module")
def small_batches(tmp_path_factory) -> Path:
    """The embedded judge with batches of 2, so the caption stage has several batches to share."""
    folder = tmp_path_factory.mktemp("judge")
    judge = (ROOT / "judges" / "world.yaml").read_text()
    judge = judge.replace("model: ../models/embedded/judge", f"model: {ROOT / 'models/embedded/judge'}")
    judge = judge.replace("batch_size: 64", "batch_size: 2")
    (folder / "world4.yaml").write_text(judge)
    return folder / "world4.yaml"


def command(out: Path, judge: Path, processes: int) -> list[str]:
    return [
        str(PUNC), "eval", str(ROOT / "tasks" / "world_default.yaml"), "--limit", str(LIMIT), "-k", str(K),
        "--judge", str(judge), "--out", str(out), "--batch-size", "2", "--score-batch-size", "4",
        "--device", "cpu", "-q", "--num-processes", str(processes), "--threads", "1",
        "--judge-price-per-call", "0.002", "--device-hour-usd", "3.6",
    ]  # fmt: skip
    # One torch thread in every process: a float sum split over 2 threads may round differently from
    # one thread, and on some prompts that flips a PNG pixel (seen on world_ood.000 of world v2.1).


def run(out: Path, judge: Path, processes: int) -> None:
    done = subprocess.run(command(out, judge, processes), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def score_values(out: Path) -> dict[tuple, dict[str, float]]:
    return {
        (r["prompt_id"], r["index"], r["sample_index"], r["scorer"], r["image_hash"]): r["values"]
        for r in records(out / "scores.jsonl")
    }


def assert_scores_match(got: dict, expected: dict) -> None:
    """ROUGE exactly; BERTScore within float32 noise (kernels are not bitwise equal across processes)."""
    assert got.keys() == expected.keys()
    for key, values in got.items():
        tolerance = 0.0 if key[3].startswith("rouge") else 1e-6
        for output, value in values.items():
            assert abs(value - expected[key][output]) <= tolerance, (
                key,
                output,
                value,
                expected[key][output],
            )


def close(a, b) -> bool:
    """Equal trees, floats within 1e-6."""
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in b)
    if isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, float):
        return abs(a - b) <= 1e-6
    return a == b


def stage_events(out: Path) -> list[dict]:
    return [e for e in records(out / "events.jsonl") if e["event"] == "stage"]


def shard_lines(out: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in (out / "shards").glob("images.rank*.jsonl"))


def by_item(path: Path, fields: tuple[str, ...]) -> dict:
    table = {}
    for r in records(path):
        key = tuple(r[f] for f in fields)
        assert key not in table, f"{path.name}: {key} written twice"
        table[key] = r
    return table


@pytest.fixture(scope="module")
def reference(tmp_path_factory, small_batches) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    run(out, small_batches, 1)
    return out


def test_two_processes_write_the_run_one_process_writes(reference, small_batches, tmp_path):
    out = tmp_path / "two"
    run(out, small_batches, 2)
    # the logs are folded in grid order: byte-identical images and captions, and every image file
    assert (out / "images.jsonl").read_bytes() == (reference / "images.jsonl").read_bytes()
    assert (out / "captions.jsonl").read_bytes() == (reference / "captions.jsonl").read_bytes()
    assert sorted(p.name for p in (out / "images").rglob("*.png")) == sorted(
        p.name for p in (reference / "images").rglob("*.png")
    )
    assert_scores_match(score_values(out), score_values(reference))
    assert not (out / "shards").exists()
    # both processes worked on every stage (each has several batches) and the run says so
    stages = {e["stage"]: e for e in stage_events(out)}
    assert {s: (e["processes"], e["items"]) for s, e in stages.items()} == {
        "generate": (2, 8),
        "caption": (2, 8),
        "score": (2, 24),
    }
    got, expected = (json.loads((d / "results.json").read_text()) for d in (out, reference))
    assert got["counts"] == expected["counts"]
    assert got["cost"]["per_stage"]["generate"]["device"] == "2 x cpu"
    assert expected["cost"]["per_stage"]["generate"]["device"] == "cpu"
    for part in ("overall", "per_prompt", "by_shift", "by_category", "scorers", "judge", "generator"):
        assert close(got[part], expected[part]), part
    # priced from the command line: 8 caption calls at $0.002, every process-second at $0.001
    caption = stages["caption"]
    assert abs(got["cost"]["per_stage"]["caption"]["usd"] - (0.016 + caption["device_seconds"] / 1000)) < 2e-6
    assert got["cost"]["device_seconds"] == round(sum(e["device_seconds"] for e in stages.values()), 3)


def test_two_process_run_killed_resumes_with_one(reference, small_batches, tmp_path):
    out = tmp_path / "killed"
    launcher = subprocess.Popen(
        command(out, small_batches, 2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a process group of its own: punc and accelerate's launcher
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        while launcher.poll() is None and time.monotonic() < deadline:
            workers = psutil.Process(launcher.pid).children(recursive=True) or workers
            if shard_lines(out) >= 2:  # at least one batch of 2 finished; generation is not over
                os.killpg(launcher.pid, signal.SIGKILL)  # as `kill -9` of the command's group would
                break
            time.sleep(0.01)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()
    # torchrun starts the ranks in sessions of their own: they must still end with their launcher
    _, alive = psutil.wait_procs(workers, timeout=30)
    for process in alive:
        process.kill()
    assert not alive, "processes outlived their launcher"
    finished_before_kill = shard_lines(out)
    assert 2 <= finished_before_kill < 8, "the run finished before the kill could land"
    assert not (out / "results.json").exists()

    run(out, small_batches, 1)
    # nothing finished was lost: the resumed run generated only the images the killed one had not
    generated = [e for e in stage_events(out) if e["stage"] == "generate"]
    assert generated[-1]["processes"] == 1
    assert generated[-1]["items"] == 8 - finished_before_kill
    assert not (out / "shards").exists()
    images = by_item(out / "images.jsonl", ("prompt_id", "index"))
    assert images == by_item(reference / "images.jsonl", ("prompt_id", "index"))
    captions = by_item(out / "captions.jsonl", ("prompt_id", "index", "sample_index"))
    assert captions == by_item(reference / "captions.jsonl", ("prompt_id", "index", "sample_index"))
    assert_scores_match(score_values(out), score_values(reference))
    got, expected = (json.loads((d / "results.json").read_text()) for d in (out, reference))
    assert got["counts"] == expected["counts"]
    assert close(got["per_prompt"], expected["per_prompt"])


def test_a_failing_process_ends_the_run_with_its_own_message_and_exit_code_2(tmp_path, small_batches):
    cmd = command(tmp_path / "bad", small_batches, 2) + ["--generator", str(tmp_path / "no-such-model")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert f"error: diffusers pipeline '{tmp_path / 'no-such-model'}': no such local folder" in done.stderr
    assert "run the same command, with any --num-processes, to resume" in done.stderr
    assert "Traceback" not in done.stderr and "ChildFailedError" not in done.stderr
