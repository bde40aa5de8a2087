"""Load the shipped embedded-world models with plain from_pretrained and check sane output."""

import random

import pytest
import torch

from harness.world import parse_caption, random_scene, render
from harness.world.models import GENERATOR_LONG, GENERATOR_SHORT, JUDGE

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def judge():
    from transformers import AutoImageProcessor, AutoTokenizer, VisionEncoderDecoderModel

    m = VisionEncoderDecoderModel.from_pretrained(str(JUDGE)).eval()
    return m, AutoImageProcessor.from_pretrained(str(JUDGE)), AutoTokenizer.from_pretrained(str(JUDGE))


def _caption(judge, images):
    m, proc, tok = judge
    pv = proc(images=images, return_tensors="pt").pixel_values
    with torch.no_grad():
        ids = m.generate(pixel_values=pv, max_new_tokens=32)
    return tok.batch_decode(ids, skip_special_tokens=True)


def test_judge_generation_config(judge):
    m, _, tok = judge
    gc = m.generation_config
    assert gc.decoder_start_token_id == tok.bos_token_id
    assert gc.eos_token_id == tok.eos_token_id and gc.pad_token_id == tok.pad_token_id


def test_judge_auto_class():
    from transformers import AutoModelForImageTextToText

    m = AutoModelForImageTextToText.from_pretrained(str(JUDGE))
    assert type(m).__name__ == "VisionEncoderDecoderModel"


def test_judge_captions_renders(judge):
    rng = random.Random(99)
    scenes = [random_scene(rng) for _ in range(40)]
    imgs, truth = zip(*[render(s, rng) for s in scenes], strict=False)
    caps = _caption(judge, list(imgs))
    ok = sum(
        parse_caption(c)["shape"] == parse_caption(t)["shape"] for c, t in zip(caps, truth, strict=False)
    )
    assert ok >= 34, list(zip(caps, truth, strict=False))


@pytest.mark.parametrize("path", [GENERATOR_SHORT, GENERATOR_LONG])
def test_generator_loads_and_generates(path, judge):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(path))
    pipe.set_progress_bar_config(disable=True)
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    prompts = ["a large red square at the top left", "a large blue circle at the bottom right"] * 2
    gens = [torch.Generator().manual_seed(i) for i in range(4)]
    out = pipe(
        prompt=prompts,
        num_inference_steps=10,
        guidance_scale=4.0,
        generator=gens,
        height=32,
        width=32,
        output_type="pil",
    )
    assert len(out.images) == 4 and out.images[0].size == (32, 32)
    gens = [torch.Generator().manual_seed(i) for i in range(4)]
    again = pipe(
        prompt=prompts,
        num_inference_steps=10,
        guidance_scale=4.0,
        generator=gens,
        height=32,
        width=32,
        output_type="np",
    ).images
    import numpy as np

    assert np.allclose(np.asarray(out.images[0]) / 255.0, again[0], atol=2 / 255)
    if path == GENERATOR_LONG:
        caps = _caption(judge, out.images)
        assert sum(parse_caption(c)["colour"] in ("red", "blue") for c in caps) >= 3, caps
