import math

import numpy as np
import pytest

from harness.config.prompts import PromptRecord
from harness.run.aggregate import bootstrap_interval, grouped, prompt_results, summarize


def score(pid, index, sample, p, r):
    f = 2 * p * r / (p + r)
    return {
        "prompt_id": pid,
        "index": index,
        "sample_index": sample,
        "scorer": "s",
        "values": {"precision": p, "recall": r, "f1": f},
    }


def test_samples_are_averaged_per_image_then_mean_and_std_over_images():
    prompts = [PromptRecord(id="a", text="x", labels={"shift": "none", "category": "c1"})]
    scores = [score("a", 0, 0, 0.8, 0.6), score("a", 0, 1, 0.6, 0.6), score("a", 1, 0, 0.5, 1.0)]
    (result,) = prompt_results(prompts, scores, {"s"}, {"a": 2}, {})
    # image 0: P = (0.8 + 0.6) / 2 = 0.7, image 1: P = 0.5 -> mean 0.6, sample std sqrt(0.02)
    assert result.metrics["s"]["precision"].mean == pytest.approx(0.6)
    assert result.metrics["s"]["precision"].std == pytest.approx(math.sqrt(0.02))
    assert result.uncertainty["s"]["u_ale"].mean == pytest.approx(0.4)
    assert result.uncertainty["s"]["u_epi"].mean == pytest.approx(1 - 0.8)
    f_img0 = (2 * 0.8 * 0.6 / 1.4 + 2 * 0.6 * 0.6 / 1.2) / 2
    f_img1 = 2 * 0.5 * 1.0 / 1.5
    assert result.uncertainty["s"]["u_tot"].mean == pytest.approx(1 - (f_img0 + f_img1) / 2)
    assert result.n_captions == 3 and result.n_images == 2


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = np.linspace(0, 1, 50)
    a = bootstrap_interval(values, 2000, seed=1)
    b = bootstrap_interval(values, 2000, seed=1)
    assert a == b
    assert a.mean == pytest.approx(0.5)
    assert a.low < a.mean < a.high
    # standard error of the mean of 50 evenly spread values is about 0.041: the 95% interval is about +-0.08
    assert 0.05 < a.high - a.mean < 0.11
    single = bootstrap_interval([0.3], 100, seed=0)
    assert (single.low, single.high) == (0.3, 0.3)


def test_groups_by_shift():
    prompts = [
        PromptRecord(id="a", text="x", labels={"shift": "none"}),
        PromptRecord(id="b", text="y", labels={"shift": "ood"}),
        PromptRecord(id="c", text="z", labels={"shift": "ood"}),
    ]
    scores = [score("a", 0, 0, 0.9, 0.9), score("b", 0, 0, 0.8, 0.2), score("c", 0, 0, 0.6, 0.4)]
    results = prompt_results(prompts, scores, {"s"}, {}, {})
    groups = grouped(results, "shift", 100, 0)
    assert groups["ood"].n_prompts == 2
    assert groups["ood"].metrics["s"]["u_epi"].mean == pytest.approx(1 - 0.3)
    assert summarize(results, 100, 0).metrics["s"]["recall"].mean == pytest.approx(0.5)
