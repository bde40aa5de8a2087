"""generator_ensemble: the caption-entropy split and the member disagreement on hand-built inputs, and the
baseline on real tiny pipelines captioned by the embedded judge."""

from __future__ import annotations

import math

import numpy as np
import pytest
from baseline_helpers import structured_image
from tiny_pipelines import build_tiny_sd_pipeline

from harness.baselines import build_baseline
from harness.baselines.base import Resources
from harness.baselines.generator_ensemble import caption_entropy_split, member_disagreement
from harness.config.judge import load_judge
from harness.errors import PuncError
from harness.locate import find_shipped


def test_caption_split_by_hand():
    # members agree with themselves, disagree with each other: all entropy is disagreement
    split = caption_entropy_split([["a red circle"] * 4, ["a blue circle"] * 4])
    assert split == pytest.approx({"total": math.log(2), "shared": 0.0, "disagreement": math.log(2)})
    # both members equally unsure between the same two captions: all entropy is shared
    split = caption_entropy_split([["a", "b", "a", "b"], ["b", "a", "b", "a"]])
    assert split == pytest.approx({"total": math.log(2), "shared": math.log(2), "disagreement": 0.0})
    # mixed: member 1 = {a: 1}, member 2 = {a: 1/2, b: 1/2}; pooled = {a: 3/4, b: 1/4}
    split = caption_entropy_split([["a", "a"], ["a", "b"]])
    pooled = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert split["total"] == pytest.approx(pooled)
    assert split["shared"] == pytest.approx(0.5 * math.log(2))
    assert split["disagreement"] == pytest.approx(pooled - 0.5 * math.log(2))
    # case and spacing do not make captions different
    assert caption_entropy_split([["A red  circle"], ["a red circle"]])["total"] == 0.0


def test_member_disagreement_by_hand():
    same = np.tile(np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 1.0]])[None], (3, 1, 1))
    assert member_disagreement(same) == pytest.approx(0.0, abs=1e-12)
    # two members, one noise: orthogonal features (cos 0) -> 1; opposite features (cos -1) -> 2
    assert member_disagreement(np.array([[[1.0, 0.0]], [[0.0, 1.0]]])) == pytest.approx(1.0)
    assert member_disagreement(np.array([[[1.0, 0.0]], [[-1.0, 0.0]]])) == pytest.approx(2.0)
    # per-noise values are averaged: noise 0 identical (0), noise 1 orthogonal (1)
    feats = np.array([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert member_disagreement(feats) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def other_member(tmp_path_factory):
    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("member") / "sd1", seed=1)


def test_identical_members_agree_and_different_members_do_not(tiny_pipe_dir, other_member, encoder_dir):
    judge = load_judge(find_shipped("judges/world.yaml"))
    resources = Resources(None, "cpu", judge)
    params = {"images": 3, "steps": 2, "encoder": str(encoder_dir)}
    same = build_baseline("generator_ensemble", {"members": [str(tiny_pipe_dir)] * 2, **params}, resources)
    out = same.evaluate("a red circle", [structured_image(0, 32)])
    assert out.u == pytest.approx(0.0, abs=1e-4)
    assert out.extra_scores["caption MI (disagreement)"] == pytest.approx(0.0, abs=1e-12)
    assert out.info["judge_calls"] == 6
    assert out.passes == 6 * (2 + 2) + 6  # per image: steps denoiser + VAE + encoder; plus judge calls
    mixed = build_baseline(
        "generator_ensemble", {"members": [str(tiny_pipe_dir), str(other_member)], **params}, resources
    )
    diff = mixed.evaluate("a red circle", [structured_image(0, 32)])
    assert diff.u > 0.01
    split = (
        diff.extra_scores["caption entropy total"],
        diff.extra_scores["caption entropy shared"],
        diff.extra_scores["caption MI (disagreement)"],
    )
    assert split[0] == pytest.approx(split[1] + split[2])
    no_captions = build_baseline(
        "generator_ensemble", {"members": [str(tiny_pipe_dir)] * 2, "captions": False, **params}, resources
    )
    assert no_captions.evaluate("a red circle", [structured_image(0, 32)]).extra_scores == {}
    assert "captions=entropy-split:judge=none" not in same.signature()
    resources.close()


def test_member_errors_are_user_errors(tmp_path, tiny_pipe_dir):
    with pytest.raises(PuncError, match="at least two members"):
        build_baseline("generator_ensemble", {"members": [str(tiny_pipe_dir)]}).signature()
    (tmp_path / "empty").mkdir()
    with pytest.raises(PuncError, match="holds no diffusers pipelines"):
        build_baseline("generator_ensemble", {"members": [str(tmp_path / "empty")]}).signature()


def test_missing_member_stops_the_stage_after_earlier_baselines_are_saved(
    tmp_path, tiny_pipe_dir, encoder_dir
):
    from harness.baselines import BASELINES_FILE, run_baselines
    from harness.config.prompts import PromptRecord
    from harness.config.task import ScorerSpec
    from harness.run.store import RunStore

    store = RunStore(tmp_path / "run")
    prompts = [PromptRecord(id="p0", text="a red circle")]
    images = {
        ("p0", k): store.store_image(structured_image(k, 32), "p0", k, k, {"steps": 2}) for k in range(2)
    }
    store.append_images(list(images.values()))
    specs = [
        ScorerSpec(name="seed_ensemble", params={"encoder": str(encoder_dir)}),
        ScorerSpec(
            name="generator_ensemble", params={"members": [str(tmp_path / "gone"), str(tiny_pipe_dir)]}
        ),
    ]
    with pytest.raises(PuncError):
        run_baselines(store, prompts, images, specs, str(tiny_pipe_dir), "cpu", progress=False)
    saved = (store.root / BASELINES_FILE).read_text().splitlines()
    assert len(saved) == 1 and '"seed_ensemble"' in saved[0]
