"""Pre-made images: links are refused with a per-item error (they were followed silently), and a file
that declares more pixels than the cap is an item error, not gigabytes of memory."""

from __future__ import annotations

import pytest
from PIL import Image

from harness.generators.base import ImageRequest
from harness.generators.premade import PremadeGenerator


def request(pid: str, index: int = 0) -> ImageRequest:
    return ImageRequest(prompt_id=pid, prompt_text="x", index=index, seed=0)


def test_links_in_a_folder_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(outside / "0.png")
    images = tmp_path / "images"
    (images / "real").mkdir(parents=True)
    Image.new("RGB", (8, 8), (1, 2, 3)).save(images / "real" / "0.png")
    (images / "filelink").mkdir()
    (images / "filelink" / "0.png").symlink_to(outside / "0.png")
    (images / "dirlink").symlink_to(outside, target_is_directory=True)
    results = PremadeGenerator(str(images)).generate(
        [request("real"), request("filelink"), request("dirlink")]
    )
    assert results[0].image is not None and results[0].error is None
    for result in results[1:]:
        assert result.image is None and "symbolic link" in result.error


def test_links_listed_in_a_manifest_are_refused(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "real.png")
    (tmp_path / "link.png").symlink_to(tmp_path / "real.png")
    (tmp_path / "m.jsonl").write_text('{"prompt_id": "a", "image_path": "link.png"}\n')
    (result,) = PremadeGenerator(str(tmp_path / "m.jsonl")).generate([request("a")])
    assert result.image is None and "symbolic link" in result.error


def test_pixel_cap_is_an_item_error(tmp_path, monkeypatch):
    (tmp_path / "images" / "a").mkdir(parents=True)
    Image.new("RGB", (64, 64)).save(tmp_path / "images" / "a" / "0.png")
    monkeypatch.setenv("PUNC_MAX_IMAGE_PIXELS", "1000")
    (result,) = PremadeGenerator(str(tmp_path / "images")).generate([request("a")])
    assert result.image is None and "over the cap" in result.error


@pytest.mark.parametrize("bad", ["a\n", "a/../b"])
def test_manifest_ids_ending_in_newline_are_refused(tmp_path, bad):
    import json

    from harness.errors import InputError

    (tmp_path / "m.jsonl").write_text(json.dumps({"prompt_id": bad, "image_path": "x.png"}) + "\n")
    with pytest.raises(InputError, match="field 'prompt_id'"):
        PremadeGenerator(str(tmp_path / "m.jsonl"))
