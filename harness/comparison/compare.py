"""`punc compare`: paired differences between runs, overall and per shift and category, corrected.

Every row of one comparison is a test; the p-values of all rows shown together form one family and
are adjusted together (Holm by default), so "significant" in the output means significant after
looking at everything that is printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from harness.comparison.paired import CORRECTIONS, RESAMPLES, paired_test
from harness.comparison.runs import GROUP_LABELS, RunValues, check_comparable, paired_prompts
from harness.errors import PuncError
from harness.run.schema import UNCERTAINTY_KEYS

ALPHA = 0.05
MIN_GROUP = 2


@dataclass
class ComparisonRow:
    a: str
    b: str
    group: str  # "overall", "shift=ood", "category=colour"
    metric: str  # u_ale | u_epi | u_tot
    n: int
    mean_a: float
    mean_b: float
    diff: float  # mean of a - b; negative: a is less uncertain
    low: float | None
    high: float | None
    p_value: float
    p_adjusted: float
    exact: bool
    verdict: str  # "a lower", "b lower" or "tied"


def groups_of(
    prompt_ids: list[str], labels: dict[str, dict[str, Any]], by: tuple[str, ...]
) -> dict[str, list[str]]:
    """'overall' and one group per value of each label in `by`, with at least MIN_GROUP prompts."""
    out: dict[str, list[str]] = {"overall": list(prompt_ids)}
    for label in by:
        members: dict[str, list[str]] = {}
        for pid in prompt_ids:
            value = labels.get(pid, {}).get(label)
            if value is not None and not isinstance(value, dict | list):
                members.setdefault(str(value), []).append(pid)
        for value, pids in sorted(members.items()):
            if len(pids) >= MIN_GROUP:
                out[f"{label}={value}"] = pids
    return out


def compare_pair(
    a: RunValues,
    b: RunValues,
    by: tuple[str, ...] = GROUP_LABELS,
    metrics: tuple[str, ...] = UNCERTAINTY_KEYS,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> list[ComparisonRow]:
    """Unadjusted rows (p_adjusted = p_value) for every group and metric of one pair of runs."""
    prompts = paired_prompts(a, b)
    if len(prompts) < MIN_GROUP:
        raise PuncError(
            f"{a.name!r} and {b.name!r} share {len(prompts)} scored prompt(s); a paired comparison "
            f"needs at least {MIN_GROUP}."
        )
    rows = []
    for group, pids in groups_of(prompts, a.labels, by).items():
        for metric in metrics:
            test = paired_test(
                [a.values[p][metric] for p in pids], [b.values[p][metric] for p in pids], resamples, seed
            )
            rows.append(
                ComparisonRow(
                    a=a.name,
                    b=b.name,
                    group=group,
                    metric=metric,
                    n=test.n,
                    mean_a=test.mean_a,
                    mean_b=test.mean_b,
                    diff=test.diff,
                    low=test.low,
                    high=test.high,
                    p_value=test.p_value,
                    p_adjusted=test.p_value,
                    exact=test.exact,
                    verdict="tied",
                )
            )
    return rows


def adjust(rows: list[ComparisonRow], correction: str = "holm", alpha: float = ALPHA) -> list[ComparisonRow]:
    """Adjust all rows' p-values as one family and set each verdict from the adjusted p-value."""
    if correction not in CORRECTIONS:
        raise PuncError(f"--correction: expected one of {', '.join(CORRECTIONS)}, got {correction!r}")
    adjusted = CORRECTIONS[correction]([r.p_value for r in rows])
    for row, p in zip(rows, adjusted, strict=True):
        row.p_adjusted = p
        row.verdict = "tied" if p >= alpha else ("a lower" if row.diff < 0 else "b lower")
    return rows


def compare_runs(
    runs: list[RunValues],
    by: tuple[str, ...] = GROUP_LABELS,
    correction: str = "holm",
    alpha: float = ALPHA,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> list[ComparisonRow]:
    """Every pair of runs, every group and metric; one correction over all of them."""
    if len(runs) < 2:
        raise PuncError("compare needs at least two runs")
    check_comparable(runs)
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        seen: set[str] = set()
        for run in runs:  # same model name twice: tell them apart by their folder
            if run.name in seen:
                run.name = f"{run.name} ({run.path.name})"
            seen.add(run.name)
    rows: list[ComparisonRow] = []
    for a, b in combinations(runs, 2):
        rows.extend(compare_pair(a, b, by, resamples=resamples, seed=seed))
    return adjust(rows, correction, alpha)


def rows_as_dicts(rows: list[ComparisonRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
