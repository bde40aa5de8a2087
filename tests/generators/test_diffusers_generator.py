import numpy as np
import pytest
from tiny_pipelines import build_tiny_sd_pipeline

from harness.errors import PuncError
from harness.generators import resolve_generator
from harness.generators.base import ImageRequest


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd")


def requests(n):
    return [ImageRequest("p", f"a red circle {i}", i, seed=100 + i, steps=3, guidance=2.0) for i in range(n)]


def test_loads_a_local_folder_with_from_pretrained_and_records_the_recipe(pipeline_dir):
    gen = resolve_generator(str(pipeline_dir), device="cpu")
    assert gen.describe()["pipeline_class"] == "StableDiffusionPipeline"
    (item,) = gen.generate(requests(1))
    assert item.error is None and item.image.size == (16, 16)
    recipe = item.recipe
    assert recipe["seed"] == 100 and recipe["steps"] == 3 and recipe["guidance"] == 2.0
    assert recipe["scheduler"] == "DDIMScheduler" and recipe["dtype"] == "float32"
    assert {"diffusers", "torch"} <= set(recipe["versions"])
    assert recipe["revision"].startswith("local-sha256:")


def test_each_image_reproduces_alone_from_its_seed(pipeline_dir):
    gen = resolve_generator(str(pipeline_dir), device="cpu")
    batch = gen.generate(requests(3))
    alone = gen.generate([requests(3)[2]])[0]
    # Same seed alone or in a batch: equal up to one 8-bit level, from float summation order in
    # batched kernels (the noise itself is drawn per image, independently of the batch).
    diff = np.abs(np.asarray(batch[2].image, dtype=int) - np.asarray(alone.image, dtype=int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    assert not np.array_equal(np.asarray(batch[0].image), np.asarray(batch[1].image))


def test_unreachable_hub_id_fails_at_once_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PuncError) as info:
        resolve_generator("some-org/some-pipeline-that-is-not-cached")
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "local folder" in message and "hf download" in message
