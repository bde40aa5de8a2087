"""A run directory edited, corrupted, shared or out of space: a located error and exit 2, never a traceback,
never a second writer, never lost or overwritten work."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from cli_runner import run_punc
from hostile import assert_user_error, punc
from PIL import Image

from harness.run.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-run")
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_tiny_captioner(root / "cap")
    (root / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    (root / "p.jsonl").write_text(
        "\n".join(json.dumps({"id": f"p{i}", "text": f"a red circle {i}"}) for i in range(3))
    )
    (root / "t.yaml").write_text("name: hostile\nprompts: p.jsonl\nimages_per_prompt: 2\nscorers: [rouge1]\n")
    for i in range(3):
        (root / "images" / f"p{i}").mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (16, 16), (80 * i, 100 * k, 50)).save(root / "images" / f"p{i}" / f"{k}.png")
    code, _, err = run_punc(*eval_args(root, root / "run"))
    assert code == 0, err
    return root


def eval_args(root: Path, out: Path, *extra: str) -> list[str]:
    return ["eval", str(root / "t.yaml"), "-g", str(root / "images"), "-j", str(root / "j.yaml"), "-o", str(out), "-q", *extra]  # fmt: skip


@pytest.fixture
def run(workspace, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(workspace / "run", copy)
    return copy


def edit_line(path: Path, number: int, change) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = change(lines[number - 1])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("log", "change", "needle"),
    [
        ("captions.jsonl", lambda line: json.dumps({**json.loads(line), "caption": None}), ":2: field 'caption'"),
        ("captions.jsonl", lambda line: json.dumps({**json.loads(line), "index": "0"}), ":2: field 'index'"),
        ("images.jsonl", lambda line: json.dumps({k: v for k, v in json.loads(line).items() if k != "image_hash"}), ":2: field 'image_hash'"),
        ("images.jsonl", lambda line: json.dumps({**json.loads(line), "image_hash": "../../etc/passwd"}), ":2: field 'image_hash'"),
        ("scores.jsonl", lambda line: json.dumps({**json.loads(line), "values": [1, 2]}), ":2: field 'values'"),
        ("failures.jsonl", lambda line: line, None),
    ],
)  # fmt: skip
def test_hand_edited_logs_are_located_errors(workspace, run, log, change, needle):
    path = run / log
    if needle is None:  # a failures log with a list where a prompt id belongs
        path.write_text(json.dumps({"stage": "caption", "error": "x", "prompt_id": ["p0"]}) + "\n{}\n")
        needle = "failures.jsonl:1: field 'prompt_id'"
    else:
        edit_line(path, 2, change)
    before = {p.name: p.read_bytes() for p in run.glob("*.jsonl") if p.name != "events.jsonl"}
    rescore = () if log == "scores.jsonl" else ("--rescore",)  # --rescore sets scores aside unread
    code, out, err = run_punc(*eval_args(workspace, run, *rescore))
    assert code == 2 and "Traceback" not in err, err
    assert needle in err, err
    assert (run / "scores.jsonl").exists(), "nothing was set aside before the error"
    after = {p.name: p.read_bytes() for p in run.glob("*.jsonl") if p.name != "events.jsonl"}
    assert after == before  # nothing lost or rewritten (events.jsonl only gained its "start" line)


def test_bad_utf8_in_the_middle_of_a_log(workspace, run):
    data = (run / "captions.jsonl").read_bytes().split(b"\n")
    data[1] = data[1].replace(b"judge", b"ju\xffdge")
    (run / "captions.jsonl").write_bytes(b"\n".join(data))
    code, _, err = run_punc(*eval_args(workspace, run))
    assert code == 2 and "captions.jsonl:2: expected UTF-8 text" in err, err


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'{"identity": 5}', b"{" * 10000])
def test_broken_run_json(workspace, run, content):
    (run / "run.json").write_bytes(content)
    code, _, err = run_punc(*eval_args(workspace, run))
    assert code == 2 and "Traceback" not in err and "run.json" in err, err


def test_rescore_backups_never_overwrite(run):
    """Two backups in the same second: both kept, with their own contents (the second replaced the first)."""
    store = RunStore(run)
    originals = []
    kept = []
    for number in range(3):
        text = (run / "scores.jsonl").read_text() if number == 0 else f'{{"generation": {number}}}\n'
        (run / "scores.jsonl").write_text(text)
        originals.append(text)
        kept.append(store.set_aside_scores())
    assert len({p.name for p in kept}) == 3
    assert [p.read_text() for p in kept] == originals


def test_rescore_marks_results_incomplete_before_touching_scores(run):
    assert json.loads((run / "results.json").read_text())["complete"] is True
    RunStore(run).set_aside_scores()  # what --rescore does first; a crash right after must not look done
    assert json.loads((run / "results.json").read_text())["complete"] is False


def test_second_process_fails_at_once_while_a_run_is_written(workspace, run):
    with RunStore(run).lock():  # this test process is the first writer
        started = time.monotonic()
        done = punc(*eval_args(workspace, run), timeout=120)
        assert_user_error(done, "is being written by another punc process", f"pid {os.getpid()}")
    lines = (run / "captions.jsonl").read_text().count("\n")
    code, _, err = run_punc(*eval_args(workspace, run))  # free again once the first one is done
    assert code == 0, err
    assert (run / "captions.jsonl").read_text().count("\n") == lines  # no duplicated work
    assert time.monotonic() - started < 120


def test_full_disk_is_a_user_error_and_keeps_finished_work(workspace, run):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (run / "events.jsonl").unlink()
    (run / "events.jsonl").symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    before = (run / "captions.jsonl").read_bytes()
    code, _, err = run_punc(*eval_args(workspace, run))
    assert code == 2 and "No space left on device" in err and "Traceback" not in err, err
    assert (run / "captions.jsonl").read_bytes() == before


def test_unwritable_out(workspace, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run_punc(*eval_args(workspace, blocker / "run"))
    assert code == 2 and "Traceback" not in err and str(blocker) in err, err


def test_read_only_run_directory(workspace, run):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; CI runs this as an ordinary user")
    os.chmod(run, 0o555)
    try:
        code, _, err = run_punc(*eval_args(workspace, run, "--rescore"))
    finally:
        os.chmod(run, 0o755)
    assert code == 2 and "Traceback" not in err and "Permission denied" in err, err


def test_name_cannot_leave_runs(workspace, tmp_path, monkeypatch):
    """--name ../../../x used to write the run three folders above runs/."""
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    code, _, err = run_punc(
        "eval", str(workspace / "t.yaml"), "-g", str(workspace / "images"), "-j", str(workspace / "j.yaml"),
        "--name", "../../../escaped", "-q",
    )  # fmt: skip
    assert code == 0, err
    assert (work / "runs" / "hostile" / "escaped" / "results.json").is_file()
    assert not (tmp_path / "escaped").exists() and not (work / "escaped").exists()
