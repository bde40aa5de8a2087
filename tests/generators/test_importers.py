"""Importers for peers' image layouts: GenEval's output folders and T2I-CompBench's file naming are read
as pre-made generators, matching prompts by text, and a run scores them end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from cli_runner import run_punc
from PIL import Image

from harness.errors import InputError, PuncError
from harness.generators import resolve_generator
from harness.generators.base import ImageRequest

ROOT = Path(__file__).resolve().parents[2]


def req(text: str, k: int, pid: str = "any.id") -> ImageRequest:
    return ImageRequest(prompt_id=pid, prompt_text=text, index=k, seed=k)


def geneval_folder(root: Path, prompts: list[str], per_prompt: int = 2) -> dict[tuple[str, int], tuple]:
    """GenEval's layout: NNNNN/metadata.jsonl (its line of the prompt file), NNNNN/samples/KKKK.png."""
    colours = {}
    for n, text in enumerate(prompts):
        folder = root / f"{n:05d}"
        (folder / "samples").mkdir(parents=True)
        (folder / "metadata.jsonl").write_text(json.dumps({"tag": "single_object", "prompt": text}) + "\n")
        for k in range(per_prompt):
            colour = (30 * n + 10, 50 * k + 5, 200)
            Image.new("RGB", (16, 16), colour).save(folder / "samples" / f"{k:04d}.png")
            colours[(text, k)] = colour
    return colours


def test_geneval_folders_are_matched_by_prompt_text(tmp_path):
    colours = geneval_folder(tmp_path, ["a photo of a lamp", "a photo of two cups"])
    gen = resolve_generator(f"geneval:{tmp_path}")
    assert gen.describe()["kind"] == "geneval"
    # request order and prompt ids need not follow the folder numbering
    results = gen.generate([req("a photo of two cups", 1, "x9"), req("a photo of a lamp", 0, "x1")])
    assert [r.error for r in results] == [None, None]
    assert results[0].image.getpixel((0, 0)) == colours[("a photo of two cups", 1)]
    assert results[1].image.getpixel((0, 0)) == colours[("a photo of a lamp", 0)]
    assert results[0].recipe["file"].endswith("00001/samples/0001.png") and results[0].recipe["file_sha256"]


def test_geneval_missing_broken_and_unknown_items_fail_alone(tmp_path):
    geneval_folder(tmp_path, ["a photo of a lamp"])
    (tmp_path / "00000" / "samples" / "0001.png").write_bytes(b"\x89PNG\r\n\x1a\n cut")
    gen = resolve_generator(f"geneval:{tmp_path}")
    ok, broken, missing, unknown = gen.generate(
        [
            req("a photo of a lamp", 0),
            req("a photo of a lamp", 1),
            req("a photo of a lamp", 2),
            req("a cat", 0),
        ]
    )
    assert ok.error is None
    assert "not a readable image" in broken.error
    assert "00000/samples/0002.png" in missing.error
    assert "no folder" in unknown.error and "'a cat'" in unknown.error


def test_geneval_duplicate_or_missing_prompts_are_input_errors(tmp_path):
    geneval_folder(tmp_path / "dup", ["a photo of a lamp", "a photo of a lamp"])
    with pytest.raises(InputError, match="00001/metadata.jsonl"):
        resolve_generator(f"geneval:{tmp_path / 'dup'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PuncError, match="no NNNNN/metadata.jsonl"):
        resolve_generator(f"geneval:{tmp_path / 'empty'}")


def test_t2i_compbench_names_order_images_by_the_running_counter(tmp_path):
    files = {  # T2I-CompBench counts over the whole folder; listing order is not counter order
        "a green bench and a blue bowl_000003.png": (1, 1, 1),
        "a green bench and a blue bowl_000000.png": (2, 2, 2),
        "a cat_with_underscores_000001.png": (3, 3, 3),
        "a cat_with_underscores_000002.png": (4, 4, 4),
        "a green bench and a blue bowl-grid-00000.png": (9, 9, 9),  # their grids are not samples
    }
    for name, colour in files.items():
        Image.new("RGB", (8, 8), colour).save(tmp_path / name)
    gen = resolve_generator(f"t2i_compbench:{tmp_path}")
    assert gen.describe()["kind"] == "t2i_compbench"
    got = gen.generate(
        [
            req("a green bench and a blue bowl", 0),
            req("a green bench and a blue bowl", 1),
            req("a cat_with_underscores", 1),
            req("a green bench and a blue bowl", 2),
        ]
    )
    assert [g.image.getpixel((0, 0)) if g.image else None for g in got] == [
        (2, 2, 2),
        (1, 1, 1),
        (4, 4, 4),
        None,
    ]
    assert "has 2 image(s)" in got[3].error and "index 2" in got[3].error


def test_t2i_compbench_ignores_links_that_leave_the_folder(tmp_path):
    outside = tmp_path / "outside.png"
    Image.new("RGB", (8, 8), (7, 7, 7)).save(outside)
    folder = tmp_path / "samples"
    folder.mkdir()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(folder / "a lamp_000000.png")
    (folder / "a lamp_000001.png").symlink_to(outside)
    gen = resolve_generator(f"t2i_compbench:{folder}")
    first, second = gen.generate([req("a lamp", 0), req("a lamp", 1)])
    assert first.image.getpixel((0, 0)) == (1, 2, 3)
    assert second.image is None and "has 1 image(s)" in second.error


def build_captioner(folder: Path) -> None:
    spec = importlib.util.spec_from_file_location("judge_tiny_models", ROOT / "tests" / "tiny_judges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_tiny_captioner(folder)


def test_geneval_task_scores_imported_geneval_images_end_to_end(tmp_path):
    import datasets

    prompts = ["a photo of a lamp", "a photo of two cups", "a photo of a red kite"]
    metadata = tmp_path / "evaluation_metadata.jsonl"
    metadata.write_text("".join(json.dumps({"tag": "t", "include": [], "prompt": p}) + "\n" for p in prompts))
    task = yaml.safe_load((ROOT / "tasks" / "geneval.yaml").read_text())
    task["prompts"]["data_files"] = str(metadata)
    task.update(images_per_prompt=2, scorers=["rouge1"], primary_scorer="rouge1", bootstrap_samples=0)
    (tmp_path / "geneval.yaml").write_text(yaml.safe_dump(task))
    geneval_folder(tmp_path / "images", list(reversed(prompts)))  # folder numbers differ from prompt order
    build_captioner(tmp_path / "cap")
    (tmp_path / "j.yaml").write_text("name: tinycap\nbackend: transformers\nmodel: cap\nmax_new_tokens: 6\n")
    old_cache = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = str(tmp_path / "cache")
    try:
        code, out, err = run_punc(
            "eval", str(tmp_path / "geneval.yaml"), "-g", f"geneval:{tmp_path / 'images'}",
            "-j", str(tmp_path / "j.yaml"), "-o", str(tmp_path / "run"), "-q",
        )  # fmt: skip
    finally:
        datasets.config.HF_DATASETS_CACHE = old_cache
    assert code == 0, err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["counts"]["images"] == 6 and results["complete"] is True
    manifest = [json.loads(line) for line in (tmp_path / "run" / "images.jsonl").read_text().splitlines()]
    text_of = {f"geneval.p{i + 1:05d}": p for i, p in enumerate(prompts)}
    for row in manifest:
        folder = Path(row["recipe"]["file"]).parent.parent
        assert json.loads((folder / "metadata.jsonl").read_text())["prompt"] == text_of[row["prompt_id"]]
