"""An API key given through the environment appears nowhere: run directory, logs, output, published bundle."""

import importlib.util
import json
from pathlib import Path

from cli_runner import run_punc
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-Zq81-must-never-be-written-7731"


def tiny_judge_module():
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def files_containing(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_api_key_never_written(tmp_path, monkeypatch):
    from harness.config.judge import load_judge
    from harness.judges import build_judge
    from harness.judges.server import JudgeServer

    tiny = tiny_judge_module()
    tiny.build_tiny_captioner(tmp_path / "cap")
    (tmp_path / "local.yaml").write_text(
        "name: local\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n"
    )
    prompts = [
        {"id": f"p{i}", "text": f"a red circle {i}", "labels": {"shift": "none" if i < 2 else "ood"}}
        for i in range(4)
    ]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(p) for p in prompts))
    (tmp_path / "t.yaml").write_text(
        "name: secrets\nprompts: p.jsonl\nimages_per_prompt: 1\nscorers: [rouge1]\n"
    )
    for i in range(4):
        (tmp_path / "images" / f"p{i}").mkdir(parents=True)
        Image.new("RGB", (24, 24), (60 * i, 20, 200)).save(tmp_path / "images" / f"p{i}" / "0.png")

    monkeypatch.setenv("PUNC_TEST_JUDGE_KEY", KEY)
    judge = build_judge(load_judge(tmp_path / "local.yaml"), device="cpu")
    with JudgeServer(judge, port=0, api_key=KEY) as server:
        (tmp_path / "remote.yaml").write_text(
            f"name: remote\nbackend: openai\nmodel: tiny\nbase_url: {server.base_url}\n"
            "api_key_env: PUNC_TEST_JUDGE_KEY\nmax_new_tokens: 6\nmax_retries: 1\n"
        )
        run_dir = tmp_path / "run"
        code, out, err = run_punc(
            "eval",
            str(tmp_path / "t.yaml"),
            "-g",
            str(tmp_path / "images"),
            "-j",
            str(tmp_path / "remote.yaml"),
            "-o",
            str(run_dir),
        )
        assert code == 0, err
        assert server.stats["requests_with_bearer"] == 4  # the key was really used
    results = json.loads((run_dir / "results.json").read_text())
    assert results["counts"]["captions"] == 4 and results["complete"]

    code2, out2, err2 = run_punc(
        "publish", str(run_dir), "--board", "secrets", "--boards-dir", str(tmp_path / "boards"), "--new-board"
    )
    assert code2 == 0, err2
    assert (tmp_path / "boards" / "secrets").is_dir()
    assert files_containing(run_dir, KEY) == []
    assert files_containing(tmp_path / "boards", KEY) == []
    assert KEY not in out + err + out2 + err2
