"""Read the per-prompt uncertainties of runs (run directories or board bundles) for paired comparison.

A run directory written by `punc eval` lists its images in images.jsonl; a bundle published on a board
lists them in manifest.jsonl. Both hold results.json, read through the schema.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.leaderboard.board_files import identity_differences, identity_of
from harness.run.reader import RunReader
from harness.run.schema import UNCERTAINTY_KEYS, Results

GROUP_LABELS = ("shift", "category")


@dataclass
class RunValues:
    """One run's per-prompt uncertainty means (for one scorer) and the seeds of its images."""

    path: Path
    name: str
    results: Results
    scorer: str
    values: dict[str, dict[str, float]]  # prompt_id -> u_* -> mean over images
    labels: dict[str, dict[str, Any]]  # prompt_id -> labels
    seeds: dict[str, dict[int, Any]] = field(default_factory=dict)  # prompt_id -> image index -> seed
    cost: dict[str, Any] | None = None


def _seeds(run: RunReader) -> dict[str, dict[int, Any]]:
    out: dict[str, dict[int, Any]] = defaultdict(dict)
    for rec in run.images(checked=False):
        index = rec.get("index")
        if isinstance(index, int) and "seed" in rec:
            out[str(rec.get("prompt_id"))][index] = rec.get("seed")
    return dict(out)


def _label(run: RunReader, results: Results) -> str:
    raw = run.bundle_meta() if run.is_bundle else None
    if isinstance(raw, dict) and isinstance(raw.get("label"), str) and raw["label"].strip():
        return raw["label"]
    return results.model_name


def load_run_values(run_dir: Path, scorer: str | None = None) -> RunValues:
    """Per-prompt U_ale, U_epi, U_tot of `scorer` (default: the run's primary scorer)."""
    run_dir = Path(run_dir)
    run = RunReader(run_dir)
    results = run.results
    chosen = scorer or results.primary_scorer
    available = sorted({s for p in results.per_prompt for s in p.uncertainty})
    if chosen is None or chosen not in available:
        raise PuncError(
            f"{run_dir / 'results.json'}: no per-prompt uncertainties for scorer {chosen!r}; "
            f"scorers with precision and recall in this run: {', '.join(available) or 'none'}"
        )
    values: dict[str, dict[str, float]] = {}
    labels: dict[str, dict[str, Any]] = {}
    for prompt in results.per_prompt:
        unc = prompt.uncertainty.get(chosen, {})
        if all(k in unc for k in UNCERTAINTY_KEYS):
            values[prompt.prompt_id] = {k: unc[k].mean for k in UNCERTAINTY_KEYS}
            labels[prompt.prompt_id] = prompt.labels
    cost = getattr(results, "cost", None)
    cost = cost.model_dump(mode="json") if hasattr(cost, "model_dump") else cost
    return RunValues(
        path=run_dir,
        name=_label(run, results),
        results=results,
        scorer=chosen,
        values=values,
        labels=labels,
        seeds=_seeds(run),
        cost=cost if isinstance(cost, dict) else None,
    )


def check_comparable(runs: list[RunValues]) -> None:
    """Refuse runs whose task, judge or scorers differ (the rule a board applies when publishing)."""
    first = identity_of(runs[0].results)
    for run in runs[1:]:
        diffs = identity_differences(first, identity_of(run.results))
        if diffs:
            lines = [d.replace("board has", "first run has") for d in diffs]
            raise PuncError(
                f"{run.path} cannot be compared with {runs[0].path}: the runs are not comparable.\n"
                + "\n".join(f"  {line}" for line in lines)
                + "\nCompare runs of the same task, judged by the same judge and scored by the same scorers."
            )


def paired_prompts(a: RunValues, b: RunValues) -> list[str]:
    """Prompts both runs scored, in a's order; refused when a shared prompt's images used other seeds."""
    shared = [pid for pid in a.values if pid in b.values]
    for pid in shared:
        sa, sb = a.seeds.get(pid, {}), b.seeds.get(pid, {})
        common = set(sa) & set(sb)
        differing = sorted(i for i in common if sa[i] != sb[i])
        if differing:
            i = differing[0]
            raise PuncError(
                f"{a.path} and {b.path}: prompt {pid!r} image {i} was drawn with seed {sa[i]!r} in "
                f"{a.name!r} and seed {sb[i]!r} in {b.name!r}; a paired comparison needs the same seeds "
                "(evaluate both models with the same task)."
            )
    return shared
