"""`punc eval` against a real `punc serve-judge` that fails: retries, no failure cached, re-run retries only those."""

import importlib.util
import json
from pathlib import Path

from cli_runner import run_punc
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def tiny_judge_module():
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_survives_judge_faults_and_retries_only_failures(tmp_path):
    from harness.config.judge import load_judge
    from harness.judges import build_judge
    from harness.judges._images import image_to_data_url
    from harness.judges.server import JudgeServer, image_fault_key, parse_fault_plan

    tiny_judge_module().build_tiny_captioner(tmp_path / "cap")
    (tmp_path / "local.yaml").write_text(
        "name: local\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n"
    )
    prompts = [{"id": f"p{i}", "text": f"a red circle {i}"} for i in range(6)]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(p) for p in prompts))
    (tmp_path / "t.yaml").write_text(
        "name: faults\nprompts: p.jsonl\nimages_per_prompt: 1\nscorers: [rouge1]\n"
    )
    images = {}
    for i in range(6):
        (tmp_path / "images" / f"p{i}").mkdir(parents=True)
        image = Image.new("RGB", (24, 24), (40 * i, 90, 200 - 30 * i))
        image.save(tmp_path / "images" / f"p{i}" / "0.png")
        images[f"p{i}"] = image
    key = {pid: image_fault_key(image_to_data_url(image)) for pid, image in images.items()}
    plan = {
        key["p0"]: ["500"],  # recovers on retry
        key["p1"]: ["drop"],  # connection dropped once, recovers
        key["p2"]: ["slow:3"],  # slower than the 1 s timeout once, recovers
        key["p3"]: ["500", "500", "500"],  # fails every attempt (max_retries 2)
        key["p4"]: ["empty"],  # an empty answer: an item error, not retried (greedy would repeat it)
    }
    local = build_judge(load_judge(tmp_path / "local.yaml"), device="cpu")
    args = [
        "eval",
        str(tmp_path / "t.yaml"),
        "-g",
        str(tmp_path / "images"),
        "-o",
        str(tmp_path / "run"),
        "-q",
    ]

    with JudgeServer(local, port=0, faults=parse_fault_plan(json.dumps(plan))) as server:
        remote = tmp_path / "remote.yaml"
        remote.write_text(
            f"name: remote\nbackend: openai\nmodel: tiny\nbase_url: {server.base_url}\n"
            "max_new_tokens: 6\nmax_retries: 2\ntimeout_s: 1\nconcurrency: 3\n"
        )
        code, out, err = run_punc(*args, "-j", str(remote))
        assert code == 1, err  # two captions failed for good: a script can tell
        assert server.stats["faults"] == 1 + 1 + 1 + 3  # HTTP errors, drops and timeouts (empty is an answer)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert sorted(f["prompt_id"] for f in results["failures"]) == ["p3", "p4"]
    assert results["counts"]["captions"] == 4 and not results["complete"]
    cached = [json.loads(line) for line in (tmp_path / "run" / "captions.jsonl").read_text().splitlines()]
    assert sorted(c["prompt_id"] for c in cached) == ["p0", "p1", "p2", "p5"]
    assert all(c["caption"].strip() for c in cached)
    assert "failed caption p3#0" in out and "failed after 3 attempts" in out
    assert "failed caption p4#0: the judge returned an empty caption" in out

    with JudgeServer(local, port=0) as healthy:  # the same judge, now healthy, on a new port
        remote.write_text(remote.read_text().replace(server.base_url, healthy.base_url))
        code, out, err = run_punc(*args, "-j", str(remote))
        assert code == 0, err
        assert healthy.stats["requests"] == 2, "only the two failed items are asked again"
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["complete"] and results["failures"] == []
    from harness.judges.base import CaptionRequest

    cached = {
        json.loads(line)["prompt_id"]: json.loads(line)["caption"]
        for line in (tmp_path / "run" / "captions.jsonl").open()
    }
    direct = local.caption(
        [CaptionRequest(key=pid, image=images[pid], prompt_text="") for pid in ("p3", "p4")]
    )
    assert [cached["p3"], cached["p4"]] == [r.text for r in direct]
