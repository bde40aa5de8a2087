"""The world's control generators, loaded through the generator registry."""

import pytest

from harness.errors import PuncError
from harness.generators import available_generators, resolve_generator
from harness.generators.base import ImageRequest
from harness.registry import GENERATORS
from harness.world.captions import caption
from harness.world.generators import scene_for_prompt
from harness.world.vocabulary import GEN_COLOURS, GEN_SHAPES


def test_registered_as_built_in_generators():
    found = GENERATORS.targets()
    assert found["world-renderer"] == "harness.world.generators:WorldRenderer"
    assert found["world-random"] == "harness.world.generators:RandomScene"
    assert available_generators()["world-random"].startswith("Prompt-blind control")
    with pytest.raises(PuncError, match="takes no argument"):
        resolve_generator("world-renderer:models/x")


def test_renderer_draws_what_the_prompt_says_including_unseen_concepts():
    import random

    rng = random.Random(0)
    assert caption(scene_for_prompt("a small purple diamond at the top left", rng)) == (
        "a small purple diamond at the top left"
    )
    # typos are read the way the world's parser reads them
    assert caption(scene_for_prompt("a large grepn staar at the bottom right", rng)) == (
        "a large green star at the bottom right"
    )
    # open attributes are filled, named ones kept
    scene = scene_for_prompt("a red shape at the center", rng)
    (obj,) = scene["objects"]
    assert obj["colour"] == "red" and obj["position"] == "center" and obj["size"] and obj["shape"]


def test_renderer_images_are_captioned_as_the_prompt_by_the_real_judge():
    from harness.world.models import caption_images, load_judge

    prompts = [
        "a small purple diamond at the top left",
        "a large orange heart at the center",
        "a small black ring at the bottom right",
        "a large blue cross at the top right",
    ]
    gen = resolve_generator("world-renderer:")
    items = gen.generate([ImageRequest(f"p{i}", t, 0, seed=5) for i, t in enumerate(prompts)])
    assert [it.recipe["truth"] for it in items] == prompts
    assert caption_images(load_judge(), [it.image for it in items]) == prompts


def test_random_scene_ignores_the_prompt_and_is_reproducible():
    gen = resolve_generator("world-random:")
    a = gen.generate([ImageRequest("p", "a small red star at the top left", 0, seed=3)])[0]
    b = gen.generate([ImageRequest("p", "a large purple heart at the center", 0, seed=3)])[0]
    assert a.image.tobytes() == b.image.tobytes() and a.recipe["scene"] == b.recipe["scene"]
    scenes = [
        gen.generate([ImageRequest(f"q{i}", "anything", 0, seed=i)])[0].recipe["scene"] for i in range(40)
    ]
    for s in scenes:
        (obj,) = s["objects"]
        assert obj["shape"] in GEN_SHAPES and obj["colour"] in GEN_COLOURS and s["background"] == "plain"
    assert len({caption(s) for s in scenes}) > 20  # prompt ids and seeds give different scenes
