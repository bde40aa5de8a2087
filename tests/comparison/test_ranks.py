"""Rank intervals against situations whose answer is known."""

from __future__ import annotations

import numpy as np

from harness.comparison.ranks import rank_intervals


def test_well_separated_models_have_point_intervals() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.4, 50)
    values = {
        "worst": {f"p{i}": v + 0.3 for i, v in enumerate(base)},
        "best": {f"p{i}": v for i, v in enumerate(base)},
        "middle": {f"p{i}": v + 0.1 for i, v in enumerate(base)},
    }
    rows, n = rank_intervals(values, resamples=500)
    assert n == 50
    assert [(r.model, r.rank, r.low, r.high) for r in rows] == [
        ("best", 1, 1, 1),
        ("middle", 2, 2, 2),
        ("worst", 3, 3, 3),
    ]
    assert [r.tied_with_next for r in rows] == [False, False, None]


def test_noisy_neighbours_share_an_interval_and_tie() -> None:
    # B - A per prompt: +-0.2 alternating plus 0.01, mean 0.01; about half of the resamples flip the order
    diffs = [0.21 if i % 2 else -0.19 for i in range(40)]
    values = {
        "a": {f"p{i}": 0.5 for i in range(40)},
        "b": {f"p{i}": 0.5 + d for i, d in enumerate(diffs)},
        "far": {f"p{i}": 0.95 for i in range(40)},
    }
    rows, _ = rank_intervals(values, resamples=1000)
    by_model = {r.model: r for r in rows}
    assert (by_model["a"].rank, by_model["a"].low, by_model["a"].high) == (1, 1, 2)
    assert (by_model["b"].rank, by_model["b"].low, by_model["b"].high) == (2, 1, 2)
    assert by_model["a"].tied_with_next is True and by_model["a"].p_next > 0.5
    assert (by_model["far"].low, by_model["far"].high) == (3, 3)
    assert by_model["b"].tied_with_next is False


def test_identical_models_tie_and_only_shared_prompts_count() -> None:
    values = {
        "x": {"p1": 0.2, "p2": 0.4, "p3": 0.3},
        "y": {"p1": 0.2, "p2": 0.4, "p3": 0.3, "p4": 0.9},
    }
    rows, n = rank_intervals(values, resamples=200)
    assert n == 3
    assert [(r.rank, r.low, r.high) for r in rows] == [(1, 1, 1), (1, 1, 1)]  # equal means, equal ranks
    assert rows[0].tied_with_next is True and rows[0].p_next == 1.0
    assert rank_intervals({}, resamples=10) == ([], 0)
