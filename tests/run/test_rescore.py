"""`--rescore` recomputes scores only: the append-only image and caption logs stay byte for byte the same."""

import importlib.util
import json
from pathlib import Path

from cli_runner import run_punc
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_rescore_keeps_images_and_captions(tmp_path):
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_tiny_captioner(tmp_path / "cap")
    (tmp_path / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    (tmp_path / "p.jsonl").write_text(
        "\n".join(json.dumps({"id": f"p{i}", "text": f"a red circle {i}"}) for i in range(3))
    )
    (tmp_path / "t.yaml").write_text(
        "name: rescore\nprompts: p.jsonl\nimages_per_prompt: 2\nscorers: [rouge1]\n"
    )
    for i in range(3):
        (tmp_path / "images" / f"p{i}").mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (16, 16), (80 * i, 100 * k, 50)).save(tmp_path / "images" / f"p{i}" / f"{k}.png")
    run = tmp_path / "run"
    args = [
        "eval",
        str(tmp_path / "t.yaml"),
        "-g",
        str(tmp_path / "images"),
        "-j",
        str(tmp_path / "j.yaml"),
        "-o",
        str(run),
        "-q",
    ]
    code, _, err = run_punc(*args)
    assert code == 0, err
    images_before = (run / "images.jsonl").read_bytes()
    captions_before = (run / "captions.jsonl").read_bytes()
    scores_before = (run / "scores.jsonl").read_text()

    code, _, err = run_punc(*args, "--rescore")
    assert code == 0, err
    assert (run / "images.jsonl").read_bytes() == images_before
    assert (run / "captions.jsonl").read_bytes() == captions_before
    assert sorted(scores_before.splitlines()) == sorted((run / "scores.jsonl").read_text().splitlines())
    (kept,) = run.glob("scores.*.jsonl.bak")
    assert kept.read_text() == scores_before
    assert json.loads((run / "results.json").read_text())["complete"]
