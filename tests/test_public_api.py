"""The public API used the way a notebook uses it: evaluate the embedded default task on a few prompts,
load the run back, and check its numbers against the run's own score lines."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import harness


def test_public_names_are_the_documented_classes() -> None:
    from harness.baselines.base import Baseline
    from harness.generators.base import Generator
    from harness.judges.base import Judge
    from harness.run.schema import Results
    from harness.scorers.base import TextScorer

    assert (harness.Generator, harness.Judge, harness.Scorer, harness.Baseline, harness.Results) == (
        Generator,
        Judge,
        TextScorer,
        Baseline,
        Results,
    )
    assert set(harness.__all__) >= {
        "evaluate",
        "load_run",
        "Generator",
        "Judge",
        "Scorer",
        "Baseline",
        "Results",
    }
    with pytest.raises(AttributeError):
        _ = harness.not_a_public_name


def test_evaluate_the_embedded_default_and_load_it_back(tmp_path: Path) -> None:
    out = tmp_path / "notebook"
    results = harness.evaluate("world_default", limit=1, images_per_prompt=2, out=out, device="cpu")
    shifts = {p.labels["shift"] for p in results.per_prompt}
    assert len(results.per_prompt) == len(shifts) == 4  # one prompt of each shift
    assert results.counts.images == 8 and results.counts.captions == 8

    run = harness.load_run(out)
    assert isinstance(run, harness.RunReader)
    assert run.results.model_dump() == results.model_dump()
    assert len(run.images()) == 8 and len(run.captions()) == 8
    assert all(run.image_path(r["image_hash"]).is_file() for r in run.images())

    # U_tot of each prompt is the mean over its images of 1 - BERTScore F1 (one caption per image)
    f1 = defaultdict(list)
    for line in run.scores():
        if line["scorer"] == "bertscore":
            f1[line["prompt_id"]].append(line["values"]["f1"])
    for prompt in run.results.per_prompt:
        expected = float(np.mean([1.0 - v for v in f1[prompt.prompt_id]]))
        assert prompt.uncertainty["bertscore"]["u_tot"].mean == pytest.approx(expected, abs=1e-12)

    again = harness.evaluate("world_default", limit=1, images_per_prompt=2, out=out, device="cpu")
    assert again.counts == results.counts  # resumed from the run directory: nothing recomputed
    assert again.counts.recomputed_for_batch_stability == 0
    assert again.per_prompt == results.per_prompt


def test_load_run_of_a_folder_without_results_is_a_user_error(tmp_path: Path) -> None:
    from harness.errors import PuncError

    with pytest.raises(PuncError, match="no results.json"):
        harness.load_run(tmp_path)
