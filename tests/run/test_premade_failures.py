"""Broken pre-made images fail their own item only; the run completes, lists them, and a rerun retries them."""

import importlib.util
import json
from pathlib import Path

from cli_runner import run_punc
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def build_captioner(folder):
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_captioner(folder)


def test_broken_images_fail_alone_and_are_retried(tmp_path):
    build_captioner(tmp_path / "cap")
    (tmp_path / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    prompts = [{"id": f"p{i}", "text": f"a red circle {i}"} for i in range(4)]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(p) for p in prompts))
    (tmp_path / "t.yaml").write_text(
        "name: premade\nprompts: p.jsonl\nimages_per_prompt: 2\nscorers: [rouge1]\n"
    )
    images = tmp_path / "images"
    for i in range(4):
        (images / f"p{i}").mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (24, 24), (40 * i, 60 * k, 100)).save(images / f"p{i}" / f"{k}.png")
    good = (images / "p1" / "1.png").read_bytes()
    (images / "p1" / "1.png").write_bytes(good[: len(good) // 2])  # truncated
    (images / "p2" / "0.png").write_text("not an image at all")
    (images / "p3" / "1.png").unlink()  # missing
    args = [
        "eval",
        str(tmp_path / "t.yaml"),
        "-g",
        str(images),
        "-j",
        str(tmp_path / "j.yaml"),
        "-o",
        str(tmp_path / "run"),
        "-q",
    ]

    code, out, err = run_punc(*args)
    assert code == 1, err  # finished with failed items
    assert "exit code 1: 3 item(s) failed" in err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    failed = sorted((f["prompt_id"], f["index"]) for f in results["failures"])
    assert failed == [("p1", 1), ("p2", 0), ("p3", 1)]
    assert results["complete"] is False
    assert results["counts"]["images"] == 5 and results["counts"]["captions"] == 5
    assert "failed generate p1#1" in out and "not a readable image" in out  # the summary, on stdout
    assert "failed generate p3#1" in out and "no image for prompt 'p3' index 1" in out

    Image.new("RGB", (24, 24), (1, 2, 3)).save(images / "p3" / "1.png")  # the user fixes one file
    code, out, err = run_punc(*args, "--allow-failures")
    assert code == 0, err  # the two remaining failures are accepted, and still listed
    assert "failed generate p2#0" in out and "exit code 1" not in err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert sorted((f["prompt_id"], f["index"]) for f in results["failures"]) == [("p1", 1), ("p2", 0)]
    assert results["counts"]["images"] == 6
    manifest = [json.loads(line) for line in (tmp_path / "run" / "images.jsonl").read_text().splitlines()]
    assert len(manifest) == 6, "finished images were not stored twice"
