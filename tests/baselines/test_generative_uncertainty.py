"""generative_uncertainty on a tiny Stable Diffusion pipeline: fit from a user folder, cache, same-noise
generations, and the semantic-likelihood entropy's closed form when the posterior collapses to the MAP."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from baseline_helpers import structured_image

from harness.baselines import build_baseline
from harness.baselines.base import Resources
from harness.baselines.feature_entropy import SIGMA2
from harness.baselines.generative_uncertainty import folder_fit_examples, world_fit_examples
from harness.baselines.laplace import LaplaceFit
from harness.errors import InputError, PuncError


@pytest.fixture()
def fit_folder(tmp_path):
    folder = tmp_path / "fit"
    folder.mkdir()
    lines = []
    for i in range(6):
        structured_image(i, 32).save(folder / f"im{i}.png")
        lines.append(json.dumps({"file_name": f"im{i}.png", "text": f"a red circle {i}"}))
    (folder / "metadata.jsonl").write_text("\n".join(lines[:4]) + "\n")  # two images stay unconditional
    return folder


def _baseline(tiny_pipe_dir, encoder_dir, fit_folder, **params):
    resources = Resources(str(tiny_pipe_dir), "cpu")
    spec = {"fit_data": str(fit_folder), "fit_images": 6, "samples": 3, "noises": 1, "steps": 2}
    return build_baseline(
        "generative_uncertainty", {**spec, "encoder": str(encoder_dir), **params}, resources
    )


def test_fit_is_cached_per_model_and_fit_set(tiny_pipe_dir, encoder_dir, fit_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("PUNC_CACHE_DIR", str(tmp_path / "cache"))
    first = _baseline(tiny_pipe_dir, encoder_dir, fit_folder)
    fit = first.laplace()
    assert not first.fit_from_cache and fit.n_fit == 6 and fit.sigma2 > 0 and fit.prior_precision > 0
    assert np.all(fit.weight_var > 0)
    second = _baseline(tiny_pipe_dir, encoder_dir, fit_folder)
    again = second.laplace()
    assert second.fit_from_cache
    assert np.array_equal(again.weight_var, fit.weight_var) and again.sigma2 == fit.sigma2
    assert len(list((tmp_path / "cache" / "laplace").iterdir())) == 1
    other = _baseline(tiny_pipe_dir, encoder_dir, fit_folder, fit_images=4)
    assert other._cache_path() != first._cache_path()


def test_same_noise_map_posterior_gives_the_entropy_floor(
    tiny_pipe_dir, encoder_dir, fit_folder, tmp_path, monkeypatch
):
    """With zero posterior variance the M generations share their initial noise and weights, so they are
    identical (up to batched float rounding: at most one 8-bit level) and the semantic-likelihood entropy
    is the floor (D/2)(log 2πσ² + 1)."""
    monkeypatch.setenv("PUNC_CACHE_DIR", str(tmp_path / "cache"))
    baseline = _baseline(tiny_pipe_dir, encoder_dir, fit_folder)
    layer = baseline.resources.adapter().denoiser.conv_out
    baseline.fit = LaplaceFit(
        np.zeros(tuple(layer.weight.shape)), np.zeros(layer.out_channels), 1.0, 1.0, 1, 0.0, 0.0
    )
    images = baseline.generate("a red circle", (32, 32), 0)
    assert len(images) == 3
    first = np.asarray(images[0]).astype(int)
    assert all(np.abs(first - np.asarray(im).astype(int)).max() <= 1 for im in images[1:])
    out = baseline.evaluate("a red circle", [structured_image(0, 32)])
    d = baseline.resources.encoder(baseline._encoder_path).encode(images[:1]).shape[1]
    floor = 0.5 * d * (math.log(2 * math.pi * SIGMA2) + 1.0)
    assert floor <= out.u < floor + 0.01 * d
    assert out.passes == 3 * 2 + 3 + 3  # M x steps denoiser evaluations, M VAE decodes, M encoder images
    # a real posterior spreads the generations: entropy above the floor
    baseline.fit = None
    baseline.laplace()
    wide = LaplaceFit(np.full(tuple(layer.weight.shape), 0.05), None, 1.0, 1.0, 1, 0.0, 0.0)
    baseline.fit = wide
    assert baseline.evaluate("a red circle", [structured_image(0, 32)]).u > out.u + 1.0


def test_folder_fit_set_reads_prompts_and_refuses_bad_input(fit_folder, tmp_path):
    examples = folder_fit_examples(fit_folder, 10)
    assert [t for _, t in examples] == [
        "a red circle 0",
        "a red circle 1",
        "a red circle 2",
        "a red circle 3",
        "",
        "",
    ]
    with pytest.raises(InputError, match="fit_data"):
        folder_fit_examples(tmp_path / "missing", 4)
    (fit_folder / "metadata.jsonl").write_text('{"file_name": "im0.png", "text": "x"}\nnot json\n')
    with pytest.raises(InputError, match=r"metadata.jsonl:2"):
        folder_fit_examples(fit_folder, 4)
    (fit_folder / "metadata.jsonl").write_text('{"file_name": "../outside.png", "text": "x"}\n')
    with pytest.raises(PuncError, match="inside its folder"):
        folder_fit_examples(fit_folder, 4)


def test_world_fit_set_is_the_generators_training_distribution():
    from harness.world.prompts import eval_texts
    from harness.world.vocabulary import GEN_COLOURS, GEN_SHAPES

    examples = world_fit_examples(40, seed=0)
    banned = eval_texts()
    assert len(examples) == 40 and all(im.size == (32, 32) for im, _ in examples)
    for _, text in examples:
        assert text not in banned
        assert any(s in text for s in GEN_SHAPES) and any(c in text for c in GEN_COLOURS)
