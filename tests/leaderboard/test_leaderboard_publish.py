"""`punc publish`: the comparability guard, partial runs, safe names, inert bundles, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lb_fixtures import JUDGE_FP, MODEL_A, MODEL_B, MODEL_C, SCORERS, TASK_HASH, make_run, png_bytes

from harness.cli.app import main
from harness.errors import PuncError
from harness.leaderboard import publish as publish_mod
from harness.leaderboard.publish import IMAGE_BUDGET_BYTES, publish_run


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _board(runs_root: Path, boards_dir: Path) -> Path:
    publish_run(make_run(runs_root, MODEL_A), "toy", boards_dir, new_board=True)
    return boards_dir / "toy"


def test_first_publish_creates_board_and_bundle(runs_root: Path, boards_dir: Path) -> None:
    board = _board(runs_root, boards_dir)
    meta = json.loads((board / "board.json").read_text())
    assert meta["task_hash"] == TASK_HASH
    assert meta["judge_fingerprint"] == JUDGE_FP
    assert meta["scorers"] == dict(sorted(SCORERS.items()))
    assert meta["primary_scorer"] == "rougeL"
    (bundle,) = [p for p in (board / "runs").iterdir()]
    assert bundle.name.startswith("model-a-")
    names = sorted(p.name for p in bundle.iterdir())
    assert names == [
        "bundle.json",
        "captions.jsonl",
        "detection.json",
        "images",
        "manifest.jsonl",
        "results.json",
        "scores.jsonl",
    ]
    info = json.loads((bundle / "bundle.json").read_text())
    assert info["images"]["policy"] == "all" and info["images"]["copied"] == 4
    assert info["partial"] is False
    assert len(list((bundle / "images").glob("*.png"))) == 4
    manifest = [json.loads(line) for line in (bundle / "manifest.jsonl").read_text().splitlines()]
    assert {m["prompt_id"] for m in manifest} == {"p1", "p2"} and all("recipe" in m for m in manifest)
    for name in ("index.json", "README.md", "index.html"):
        assert (board / name).is_file()


def test_missing_board_needs_new_board(runs_root: Path, boards_dir: Path) -> None:
    with pytest.raises(PuncError, match="--new-board"):
        publish_run(make_run(runs_root, MODEL_A), "toy", boards_dir)


def test_new_board_never_overwrites(runs_root: Path, boards_dir: Path) -> None:
    board = _board(runs_root, boards_dir)
    before = (board / "board.json").read_bytes()
    with pytest.raises(PuncError, match="already exists") as err:
        publish_run(make_run(runs_root, MODEL_B), "toy", boards_dir, new_board=True)
    assert "never overwrites" in str(err.value)
    assert (board / "board.json").read_bytes() == before


def test_refuses_other_task_hash(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    run = make_run(runs_root, MODEL_B, task_hash="task-ffff")
    with pytest.raises(PuncError) as err:
        publish_run(run, "toy", boards_dir)
    msg = str(err.value)
    assert f"task hash differs: board has '{TASK_HASH}', run has 'task-ffff'" in msg
    assert "--new-board" in msg
    assert "judge fingerprint" not in msg and "scorer signatures" not in msg


def test_refuses_other_judge_fingerprint(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    run = make_run(runs_root, MODEL_B, judge_fp="judge-fp-bbbb")
    with pytest.raises(PuncError) as err:
        publish_run(run, "toy", boards_dir)
    msg = str(err.value)
    assert f"judge fingerprint differs: board has '{JUDGE_FP}', run has 'judge-fp-bbbb'" in msg
    assert "--new-board" in msg
    assert "task hash" not in msg


def test_refuses_other_scorer_signatures(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    scorers = dict(SCORERS, cosine="cosine|other-backbone|st=3.0")
    with pytest.raises(PuncError) as err:
        publish_run(make_run(runs_root, MODEL_B, scorers=scorers), "toy", boards_dir)
    msg = str(err.value)
    assert (
        "scorer signatures differ for scorer 'cosine': board has 'cosine|all-MiniLM-L6-v2|st=3.0', "
        "run has 'cosine|other-backbone|st=3.0'" in msg
    )
    assert "--new-board" in msg
    # a scorer missing from the run is a difference too
    runs2 = runs_root / "second"
    runs2.mkdir()
    only_rouge = {"rougeL": SCORERS["rougeL"]}
    with pytest.raises(PuncError) as err:
        publish_run(make_run(runs2, MODEL_B, scorers=only_rouge), "toy", boards_dir)
    assert "scorer signatures differ for scorer 'cosine'" in str(err.value) and "<absent>" in str(err.value)
    assert len(list((boards_dir / "toy" / "runs").iterdir())) == 1


def test_mismatched_run_can_start_a_new_board(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    result = publish_run(
        make_run(runs_root, MODEL_B, task_hash="task-ffff"), "toy-v2", boards_dir, new_board=True
    )
    assert result.created_board and (boards_dir / "toy-v2" / "board.json").is_file()


def test_same_run_twice_is_refused(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    with pytest.raises(PuncError, match="already on board 'toy'"):
        publish_run(runs_root / "model-a", "toy", boards_dir, label="another label")
    assert len(list((boards_dir / "toy" / "runs").iterdir())) == 1


def test_partial_run_refused_then_allowed(runs_root: Path, boards_dir: Path) -> None:
    _board(runs_root, boards_dir)
    failures = [{"stage": "caption", "prompt_id": "p2", "index": 1, "error": "judge timeout"}]
    run = make_run(runs_root, MODEL_B, complete=False, failures=failures)
    with pytest.raises(PuncError, match="--allow-partial") as err:
        publish_run(run, "toy", boards_dir)
    assert "complete=false" in str(err.value) and "1 failure(s)" in str(err.value)
    result = publish_run(run, "toy", boards_dir, allow_partial=True)
    assert result.partial
    info = json.loads((result.bundle_dir / "bundle.json").read_text())
    assert info["partial"] is True and "1 failure(s)" in info["partial_reason"]
    index = json.loads((boards_dir / "toy" / "index.json").read_text())
    partial = {m["label"]: m["partial"] for m in index["models"]}
    assert partial == {"model-a": False, "model-b": True}
    readme = (boards_dir / "toy" / "README.md").read_text()
    assert [line for line in readme.splitlines() if "model-b" in line][0].rstrip().endswith("| partial |")


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 200, "bad name", "a..b"])
def test_unsafe_board_name_refused(runs_root: Path, boards_dir: Path, name: str) -> None:
    run = make_run(runs_root, MODEL_A)
    with pytest.raises(PuncError, match="board name .* is not allowed"):
        publish_run(run, name, boards_dir, new_board=True)
    assert not boards_dir.exists() or not any(boards_dir.iterdir())


def test_label_becomes_safe_bundle_id(runs_root: Path, boards_dir: Path) -> None:
    run = make_run(runs_root, MODEL_A)
    result = publish_run(run, "toy", boards_dir, new_board=True, label="../../My Model <b>v2</b>")
    assert result.bundle_dir.parent == boards_dir / "toy" / "runs"
    assert result.bundle_id.startswith("My-Model-b-v2-b")
    assert json.loads((result.bundle_dir / "bundle.json").read_text())["label"] == "../../My Model <b>v2</b>"


def test_only_known_files_are_copied_and_json_is_reserialised(runs_root: Path, boards_dir: Path) -> None:
    run = make_run(runs_root, MODEL_A)
    (run / "evil.html").write_text("<script>alert(1)</script>")
    (run / "images" / "zz").mkdir()
    (run / "images" / "zz" / "evil.svg").write_text("<svg onload=alert(1)>")
    (run / "hook.py").write_text("raise SystemExit('executed')")
    # extra keys in records are dropped, extra keys in results.json survive only as data
    lines = (run / "captions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["onload"] = "alert(1)"
    (run / "captions.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    result = publish_run(run, "toy", boards_dir, new_board=True)
    files = sorted(str(p.relative_to(result.bundle_dir)) for p in result.bundle_dir.rglob("*") if p.is_file())
    assert all(f.endswith((".json", ".jsonl", ".png")) for f in files)
    assert not any("evil" in f or "hook" in f for f in files)
    caps = [json.loads(x) for x in (result.bundle_dir / "captions.jsonl").read_text().splitlines()]
    assert all("onload" not in c for c in caps)


def test_fake_png_is_refused(runs_root: Path, boards_dir: Path) -> None:
    run = make_run(runs_root, MODEL_A)
    manifest = [json.loads(x) for x in (run / "images.jsonl").read_text().splitlines()]
    h = manifest[0]["image_hash"]
    (run / "images" / h[:2] / f"{h}.png").write_bytes(b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>")
    with pytest.raises(PuncError, match="valid PNG"):
        publish_run(run, "toy", boards_dir, new_board=True)
    assert not (boards_dir / "toy").exists()  # the board this call would have created is not left behind


def test_symlinked_image_is_refused(runs_root: Path, boards_dir: Path, tmp_path: Path) -> None:
    run = make_run(runs_root, MODEL_A)
    manifest = [json.loads(x) for x in (run / "images.jsonl").read_text().splitlines()]
    h = manifest[0]["image_hash"]
    target = tmp_path / "outside.png"
    target.write_bytes(png_bytes((1, 2, 3)))
    path = run / "images" / h[:2] / f"{h}.png"
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(PuncError, match="link"):
        publish_run(run, "toy", boards_dir, new_board=True)


def test_large_runs_copy_first_image_per_prompt(runs_root: Path, boards_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(publish_mod, "IMAGE_BUDGET_BYTES", 100)
    assert IMAGE_BUDGET_BYTES > 100
    result = publish_run(make_run(runs_root, MODEL_A, k=3), "toy", boards_dir, new_board=True)
    info = json.loads((result.bundle_dir / "bundle.json").read_text())["images"]
    assert info["policy"] == "first_per_prompt" and info["copied"] == 2 and info["in_run"] == 6
    manifest = [json.loads(x) for x in (result.bundle_dir / "manifest.jsonl").read_text().splitlines()]
    firsts = {m["image_hash"] for m in manifest if m["index"] == 0}
    assert {p.stem for p in (result.bundle_dir / "images").glob("*.png")} == firsts == set(info["hashes"])


def test_bad_results_and_schema_version(runs_root: Path, boards_dir: Path) -> None:
    run = make_run(runs_root, MODEL_A)
    data = json.loads((run / "results.json").read_text())
    (run / "results.json").write_text(json.dumps(dict(data, schema_version=99)))
    with pytest.raises(PuncError, match="schema_version.*99"):
        publish_run(run, "toy", boards_dir, new_board=True)
    del data["overall"]
    (run / "results.json").write_text(json.dumps(data))
    with pytest.raises(PuncError, match="field 'overall'"):
        publish_run(run, "toy", boards_dir, new_board=True)
    with pytest.raises(PuncError, match="expected a run directory"):
        publish_run(runs_root / "nope", "toy", boards_dir, new_board=True)


def test_atomic_writes_keep_old_board_on_failure(runs_root: Path, boards_dir: Path, monkeypatch) -> None:
    board = _board(runs_root, boards_dir)
    before = {n: (board / n).read_bytes() for n in ("index.json", "README.md", "index.html")}
    import harness.run.jsonl as jsonl

    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("index.html"):
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(jsonl.os, "replace", failing_replace)
    from harness.leaderboard.build import build_board

    with pytest.raises(PuncError, match=r"cannot read or write .*simulated"):  # exit 2, not a traceback
        build_board("toy", boards_dir)
    monkeypatch.undo()
    assert (board / "index.html").read_bytes() == before["index.html"]  # old page, whole
    leftovers = [p.name for p in board.rglob("*") if p.name.endswith(".tmp") or ".staging-" in p.name]
    assert leftovers == []
    # a failing bundle write leaves no half bundle behind
    monkeypatch.setattr(jsonl.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError("simulated")))
    with pytest.raises(PuncError, match="simulated"):
        publish_run(make_run(runs_root, MODEL_C), "toy", boards_dir)
    monkeypatch.undo()
    assert len([p for p in (board / "runs").iterdir()]) == 1


def test_cli_publish_and_errors(runs_root: Path, boards_dir: Path, capsys) -> None:
    run = make_run(runs_root, MODEL_A)
    assert (
        run_cli(
            [
                "publish",
                str(run),
                "--board",
                "toy",
                "--boards-dir",
                str(boards_dir),
                "--new-board",
                "--name",
                "A",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "created board 'toy'" in out and "published" in out
    other = make_run(runs_root, MODEL_B, judge_fp="judge-fp-zzzz")
    assert run_cli(["publish", str(other), "--board", "toy", "--boards-dir", str(boards_dir)]) == 2
    err = capsys.readouterr().err
    assert "judge fingerprint differs" in err and "judge-fp-zzzz" in err and "--new-board" in err
    assert (
        run_cli(["publish", str(other), "--board", "../x", "--boards-dir", str(boards_dir), "--new-board"])
        == 2
    )
    assert "not allowed" in capsys.readouterr().err


def test_push_to_hub_offline_is_a_clear_error(runs_root: Path, boards_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    run = make_run(runs_root, MODEL_A)
    with pytest.raises(PuncError, match="offline mode") as err:
        publish_run(run, "toy", boards_dir, new_board=True, push_to_hub="someone/punc-board")
    assert "HF_HUB_OFFLINE=1" in str(err.value)
    publish_run(run, "toy", boards_dir, new_board=True)
    assert (
        run_cli(
            ["leaderboard", "push", "toy", "--repo", "someone/punc-board", "--boards-dir", str(boards_dir)]
        )
        == 2
    )
    err_text = capsys.readouterr().err
    assert "offline mode" in err_text and "hf_secret_token_value" not in err_text
    for path in boards_dir.rglob("*"):
        if path.is_file():
            assert b"hf_secret_token_value" not in path.read_bytes()
    with pytest.raises(PuncError, match="owner/name"):
        publish_run(run, "toy", boards_dir, push_to_hub="not a repo")


def test_push_unreachable_hub_is_a_clear_error(boards_dir: Path, runs_root: Path, monkeypatch) -> None:
    from harness.leaderboard import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    publish_run(make_run(runs_root, MODEL_A), "toy", boards_dir, new_board=True)

    class Unreachable:
        def __init__(self, token=None):
            pass

        def create_repo(self, **kwargs):
            raise ConnectionError("Failed to resolve 'huggingface.co'")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", Unreachable)
    with pytest.raises(PuncError, match="cannot reach the Hugging Face Hub") as err:
        hub.push_board(boards_dir / "toy", "someone/punc-board")
    assert "kept locally" in str(err.value)
