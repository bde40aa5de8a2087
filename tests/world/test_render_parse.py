import random

import numpy as np
import pytest

from harness.world import caption, parse_caption, random_scene, render
from harness.world.vocabulary import BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES


def test_vocabulary_sizes():
    assert len(SHAPES) >= 8 and len(COLOURS) >= 8 and len(SIZES) >= 2
    assert len(POSITIONS) >= 5 and len(BACKGROUNDS) >= 3


def test_render_is_deterministic_and_sized():
    sc = {
        "objects": [{"shape": "star", "colour": "red", "size": "large", "position": "center"}],
        "background": "dotted",
    }
    a, da = render(sc)
    b, db = render(sc)
    assert a.size == (32, 32) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert da == db == "a large red star at the center on a dotted background"


@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_differ(shape):
    base = {"colour": "blue", "size": "large", "position": "center"}
    img = np.asarray(render({"objects": [{"shape": shape, **base}], "background": "plain"})[0]).astype(int)
    for other in SHAPES:
        if other != shape:
            o = np.asarray(render({"objects": [{"shape": other, **base}], "background": "plain"})[0]).astype(
                int
            )
            assert np.abs(img - o).sum() > 500, (shape, other)


def test_colour_is_drawn():
    img = np.asarray(
        render(
            {
                "objects": [{"shape": "square", "colour": "red", "size": "large", "position": "top left"}],
                "background": "plain",
            }
        )[0]
    )
    r, g, b = img[8, 8]
    assert r > 180 and g < 80 and b < 80
    assert tuple(img[24, 24]) == (128, 128, 128)


def test_caption_roundtrip_random_scenes():
    rng = random.Random(0)
    for _ in range(300):
        sc = random_scene(rng)
        _, desc = render(sc, rng)
        p = parse_caption(desc)
        assert p["background"] == sc["background"]
        got = {o["position"]: o for o in p["objects"]}
        for o in sc["objects"]:
            assert got[o["position"]] == o


def test_caption_template():
    sc = {
        "objects": [
            {"shape": "heart", "colour": "black", "size": "small", "position": "bottom right"},
            {"shape": "ring", "colour": "white", "size": "large", "position": "top left"},
        ],
        "background": "plain",
    }
    assert caption(sc) == "a large white ring at the top left and a small black heart at the bottom right"


def test_parser_tolerates_typos_and_noise():
    p = parse_caption("A smal redd cirlce in the Top Left, on a stripped background.")
    assert (p["shape"], p["colour"], p["size"], p["position"], p["background"]) == (
        "circle",
        "red",
        "small",
        "top left",
        "striped",
    )
    p = parse_caption("a blue star at the centre")
    assert p["position"] == "center" and p["size"] is None
    assert parse_caption("")["objects"] == []
    assert parse_caption("zzz qqq")["shape"] is None
