"""The board's statistics: rank intervals for the ranking, and paired comparisons for every pair of runs.

Computed once at build time and embedded in index.json, so the static page only displays them.
A pair is compared overall and per shift; its rows are one family for Holm's correction (the compare
view shows one pair at a time). `punc compare` gives the same rows, and per category too.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import combinations
from pathlib import Path
from typing import Any

from harness.comparison.compare import adjust, compare_pair
from harness.comparison.ranks import rank_intervals
from harness.comparison.runs import RunValues, load_run_values
from harness.errors import PuncError
from harness.leaderboard.board_files import json_safe

RESAMPLES = 2000
SEED = 0
RANK_METRIC = "u_tot"
BOARD_GROUPS = ("shift",)


def load_board_runs(bundles: list[tuple[str, Path, str | None]]) -> dict[str, RunValues]:
    """bundle id -> its per-prompt values (primary scorer); bundles without uncertainties are skipped."""
    out: dict[str, RunValues] = {}
    for bundle_id, path, scorer in bundles:
        if scorer is None:
            continue
        try:
            run = load_run_values(path, scorer)
        except PuncError:
            continue
        run.name = bundle_id
        out[bundle_id] = run
    return out


def is_partial(run: RunValues) -> bool:
    return not run.results.complete or bool(run.results.failures)


def board_ranks(runs: dict[str, RunValues]) -> dict[str, Any]:
    """Ranks over the prompts all ranked runs share; partial runs are left out of the ranking (their
    missing prompts would shrink everyone's sample) unless every run is partial."""
    ranked = {bid: run for bid, run in runs.items() if not is_partial(run)} or runs
    rows, n = rank_intervals(
        {bid: {p: v[RANK_METRIC] for p, v in run.values.items()} for bid, run in ranked.items()},
        resamples=RESAMPLES,
        seed=SEED,
    )
    return json_safe(
        {
            "metric": RANK_METRIC,
            "n_prompts": n,
            "resamples": RESAMPLES,
            "correction": "holm",
            "unranked": sorted(set(runs) - set(ranked)),
            "rows": [asdict(r) for r in rows],
        }
    )


def board_comparisons(runs: dict[str, RunValues]) -> dict[str, Any]:
    pairs = []
    for a, b in combinations(runs.values(), 2):
        entry: dict[str, Any] = {"a": a.name, "b": b.name}
        try:
            rows = adjust(compare_pair(a, b, BOARD_GROUPS, resamples=RESAMPLES, seed=SEED), "holm")
            entry["rows"] = [asdict(r) for r in rows]
        except PuncError as exc:
            entry["error"] = str(exc)
        pairs.append(entry)
    return json_safe(
        {
            "correction": "holm",
            "alpha": 0.05,
            "resamples": RESAMPLES,
            "groups": ["overall", *BOARD_GROUPS],
            "pairs": pairs,
        }
    )
