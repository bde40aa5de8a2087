import json

from PIL import Image

from harness.generators import resolve_generator
from harness.generators.base import ImageRequest


def req(pid, k):
    return ImageRequest(prompt_id=pid, prompt_text="t", index=k, seed=k)


def test_folder_layout_and_failures_per_item(tmp_path):
    (tmp_path / "p1").mkdir()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "p1" / "0.png")
    (tmp_path / "p1" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    gen = resolve_generator(str(tmp_path))
    assert gen.describe()["kind"] == "premade"
    ok, broken, missing, unsafe = gen.generate([req("p1", 0), req("p1", 1), req("p2", 0), req("../p1", 0)])
    assert ok.error is None and ok.image.getpixel((0, 0)) == (255, 0, 0)
    assert ok.recipe["file_sha256"]
    assert "not a readable image" in broken.error
    assert "no image for prompt 'p2' index 0" in missing.error
    assert unsafe.error is not None and unsafe.image is None


def test_jsonl_manifest_counts_indices_per_prompt(tmp_path):
    for name, colour in (("a.png", (0, 0, 255)), ("b.png", (0, 255, 0))):
        Image.new("RGB", (4, 4), colour).save(tmp_path / name)
    manifest = tmp_path / "images.jsonl"
    manifest.write_text(
        "\n".join(
            json.dumps(r)
            for r in [{"prompt_id": "x", "image_path": "a.png"}, {"prompt_id": "x", "image_path": "b.png"}]
        )
    )
    gen = resolve_generator(str(manifest))
    first, second = gen.generate([req("x", 0), req("x", 1)])
    assert first.image.getpixel((0, 0)) == (0, 0, 255)
    assert second.image.getpixel((0, 0)) == (0, 255, 0)
