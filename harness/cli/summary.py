"""The summary at the end of `punc eval`: uncertainty per shift with confidence intervals, on stdout.

Progress and logs go to stderr, so `punc eval ... > summary.txt` (or `--json`) captures only this.
Groups of fewer than MIN_GROUP_PROMPTS prompts are marked: their intervals are too wide to trust.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.run.schema import GroupSummary, Results

MIN_GROUP_PROMPTS = 5
KEYS = ("precision", "recall", "u_ale", "u_epi", "u_tot")
IN_DISTRIBUTION = "none"


def _cell(group: GroupSummary, scorer: str, key: str) -> str:
    interval = group.metrics.get(scorer, {}).get(key)
    if interval is None:
        return "-"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def ordered_groups(results: Results) -> list[tuple[str, GroupSummary]]:
    """In-distribution (`none`) first, the shifts after it, then `all`."""
    shifts = sorted(results.by_shift.items(), key=lambda item: (item[0] != IN_DISTRIBUTION, item[0]))
    return [*shifts, ("all", results.overall)]


def summary_data(results: Results, out_dir: Path) -> dict[str, Any]:
    """What `--json` prints: the table's numbers, counts and failures, in a stable shape."""
    scorer = results.primary_scorer
    return {
        "results": str(out_dir / "results.json"),
        "model": results.model_name,
        "task": results.task.name,
        "limit": results.task.limit,
        "judge": results.judge.name,
        "primary_scorer": scorer,
        "complete": results.complete,
        "status": results.status,
        "counts": results.counts.model_dump(mode="json"),
        "groups": [
            {
                "shift": name,
                "prompts": group.n_prompts,
                "too_small": group.n_prompts < MIN_GROUP_PROMPTS,
                **{
                    key: (
                        group.metrics[scorer][key].model_dump(mode="json")
                        if scorer and key in group.metrics.get(scorer, {})
                        else None
                    )
                    for key in KEYS
                },
            }
            for name, group in ordered_groups(results)
        ],
        "failures": [f.model_dump(mode="json") for f in results.failures],
        "seconds": results.timings.get("total_s"),
    }


def print_summary(results: Results, out_dir: Path, as_json: bool = False) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary_data(results, out_dir), indent=2) + "\n")
        sys.stdout.flush()
        return
    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    scorer = results.primary_scorer
    limit = results.task.limit
    table = Table(
        title=f"{results.model_name} on {results.task.name}"
        + (f" (--limit {limit})" if limit else "")
        + f" (judge {results.judge.name}, {scorer})"
    )
    table.add_column("shift")
    table.add_column("prompts", justify="right")
    for key in KEYS:
        table.add_column(key, justify="right")
    small = False
    for name, group in ordered_groups(results):
        marker = ""
        if group.n_prompts < MIN_GROUP_PROMPTS:
            marker, small = "*", True
        table.add_row(
            name,
            f"{group.n_prompts}{marker}",
            *(_cell(group, scorer, k) if scorer else "-" for k in KEYS),
        )
    out.print(table)
    if small:
        out.print(f"* fewer than {MIN_GROUP_PROMPTS} prompts: too small to trust")
    counts = results.counts
    out.print(
        f"images {counts.images}/{counts.expected_images}, captions {counts.captions}/"
        f"{counts.expected_captions}, failed items {counts.failed_images + counts.failed_captions}; "
        f"{results.timings.get('total_s', 0):.1f} s",
        highlight=False,
    )
    for failure in results.failures[:10]:
        out.print(
            f"[red]failed[/red] {failure.stage} {failure.prompt_id}#{failure.index}: {escape(failure.error)}",
            highlight=False,
            markup=True,
        )
    if len(results.failures) > 10:
        out.print(f"... and {len(results.failures) - 10} more failures (see failures.jsonl)")
    out.print(f"results: {out_dir / 'results.json'}", highlight=False, soft_wrap=True)
